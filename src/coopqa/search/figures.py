"""The figures a question pins down (a year, an edition's ordinal), and the passage that holds them.

Why: the shipped corpus's neighbouring passages on one subject differ mostly by such figures (the forum's
editions, one a year and each with its number; the EU programmes, each signed in its year), and
retrieval's rank-1 misses are mostly a neighbour: « Dans quel pays a eu lieu le FMMD de 2011 ? » first
finds the passage about the first editions. Similarity weighs the one token « 2011 » among twenty, and an
ordinal is written « 10ème », « 10e » or « dixième », which BM25 does not match. So among retrieval's best
few passages, the first one that holds every figure the question names goes first; when the best already
does, or none does, the order stays retrieval's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from coopqa.index import fold

#: Ordinals from « deuxième » up: « premier » / « première » / « first » mostly mean "earliest" or "leading"
#: (« sa première saison », « fini premier »), not an edition's number.
_ORDINAL_WORDS = {
    "deuxieme": "2",
    "troisieme": "3",
    "quatrieme": "4",
    "cinquieme": "5",
    "sixieme": "6",
    "septieme": "7",
    "huitieme": "8",
    "neuvieme": "9",
    "dixieme": "10",
    "onzieme": "11",
    "douzieme": "12",
    "third": "3",
    "fourth": "4",
    "fifth": "5",
    "sixth": "6",
    "seventh": "7",
    "eighth": "8",
    "ninth": "9",
    "tenth": "10",
    "eleventh": "11",
    "twelfth": "12",
}
#: A whole ordinal word: « dix-huitième » is no « huitième ».
_ORDINAL_WORD = re.compile(rf"(?<![\w-])({'|'.join(_ORDINAL_WORDS)})\b")
#: Arabic ordinals from the 2nd to the 12th, masculine or feminine, with the article and maybe a glued « و », « ف », « ب »
#: or « ل » (« والرابع ؟ », « الدورة الحادية عشرة »): Arabic questions are matched to French passages by these figures.
_ARABIC_ORDINAL_STEMS = {"ثاني": 2, "ثالث": 3, "رابع": 4, "خامس": 5, "سادس": 6, "سابع": 7, "ثامن": 8, "تاسع": 9, "عاشر": 10, "حادي": 1}
_ARABIC_ORDINAL = re.compile(rf"(?<!\w)[وفبل]?ال({'|'.join(_ARABIC_ORDINAL_STEMS)})ة?(\s+عشرة?)?(?!\w)")
#: An ordinal in digits (« 10ème », « 10e », « 2nd », « 10th »), from 2 up.
_ORDINAL_DIGITS = re.compile(r"\b([2-9]|[1-9]\d)(?:e|eme|nd|rd|th)\b")
#: A year: bare small numbers (« les 4 jours », « 3 villes ») name too many other things to pin a passage.
_YEAR = re.compile(r"\b((?:1[5-9]|20)\d\d)\b")


@lru_cache(maxsize=1024)
def figures(text: str) -> frozenset[str]:
    """The years and ordinals ``text`` names, as ``"y2011"`` and ``"o10"`` (« 10ème », « dixième » and « 10th » are one).

    Cached: the same few passages are checked against every question that names a figure.
    """
    folded = fold(text)
    years = {f"y{year}" for year in _YEAR.findall(folded)}
    ordinals = {f"o{number}" for number in _ORDINAL_DIGITS.findall(folded)} | {f"o{_ORDINAL_WORDS[word]}" for word in _ORDINAL_WORD.findall(folded)}
    for stem, teen in _ARABIC_ORDINAL.findall(folded):
        number = _ARABIC_ORDINAL_STEMS[stem] + (10 if teen else 0)
        if number >= 2:  # « الحادي » alone is no ordinal of an edition
            ordinals.add(f"o{number}")
    return frozenset(years | ordinals)


def figures_first(
    order: np.ndarray, texts: Sequence[str], asked: frozenset[str], held: Callable[[str], frozenset[str]] = figures
) -> np.ndarray:
    """``order`` with the first of the passages whose ``texts`` are given (its best ones) that holds every ``asked`` figure moved to the front.

    ``held`` reads what a passage holds (its figures; the retriever adds the glossary's names it uses).
    """
    if not asked or not texts:
        return order
    for position, text in enumerate(texts):
        if asked <= held(text):
            if position == 0:
                return order
            chosen = order[position]
            return np.concatenate([[chosen], order[order != chosen]])
    return order
