"""A question's candidates from a Milvus engine: the same evidence as from the FAISS files, fetched per question.

Dense candidates come from the engine's vector search, lexical ones from its BM25 search over coopqa's
analysed terms (:mod:`coopqa.index.milvus_store`); the candidates' passages, vectors and sentences are
then fetched in two queries. Fusion, highlight, reader and abstention run on top unchanged.

Where the FAISS store scores every passage and sentence by BM25, the engine returns the best
:data:`LEXICAL_DEPTH` passages and :data:`SENTENCE_DEPTH` sentences: a candidate found by meaning alone
and outside those scores 0 lexically. Fusion divides BM25 scores by the best one, so what is lost is a
small score at the bottom of the scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coopqa.documents import Passage
from coopqa.index.milvus_reader import MilvusIndex, SentenceRow
from coopqa.index.milvus_store import terms_of
from coopqa.search.fusion import Signals

#: Lexical scores asked of the engine per question, for passages and for sentences.
LEXICAL_DEPTH = 300
SENTENCE_DEPTH = 1000


@dataclass(frozen=True)
class MilvusView:
    """The candidates' passages and sentences as the engine returned them for one question."""

    by_number: dict[int, Passage]
    sentences: dict[int, list[SentenceRow]]
    vectors: dict[int, np.ndarray]
    lexical: dict[int, float]

    def passage(self, number: int) -> Passage:
        return self.by_number[number]

    def sentences_of(self, number: int) -> Sequence[tuple[int, int, int]]:
        passage = self.by_number[number]
        clipped = [(row.number, max(row.start, passage.start), min(row.end, passage.end)) for row in self.sentences.get(number, [])]
        return sorted(item for item in clipped if item[2] > item[1])

    def sentence_vectors(self, ids: np.ndarray) -> np.ndarray:
        return np.stack([self.vectors[int(i)] for i in ids]) if len(ids) else np.zeros((0, 0), np.float32)

    def sentence_lexical(self, ids: np.ndarray) -> np.ndarray:
        return np.array([self.lexical.get(int(i), 0.0) for i in ids], dtype=np.float32)


@dataclass(frozen=True)
class MilvusEvidence:
    """What the engine gave for one question: candidates, their signals, the best sentence BM25, the view, and the
    engine's own fused scores when its ranker ranks (``None`` with coopqa's fusion)."""

    candidates: np.ndarray
    signals: Signals
    top_sentence_lexical: float
    view: MilvusView
    engine_scores: np.ndarray | None


def milvus_evidence(index: MilvusIndex, question: str, vector: np.ndarray, depth: int, ranker: str = "coopqa") -> MilvusEvidence:
    """Candidates (passage numbers), their four signals, the best sentence BM25 anywhere, and the view over them."""
    terms = terms_of(question)  # analysed once, for the passages' and the sentences' BM25 alike
    dense = index.dense_passages(vector, depth)
    lexical = index.lexical(terms, max(depth, LEXICAL_DEPTH))
    lexical_top = sorted(lexical, key=lambda number: -lexical[number])[:depth]
    fused = index.engine_fused(vector, terms, depth, ranker) if ranker != "coopqa" else {}
    candidates = np.union1d(np.array(list(dense) + list(fused), dtype=np.int64), np.array(lexical_top, dtype=np.int64)).astype(np.int64)
    passages, passage_vectors = index.passages(candidates.tolist())
    candidates = np.array([number for number in candidates if int(number) in passages], dtype=np.int64)
    by_passage = index.sentences_of(candidates.tolist())
    sentence_lexical = index.lexical(terms, SENTENCE_DEPTH, sentences=True)
    vectors = {row.number: row.vector for rows in by_passage.values() for row in rows}
    view = MilvusView(passages, by_passage, vectors, sentence_lexical)
    passage_dense = np.array([float(passage_vectors[int(n)] @ vector) for n in candidates], dtype=np.float32)
    passage_lexical = np.array([lexical.get(int(n), 0.0) for n in candidates], dtype=np.float32)
    sentence_dense = np.zeros(len(candidates), dtype=np.float32)
    sentence_best_lexical = np.zeros(len(candidates), dtype=np.float32)
    for position, number in enumerate(candidates):
        spans = view.sentences_of(int(number))
        if spans:
            ids = np.array([sentence for sentence, _, _ in spans])
            sentence_dense[position] = float((view.sentence_vectors(ids) @ vector).max())
            sentence_best_lexical[position] = float(view.sentence_lexical(ids).max())
    top_sentence = max(sentence_lexical.values(), default=0.0)
    signals = Signals(passage_dense, passage_lexical, sentence_dense, sentence_best_lexical)
    engine = np.array([fused.get(int(n), -np.inf) for n in candidates], dtype=np.float64) if fused else None
    return MilvusEvidence(candidates, signals, top_sentence, view, engine)
