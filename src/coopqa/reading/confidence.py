"""How much to trust a short answer: the probability that it is right, from a small calibrator over several signals.

Why not the reader's margin alone: with reader r3 on the shipped QA set, ``sigmoid(margin)`` was 1.000 for
80 % of the answers and its best-scored fifth was right no more often (69 %) than the rest (68 %). Selective
question answering (Kamath, Jia and Liang, ACL 2020) trains a calibrator on several features instead: the
span's scores and length, whether the passages read agree, whether the answer is of the kind asked for, and
retrieval's own scores. This module holds the features' names, the calibrator (a logistic regression, stored
as plain numbers so the query path needs no learning library) and its threshold: an answer is ``confident``
when its probability clears the threshold chosen for 90 % precision on calibration data.

The calibrator is fitted by ``training/fit_confidence.py`` on questions held out from the reader's training
and from every reported figure, and ships beside the reader's weights
(``coopqa/model/weights/reader-confidence.json``). It names the reader delta it was fitted for: a calibrator
fitted for other weights is refused, and the answer then falls back to ``sigmoid(margin)``, never confident.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from coopqa.errors import ModelError

#: The signals of one short answer, in the calibrator's order. Every one is a number; flags are 0 or 1.
FEATURES = (
    "margin",  # the span's score minus its passage's no-answer score
    "span_score",  # start + end logit
    "null_score",  # the passage's lowest no-answer score
    "span_chars",  # log(1 + characters of the answer)
    "start_prob",  # the highest softmax probability of a start position in the passage (one clear start, or many)
    "end_prob",  # the same for the end
    "runner_up_gap",  # the span's score minus the passage's best span apart from it (capped at 20): one reading or two
    "typed",  # the question asks for a kind of answer (a date, an amount, a person…) and the span is of that kind
    "pinned_sentence",  # read inside the sentence naming the year or edition the question names
    "in_highlight",  # the answer lies in the sentence(s) retrieval highlights: reader and retrieval agree
    "sentence_cosine",  # the answer's sentence's cosine with the question
    "sentence_rank",  # its rank among its passage's sentences by cosine (0: retrieval's best)
    "sentence_lexical",  # its BM25 score as a share of the best sentence's
    "defined",  # the long form of an acronym the question asks about, as the text defines it
    "cosine",  # retrieval: the best passage's cosine
    "fused",  # retrieval: the answering passage's fused score
    "zscore",  # retrieval: how far the best cosine stands out of the candidates'
    "french",  # the question is in French (the reader's training language, and the corpus's)
    "follow_up",  # the question is a follow-up, read against its conversation's passage
)


def sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, value))))


@dataclass(frozen=True)
class Calibrator:
    """``P(right) = sigmoid(bias + Σ weight × (feature − mean) / scale)``, and the threshold for ``confident``."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    #: Probability from which an answer is ``confident``: chosen for 90 % precision on calibration data.
    threshold: float
    #: SHA-256 of the reader delta the calibrator was fitted for.
    reader_sha256: str
    #: How it was fitted: data, command, figures (free-form, for the record).
    card: dict[str, object]

    def probability(self, values: Mapping[str, float]) -> float:
        total = self.bias
        for name, mean, scale, weight in zip(self.features, self.mean, self.scale, self.weights):
            total += weight * (float(values.get(name, 0.0)) - mean) / scale
        return sigmoid(total) if math.isfinite(total) else 0.0

    def save(self, path: Path) -> None:
        record = asdict(self)
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Calibrator:
        """The calibrator in ``path``; a missing, unreadable or malformed file is a one-line :class:`ModelError` naming it."""
        hint = "refit it: HF_HUB_OFFLINE=1 .venv/bin/python training/fit_confidence.py (training/README.md)"
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(f"the answer calibrator {path} is missing", hint) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ModelError(f"the answer calibrator {path} cannot be read ({error})", hint) from None
        try:
            features = tuple(str(name) for name in record["features"])
            unknown = [name for name in features if name not in FEATURES]
            if unknown:
                raise ValueError(f"unknown feature {unknown[0]!r}")
            numbers = {key: tuple(float(value) for value in record[key]) for key in ("mean", "scale", "weights")}
            if any(len(values) != len(features) for values in numbers.values()):
                raise ValueError("'mean', 'scale' and 'weights' must hold one number per feature")
            if any(scale <= 0 for scale in numbers["scale"]):
                raise ValueError("every 'scale' must be positive")
            return cls(
                features,
                numbers["mean"],
                numbers["scale"],
                numbers["weights"],
                float(record["bias"]),
                float(record["threshold"]),
                str(record["reader_sha256"]),
                dict(record.get("card", {})),
            )
        except KeyError as error:
            raise ModelError(f"the answer calibrator {path} has no {error.args[0]!r}", hint) from None
        except (TypeError, ValueError) as error:
            raise ModelError(f"the answer calibrator {path} is malformed: {error}", hint) from None


@dataclass(frozen=True)
class Confidence:
    """What the front ends show of a short answer's trust: its probability and whether it clears the threshold."""

    score: float
    confident: bool


def judge(values: Mapping[str, float], calibrator: Calibrator | None) -> Confidence:
    """The answer's confidence: the calibrator's, or without one ``sigmoid(margin)`` and never confident."""
    if calibrator is None:
        return Confidence(sigmoid(float(values.get("margin", 0.0))), False)
    score = calibrator.probability(values)
    return Confidence(score, score >= calibrator.threshold)
