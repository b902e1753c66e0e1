"""The organisations, places and forum bodies an English or Arabic question names, in the form the French corpus writes them.

Why: English and Arabic questions are ranked by meaning alone (French BM25 cannot read them), and
multilingual-e5 confuses the corpus's proper names across languages: « متى تأسست منظمة العمل
الدولية؟ » (when was the ILO founded?) first finds « Fondée en 1951, l'OIM… », « And the Athens one? »
the passage on Manila. The names the corpus is about are few and fixed (its organisations, the forum's
host countries and cities), so a question's « ILO » or « منظمة العمل الدولية » is read as the corpus's
« OIT » and, like a year or an ordinal (:mod:`coopqa.search.figures`), brings the passage that names it
first among the best few. A bilingual glossary is the oldest tool of cross-language retrieval; this one
holds only the names the corpus itself uses (an unknown name pins nothing).

Measured on the fit halves of the English and Arabic sets (docs/languages.md): organisations
raised Arabic hit@1 0.867 → 0.933; places, English follow-ups 0.643 → 0.714; the forum's bodies with a
follow-up pinning its topic's names, Arabic follow-ups 0.600 → 0.800. Held-out halves unchanged or better.

The names are the corpus's, not coopqa's: they are data, ``glossary.toml`` in the corpus folder (its header
describes the format), read by :meth:`Glossary.load`. A corpus without one pins no names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from coopqa.corpus_data import one_line, read_corpus_toml
from coopqa.errors import ConfigError
from coopqa.index import fold

GLOSSARY_FILE = "glossary.toml"
#: What an entry's key may name: an organisation, a place (country or city), one of the forum's named bodies.
KINDS = ("org", "place", "body")
#: An entry's fields: its key, then where each pattern is searched (the English question, the Arabic one, a French passage).
FIELDS = ("key", "en", "ar", "fr")
#: The question languages the glossary reads; French questions are matched by BM25 already.
QUESTION_LANGUAGES = ("en", "ar")
_KEY = re.compile(r"(?P<kind>[^:\s]+):(?P<name>\S+)")
_HINT = f"fix the entry (the format is described at the top of the shipped corpus/{GLOSSARY_FILE}), or delete the file to pin no names"


@dataclass(frozen=True)
class GlossaryEntry:
    """One name: its ``kind:Name`` key and how an English question, an Arabic question and a French passage write it."""

    key: str
    en: re.Pattern[str]
    ar: re.Pattern[str]
    fr: re.Pattern[str]


@dataclass(frozen=True)
class Glossary:
    """The corpus's names in other languages; :meth:`empty` (no entries) pins nothing."""

    entries: tuple[GlossaryEntry, ...] = ()
    _passage_names: Callable[[str], frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Per glossary, not per process: two corpora's glossaries never share an answer. Cached: the same passages come back.
        object.__setattr__(self, "_passage_names", lru_cache(maxsize=1024)(self._match_passage))

    @classmethod
    def empty(cls) -> Glossary:
        return cls()

    @classmethod
    def load(cls, corpus_dir: Path) -> Glossary:
        """The glossary of the corpus in ``corpus_dir`` (its ``glossary.toml``); empty when there is none.

        Any problem in the file is a one-line :class:`ConfigError` naming the file and the entry.
        """
        path = corpus_dir / GLOSSARY_FILE
        data = read_corpus_toml(path, _HINT, table="entry")
        if data is None:
            return cls.empty()
        unknown = sorted(set(data) - {"entry"})
        if unknown:
            raise ConfigError(f"{path}: unknown table or key {one_line(unknown[0], 60)!r} (the file holds only [[entry]] tables)", _HINT)
        entries = data.get("entry", [])
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            raise ConfigError(f"{path}: 'entry' must be written as [[entry]] tables", _HINT)
        seen: set[str] = set()
        parsed = []
        for number, entry in enumerate(entries, start=1):
            parsed.append(_entry(entry, f"{path}: entry {number}", seen))
        return cls(tuple(parsed))

    def asked_names(self, question: str, language: str) -> frozenset[str]:
        """The names an English or Arabic ``question`` uses, as ``"org:OIT"`` or ``"place:Athenes"``; none for other languages."""
        if language not in QUESTION_LANGUAGES or not self.entries:
            return frozenset()
        folded = question.lower() if language == "ar" else fold(question)
        return frozenset(entry.key for entry in self.entries if getattr(entry, language).search(folded))

    def corpus_names(self, passage: str) -> frozenset[str]:
        """The glossary's names a French passage uses."""
        return self._passage_names(passage) if self.entries else frozenset()

    def _match_passage(self, passage: str) -> frozenset[str]:
        folded = fold(passage)
        return frozenset(entry.key for entry in self.entries if entry.fr.search(folded))


def _entry(entry: dict[str, Any], where: str, seen: set[str]) -> GlossaryEntry:
    """One ``[[entry]]`` table checked and compiled; ``seen`` collects the keys so far, to refuse one used twice."""
    key = entry.get("key")
    if isinstance(key, str) and key:
        where = f"{where} ({one_line(key, 60)})"
    for name in FIELDS:
        if name not in entry:
            raise ConfigError(f"{where}: {name!r} is missing (an entry has {', '.join(FIELDS)})", _HINT)
        if not isinstance(entry[name], str):
            raise ConfigError(f"{where}: {name!r} is not text", _HINT)
        if not entry[name].strip():
            raise ConfigError(f"{where}: {name!r} is empty", _HINT)
    extra = sorted(set(entry) - set(FIELDS))
    if extra:
        raise ConfigError(f"{where}: unknown field {one_line(extra[0], 60)!r} (an entry has {', '.join(FIELDS)})", _HINT)
    match = _KEY.fullmatch(entry["key"])
    if match is None:
        raise ConfigError(f"{where}: 'key' must be kind:Name without spaces (kind one of {', '.join(KINDS)})", _HINT)
    if match["kind"] not in KINDS:
        raise ConfigError(f"{where}: unknown kind {one_line(match['kind'], 40)!r} (one of {', '.join(KINDS)})", _HINT)
    if entry["key"] in seen:
        raise ConfigError(f"{where}: key used twice (each name has one entry)", _HINT)
    seen.add(entry["key"])
    patterns = {}
    for name in FIELDS[1:]:
        try:
            patterns[name] = re.compile(entry[name])
        except re.error as error:
            raise ConfigError(f"{where}: {name!r} is not a valid regular expression ({one_line(error)})", _HINT) from None
    return GlossaryEntry(entry["key"], **patterns)
