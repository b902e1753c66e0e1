"""The corpus's data files: TOML files in the corpus folder that hold what coopqa knows about *this* corpus.

``glossary.toml`` (:mod:`coopqa.search.glossary`) and ``examples.toml`` (:mod:`coopqa.ui.examples`) travel with
the documents, so a user who indexes another corpus gets that corpus's names and examples, or none, never the
shipped corpus's. They are not documents: the corpus reader only reads ``.txt``/``.md``/``.html``/``.pdf`` files.
Every problem is a :class:`~coopqa.errors.ConfigError` whose message is one line naming the file.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from coopqa.errors import ConfigError

_AT_LINE = re.compile(r"at line (\d+)")


def one_line(text: object, limit: int = 120) -> str:
    """``text`` on one line (whitespace runs made one space), cut to ``limit`` characters: safe inside a message."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def read_corpus_toml(path: Path, hint: str, table: str | None = None) -> dict[str, Any] | None:
    """The TOML document at ``path``, or ``None`` when there is no such file.

    Unreadable, not UTF-8 or not TOML is a one-line :class:`ConfigError` naming ``path`` and the line; when
    ``table`` names the file's array of tables (``entry`` for ``[[entry]]``), the error also says which of them
    holds the line, counted from 1.
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({one_line(error.strerror or error)})", hint) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text", hint) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        where = ""
        line = _AT_LINE.search(str(error))
        if table is not None and line is not None:
            header = re.compile(rf"\s*\[\[\s*{re.escape(table)}\s*\]\]")
            before = text.splitlines()[: int(line.group(1))]
            count = sum(1 for row in before if header.match(row))
            where = f" {table} {count}:" if count else ""
        raise ConfigError(f"{path}:{where} not valid TOML: {one_line(error, 200)}", hint) from None
