"""Reading JSON that users hand over (batch files, QA sets): failures worded for them.

``json.loads`` fails in more ways than :class:`json.JSONDecodeError`, and can
return strings that are not text (lone surrogates from ``"\\ud800"``); every
reader of user JSON words those cases the same way through these helpers.
"""

from __future__ import annotations

import json
from typing import Any


def json_error_reason(error: ValueError | RecursionError) -> str:
    """Why ``json.loads`` refused a text, short and on one line.

    ``json.loads`` raises more than :class:`json.JSONDecodeError`: a plain
    :class:`ValueError` for an integer over Python's 4,300-digit limit and
    :class:`RecursionError` for deep nesting. Readers catch
    ``(ValueError, RecursionError)`` and word all three with this. Python's
    advice after the ``;`` (``sys.set_int_max_str_digits()``) is dropped: a
    user cannot act on it.
    """
    if isinstance(error, json.JSONDecodeError):
        return error.msg
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return " ".join(str(error).split(";")[0].split())[:120]


def holds_unpaired_surrogate(value: Any) -> bool:
    """Whether parsed JSON holds a lone surrogate (from a ``"\\ud800"`` escape) in any key or string.

    Such a string is not text: it cannot be written as UTF-8, so it would fail
    later (hashing a paragraph, writing the report) instead of being refused
    here. The walk uses a list, not recursion: JSON that ``json.loads`` just
    managed to parse can be one level too deep for a recursive check.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
