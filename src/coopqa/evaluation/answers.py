"""Short-answer metrics: exact match and token F1, with SQuAD's normalisation adapted to French.

SQuAD lower-cases, drops punctuation and the English articles; French needs more
for two spans to compare as a reader means them: accents folded (users and
annotators disagree on « Etat » / « État »), both apostrophes unified and elided
articles split off (« l’OIM » is « OIM »), and the French articles and the
partitive (le, la, les, l, un, une, des, du, de, d) dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_ARTICLES = frozenset({"le", "la", "les", "l", "un", "une", "des", "du", "de", "d"})
_PUNCTUATION = re.compile(r"[^\w\s]|_")


def normalise_answer(text: str) -> list[str]:
    """The tokens an answer is compared by."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(character for character in folded if not unicodedata.combining(character))
    folded = folded.replace("’", "'").replace("'", " ")
    folded = _PUNCTUATION.sub(" ", folded)
    return [token for token in folded.split() if token not in _ARTICLES]


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when the two answers normalise to the same tokens."""
    return float(normalise_answer(prediction) == normalise_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD's token-overlap F1 between the normalised answers (1.0 when both are empty)."""
    predicted, expected = normalise_answer(prediction), normalise_answer(gold)
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def best_over_golds(prediction: str, golds: list[str]) -> tuple[float, float]:
    """(exact match, F1) against the closest of several gold answers, as SQuAD scores them."""
    return max(exact_match(prediction, gold) for gold in golds), max(token_f1(prediction, gold) for gold in golds)
