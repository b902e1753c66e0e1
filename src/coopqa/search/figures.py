"""The figures a question pins down (a year, an edition's ordinal, an amount), and the passage that holds them.

Why: the shipped corpus's neighbouring passages on one subject differ mostly by such figures (the forum's
editions, one a year and each with its number; the EU programmes, each with its amount and year), and
retrieval's rank-1 misses are mostly a neighbour: « Dans quel pays a eu lieu le FMMD de 2011 ? » first
finds the passage about the first editions. Similarity weighs the one token « 2011 » among twenty, and an
ordinal is written « 10ème », « 10e » or « dixième », which BM25 does not match. So among retrieval's best
few passages, the first one that holds every figure the question names goes first; when the best already
does, or none does, the order stays retrieval's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from coopqa.search.answer_type import fold

_ORDINAL_WORDS = {
    "premier": "1",
    "premiere": "1",
    "deuxieme": "2",
    "second": "2",
    "seconde": "2",
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
    "first": "1",
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
_ORDINAL_WORD = re.compile(rf"\b({'|'.join(_ORDINAL_WORDS)})\b")
#: A number, with the ordinal ending it may carry (« 10ème », « 10e », « 1er », « 10th »).
_FIGURE = re.compile(r"\b(\d+)(?:e|eme|er|ere|th|st|nd|rd)?\b")


def figures(text: str) -> frozenset[str]:
    """The numbers ``text`` names, ordinals written in words (French or English) included, as digit strings."""
    folded = fold(text)
    return frozenset(_FIGURE.findall(folded)) | {_ORDINAL_WORDS[word] for word in _ORDINAL_WORD.findall(folded)}


def figures_first(order: np.ndarray, texts: Sequence[str], asked: frozenset[str]) -> np.ndarray:
    """``order`` with the first of the passages whose ``texts`` are given (its best ones) that holds every ``asked`` figure moved to the front."""
    if not asked or not texts:
        return order
    for position, text in enumerate(texts):
        if asked <= figures(text):
            if position == 0:
                return order
            chosen = order[position]
            return np.concatenate([[chosen], order[order != chosen]])
    return order
