"""Combine the dense and lexical evidence about each candidate passage.

Four signals per candidate, each scaled to [0, 1] over the candidate set
(cosines min-max, BM25 by its maximum):

* the passage's cosine with the question, and its BM25 score;
* the best cosine and the best BM25 score among the passage's *sentences*:
  a factoid question is usually answered by one sentence, and a long passage
  that holds that sentence should not lose to a neighbour that merely shares
  the topic.

``convex`` (the default) adds them with fixed weights; ``rrf`` (reciprocal rank
fusion) is kept for comparison. Measured on PIAF v1.0 and on the shipped QA set
(docs/quality.md); the weights come from that measurement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Signals:
    """Per-candidate scores, aligned with the candidate array."""

    passage_dense: np.ndarray
    passage_lexical: np.ndarray
    sentence_dense: np.ndarray
    sentence_lexical: np.ndarray


def scale_cosine(scores: np.ndarray) -> np.ndarray:
    spread = float(scores.max() - scores.min()) if scores.size else 0.0
    return (scores - scores.min()) / spread if spread > 0 else np.ones_like(scores)


def scale_bm25(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


@dataclass(frozen=True)
class Fusion:
    method: str = "convex"
    passage_dense: float = 0.375
    passage_lexical: float = 0.25
    sentence_dense: float = 0.125
    sentence_lexical: float = 0.25
    rrf_constant: int = 60

    def __post_init__(self) -> None:
        if self.method not in ("rrf", "convex"):
            raise ValueError(f"unknown fusion method {self.method!r}")
        weights = (self.passage_dense, self.passage_lexical, self.sentence_dense, self.sentence_lexical)
        if min(weights) < 0 or sum(weights) <= 0:
            raise ValueError("fusion weights must be non-negative and not all zero")

    def combine(self, signals: Signals) -> np.ndarray:
        """Fused score of each candidate (higher is better)."""
        if self.method == "rrf":
            return sum(
                (self._reciprocal_rank(s) for s in (signals.passage_dense, signals.passage_lexical)),
                start=np.zeros(len(signals.passage_dense)),
            )
        return (
            self.passage_dense * scale_cosine(signals.passage_dense)
            + self.passage_lexical * scale_bm25(signals.passage_lexical)
            + self.sentence_dense * scale_cosine(signals.sentence_dense)
            + self.sentence_lexical * scale_bm25(signals.sentence_lexical)
        )

    def _reciprocal_rank(self, scores: np.ndarray) -> np.ndarray:
        ranks = np.empty(len(scores), dtype=np.float64)
        ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
        return 1.0 / (self.rrf_constant + ranks)
