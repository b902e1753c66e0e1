"""Retrieval: a question in, its passages ranked, each with the sentence that best answers, and whether the corpus answers at all.

:meth:`Retriever.prepare` settles what to search before any search: the question's language
(:mod:`coopqa.search.language`: it picks the fusion weights and the abstention rule) and, given the
earlier questions of a conversation, its topic (:mod:`coopqa.search.conversation`: a follow-up is
searched with it), then encodes the searched texts in one batch. :meth:`Retriever.gather` finds the
candidates (dense and BM25, passages and sentences) once per question; :meth:`Retriever.rank` orders
them in one mode and applies retrieval's abstention; :meth:`Retriever.cite` turns the best into
:class:`Hit` objects with their highlighted sentence.

The short answer is the next stage's (:mod:`coopqa.reading`); :class:`coopqa.pipeline.Assistant`
composes the two.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from coopqa.config import Settings
from coopqa.documents import Passage
from coopqa.index import IndexData, analyse, check_compatible
from coopqa.index.milvus_reader import MilvusIndex
from coopqa.model import Embedder
from coopqa.search.candidates import CandidateView, LoadedIndexView
from coopqa.search.conversation import Resolved, SearchVectors, clean_history, resolve
from coopqa.search.figures import figures, figures_first
from coopqa.search.fusion import Fusion, Signals
from coopqa.search.glossary import Glossary
from coopqa.search.language import CORPUS_LANGUAGE, LanguagePolicy, centred, detect_language
from coopqa.search.milvus_candidates import milvus_evidence
from coopqa.search.questions import clean_question

#: How many candidates each side (dense, BM25) contributes before fusion.
CANDIDATES = 100
HIGHLIGHT_LEXICAL_WEIGHT = 0.3
HIGHLIGHT_MARGIN = 0.15


@dataclass(frozen=True)
class Hit:
    """One cited passage; ``highlight_*`` are document offsets inside the passage."""

    rank: int
    passage: Passage
    score: float
    highlight_start: int
    highlight_end: int


@dataclass(frozen=True)
class Query:
    """One question made ready to search: cleaned, its language's policy, what to search and its vector."""

    question: str
    search: Resolved
    policy: LanguagePolicy
    vector: np.ndarray


@dataclass(frozen=True)
class Ranking:
    """Candidates in one mode's order (positions into :attr:`Evidence.candidates`), their scores, and retrieval's verdict."""

    order: np.ndarray
    scores: np.ndarray
    #: The best candidate's cosine: the answer's ``confidence``.
    confidence: float
    #: Retrieval's abstention: no passage close enough, too few shared words, or a pinned year or name missing.
    abstained: bool


class Retriever:
    """Searches one loaded index with one loaded model."""

    def __init__(
        self, data: IndexData | MilvusIndex, embedder: Embedder, settings: Settings, fusion: Fusion | None = None, glossary: Glossary | None = None
    ) -> None:
        check_compatible(data.manifest, settings, embedder.model_id, embedder.dimension)
        self.data = data
        self.embedder = embedder
        self.settings = settings
        self.fusion = fusion or Fusion()
        #: The corpus's names in other languages (``corpus/glossary.toml``); empty for a corpus without one.
        self.glossary = Glossary.load(settings.corpus_dir) if glossary is None else glossary
        #: Vectors of searched texts, kept for follow-ups; shared with refreshed retrievers (they share the model).
        self.search_vectors = SearchVectors(embedder.encode_queries)

    def prepare(self, questions: Sequence[str], histories: Sequence[Sequence[str] | None] | None = None) -> tuple[list[Query], float]:
        """Clean, detect, resolve and encode every question in one batch; also returns the encoding's cost per question (ms).

        Raises :class:`~coopqa.errors.InvalidQuestionError` or :class:`~coopqa.errors.InvalidHistoryError` for bad input.
        """
        if histories is not None and len(histories) != len(questions):
            raise ValueError("histories must hold one entry per question")
        began = time.perf_counter()
        cleaned = [clean_question(q, self.settings.max_question_chars) for q in questions]
        earlier = [clean_history(h, self.settings.max_question_chars) for h in histories] if histories is not None else [()] * len(cleaned)
        policies = [detect_language(question) for question in cleaned]
        resolved = [resolve(question, history) for question, history in zip(cleaned, earlier)]
        encoded = self.search_vectors.vectors(resolved)
        vectors = [centred(vector, policy, self.embedder.model_id) for vector, policy in zip(encoded, policies)]
        encoding_ms = (time.perf_counter() - began) * 1000 / max(len(cleaned), 1)
        return [Query(*parts) for parts in zip(cleaned, resolved, policies, vectors)], encoding_ms

    def gather(self, query: Query) -> Evidence:
        """Candidates and their signals for one prepared question, shared by every mode."""
        return replace(self._gather(query.search.searched, query.vector), parts=query.search.parts)

    def rank(self, evidence: Evidence, mode: str, policy: LanguagePolicy | None = None) -> Ranking:
        """The candidates in ``mode``'s order (year, ordinal or name pinned by the question first), and retrieval's abstention."""
        signals = evidence.signals
        if mode == "dense":
            scores = signals.passage_dense
        elif mode == "bm25":
            scores = signals.passage_lexical
        elif evidence.engine_scores is not None:  # the Milvus store with the engine's own ranker (Settings.milvus_ranker)
            scores = evidence.engine_scores
        else:
            scores = (policy.fusion if policy is not None and policy.fusion is not None else self.fusion).combine(signals)
        order = np.argsort(-scores, kind="stable")
        if mode == "bm25":
            order = order[signals.passage_lexical[order] > 0]
        depth = self.settings.figure_depth if policy is None or policy.figure_depth is None else policy.figure_depth
        language = CORPUS_LANGUAGE if policy is None else policy.language
        pins_checked = mode == "hybrid" and policy is not None and policy.pins_required and not evidence.follow_up
        pinned = self._pins(evidence, language) if mode == "hybrid" and (depth or pins_checked) else frozenset()
        if mode == "hybrid" and depth:
            shown = [evidence.view.passage(int(evidence.candidates[position])).text for position in order[:depth]]
            order = figures_first(order, shown, pinned, held=self._figures_and_names)
        confidence = float(signals.passage_dense.max()) if len(evidence.candidates) else 0.0
        best = evidence.view.passage(int(evidence.candidates[order[0]])) if len(order) else None
        abstained = best is None or self._abstains(evidence.parts or (evidence.question,), confidence, best, policy, signals)
        if pins_checked and best is not None:
            # « the 12th forum »: no passage names a 12th; « … with the Arab League »: the best passage does not name it
            abstained = abstained or not pinned <= self._figures_and_names(best.text)
        return Ranking(order, scores, confidence, abstained)

    def cite(self, evidence: Evidence, cited: np.ndarray, scores: np.ndarray, first_highlight: tuple[int, int] | None = None) -> tuple[Hit, ...]:
        """The candidates at positions ``cited`` as hits; the first one's highlight is ``first_highlight`` when given (the short answer's clause)."""
        hits = []
        for rank, position in enumerate(cited, start=1):
            number = int(evidence.candidates[position])
            start, end = first_highlight if rank == 1 and first_highlight is not None else self.highlight(number, evidence)
            hits.append(Hit(rank, evidence.view.passage(number), float(scores[position]), start, end))
        return tuple(hits)

    def _abstains(self, parts: Sequence[str], confidence: float, best: Passage, policy: LanguagePolicy | None = None, signals: Signals | None = None) -> bool:
        """No answer when the closest passage is not close, or shares too few of the question's words.

        ``parts`` is the question, or for a follow-up its conversation's topic
        and the question: the passage must share enough words with one of them
        (« Et elle sert à quoi ? » shares none with its answer, its topic « la
        Troïka du FMMD » does; measured: 2 of 67 follow-ups wrongly abstained
        with the words of the whole searched text, none with this).

        That is the French rule. A question in another language shares no
        French words with the passage, so its policy's rule is used instead:
        no answer when the closest passage does not stand out from the other
        candidates (:func:`zscore` below the language's threshold).

        Calibrated on PIAF v1.0 (3,835 questions this corpus cannot answer) and
        the shipped QA set's answerable questions: cosine < 0.82 or term overlap
        < 25 % abstains on 95.9 % of PIAF and wrongly on 2.4 % of answerable
        questions (cosine alone at 0.825: 95.1 % / 3.6 %). The onnx-int8
        backend's cosines run slightly lower, so its default threshold is 0.825
        (see ``config.BACKEND_DEFAULTS``). The threshold is specific to
        multilingual-e5-small's cosine scale: recalibrate (``coopqa eval``)
        before using another model.
        """
        if policy is not None and policy.min_zscore is not None and signals is not None:
            return zscore(signals.passage_dense) < policy.min_zscore or confidence < policy.min_cosine
        if confidence < self.settings.abstain_threshold:
            return True
        passage_terms = set(analyse(best.embedding_text()))
        overlaps = [sum(term in passage_terms for term in terms) / len(terms) for terms in map(analyse, parts) if terms]
        return not overlaps or max(overlaps) < self.settings.abstain_min_overlap

    def _gather(self, question: str, vector: np.ndarray) -> Evidence:
        """Candidates (top passages by cosine and by BM25) and their four signals, vectorised."""
        if isinstance(self.data, MilvusIndex):
            found = milvus_evidence(self.data, question, vector, CANDIDATES, self.settings.milvus_ranker)
            return Evidence(question, vector, found.candidates, found.signals, found.top_sentence_lexical, found.view, engine_scores=found.engine_scores)
        data = self.data
        depth = min(CANDIDATES, data.dense.ntotal)
        _, dense_ids = data.dense.search(vector.reshape(1, -1), depth)
        lexical_all = data.lexical.scores(question)
        candidates = np.union1d(dense_ids[0][dense_ids[0] >= 0], _top(lexical_all, depth)).astype(np.int64)
        sentence_lexical_all = data.sentence_lexical.scores(question)
        ranges = data.passage_sentences[candidates]
        counts = ranges[:, 1] - ranges[:, 0]
        sentence_ids = np.concatenate([np.arange(lo, hi) for lo, hi in ranges]) if counts.sum() else np.zeros(0, np.int64)
        sentence_dense = np.zeros(len(candidates), dtype=np.float32)
        sentence_lexical = np.zeros(len(candidates), dtype=np.float32)
        has_sentences = counts > 0
        if has_sentences.any():
            offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])[has_sentences]
            sentence_dense[has_sentences] = np.maximum.reduceat(data.sentence_vectors[sentence_ids] @ vector, offsets)
            sentence_lexical[has_sentences] = np.maximum.reduceat(sentence_lexical_all[sentence_ids], offsets)
        signals = Signals(data.passage_vectors()[candidates] @ vector, lexical_all[candidates], sentence_dense, sentence_lexical)
        top_sentence_lexical = float(sentence_lexical_all.max()) if sentence_lexical_all.size else 0.0
        return Evidence(question, vector, candidates, signals, top_sentence_lexical, LoadedIndexView(data, sentence_lexical_all))

    def highlight(self, number: int, evidence: Evidence) -> tuple[int, int]:
        """Document offsets of the sentence(s) of passage ``number`` that best answer."""
        spans = evidence.view.sentences_of(number)
        if not spans:
            passage = evidence.view.passage(number)
            return passage.start, passage.end
        ids = np.array([sentence for sentence, _, _ in spans])
        cosines = evidence.view.sentence_vectors(ids) @ evidence.vector
        first, last = _highlight_choice(cosines, evidence.view.sentence_lexical(ids), evidence.top_sentence_lexical)
        return spans[first][1], spans[last][2]


    def _pins(self, evidence: Evidence, language: str) -> frozenset[str]:
        """What a question pins down: the years and ordinals it names and, in English or Arabic, the corpus's names it uses.

        « ILO » is the corpus's « OIT », « Athens » its « Athènes » (:mod:`coopqa.search.glossary`). A follow-up's own
        (« Et la quatrième ? ») replace its topic's (« la troisième réunion »); a follow-up naming none pins its topic's.
        """
        return self._pinned_in(evidence.asked, language) or self._pinned_in(evidence.question, language)

    def _pinned_in(self, text: str, language: str) -> frozenset[str]:
        return figures(text) | self.glossary.asked_names(text, language)

    def _figures_and_names(self, text: str) -> frozenset[str]:
        """What a French passage holds that a question can pin: its years, ordinals and the glossary's names."""
        return figures(text) | self.glossary.corpus_names(text)


@dataclass(frozen=True)
class Evidence:
    """What one question's candidate search found, shared by every mode."""

    question: str
    vector: np.ndarray
    candidates: np.ndarray
    signals: Signals
    #: The question's best sentence BM25 anywhere: the highlight's lexical scale, computed once.
    top_sentence_lexical: float
    #: The candidates' passages and sentences, as the store serving them gives them (:mod:`coopqa.search.candidates`).
    view: CandidateView
    #: What the search was made of: the question, or for a follow-up its conversation's topic and the question (see :meth:`Retriever._abstains`).
    parts: tuple[str, ...] = ()
    #: The engine's own fused scores, aligned with ``candidates``, when a Milvus ranker ranks instead of coopqa's fusion.
    engine_scores: np.ndarray | None = None

    @property
    def asked(self) -> str:
        """The question as the user asked it (``question`` is what was searched: for a follow-up, its topic too)."""
        return self.parts[-1] if self.parts else self.question

    @property
    def follow_up(self) -> bool:
        return len(self.parts) > 1


def _highlight_choice(cosines: np.ndarray, lexical: np.ndarray, top_lexical: float) -> tuple[int, int]:
    """The sentence(s) that best answer, as a range of sentence positions.

    A sentence scores its cosine plus 0.3 × its share of the best sentence BM25.
    The neighbour sentence joins the highlight when it scores within
    ``HIGHLIGHT_MARGIN`` of the best: in this corpus a fact is often split over
    two sentences ("la Troïka … est composée de … . Elle a pour mission de …").
    On the shipped QA set (hybrid, top passage) the highlight holds the answer
    for 71 % with cosine alone, 79 % with the lexical share, 81 % with the
    neighbour rule at margin 0.15 (mean highlight 291 characters, against 242
    for one sentence).
    """
    lexical_share = lexical / top_lexical if top_lexical > 0 else np.zeros_like(lexical)
    scores = cosines + HIGHLIGHT_LEXICAL_WEIGHT * lexical_share
    best = int(np.argmax(scores))
    neighbours = [n for n in (best - 1, best + 1) if 0 <= n < len(scores)]
    if not neighbours:
        return best, best
    runner_up = max(neighbours, key=lambda n: scores[n])
    if scores[runner_up] >= scores[best] - HIGHLIGHT_MARGIN:
        return min(best, runner_up), max(best, runner_up)
    return best, best


def zscore(cosines: np.ndarray) -> float:
    """How many standard deviations the best candidate's cosine stands above the candidates' mean.

    A cross-lingual question's cosines all run lower than a French one's, so a
    fixed cosine threshold cannot tell answered from unanswered; how far the
    best passage stands out from the rest is on the same scale in every language.
    """
    if cosines.size < 2:
        return 0.0
    spread = float(cosines.std())
    return float((cosines.max() - cosines.mean()) / spread) if spread > 0 else 0.0


def _top(scores: np.ndarray, depth: int) -> np.ndarray:
    depth = min(depth, len(scores))
    if depth <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, depth - 1)[:depth]
    return part[np.argsort(-scores[part], kind="stable")].astype(np.int64)
