"""The one API every front end calls: a question in, the short answer and its cited passages out.

:class:`Assistant` composes the two stages a question goes through: retrieval
(:class:`~coopqa.search.retriever.Retriever`: language, follow-ups, candidates, ranking, highlight,
abstention) and reading (:class:`~coopqa.reading.short_answer.ShortAnswerReader`: the short answer,
or "no answer" when the reader finds none). The chat, the CLI and ``coopqa eval`` call only
:meth:`Assistant.ask` (or its batch forms), so what they show is what is measured.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from coopqa.config import MODES, Settings
from coopqa.errors import ConfigError, CoopqaError
from coopqa.index import IndexData, build_index, check_compatible, current_version, load_index, read_manifest, reload_index
from coopqa.index.milvus_reader import MilvusIndex
from coopqa.index.milvus_store import build_milvus_index, milvus_ref
from coopqa.model import Embedder
from coopqa.reading.answer_type import expected_kind
from coopqa.reading.confidence import judge
from coopqa.reading.reader import Reader
from coopqa.reading.short_answer import Found, ShortAnswer, ShortAnswerReader
from coopqa.search.conversation import SearchVectors
from coopqa.search.fusion import Fusion
from coopqa.search.glossary import Glossary
from coopqa.search.language import CORPUS_LANGUAGE, LanguagePolicy, preload_detector
from coopqa.search.retriever import Evidence, Hit, Ranking, Retriever, zscore


@dataclass(frozen=True)
class Answer:
    question: str
    mode: str
    abstained: bool
    hits: tuple[Hit, ...]
    latency_ms: float
    confidence: float
    short: ShortAnswer | None = None
    #: The question's detected language (ISO 639-1) and whether coopqa was calibrated for it.
    language: str = CORPUS_LANGUAGE
    language_calibrated: bool = True
    #: The text actually searched: the question, or for a follow-up its conversation's topic and the question.
    searched: str = ""


def open_milvus(settings: Settings, embedder: Embedder, progress: bool) -> MilvusIndex:
    """The published Milvus version, built first when nothing is published; refused when built with other settings."""
    index = MilvusIndex.open(settings)
    if index is None:
        if progress:
            print(f"coopqa: nothing published in Milvus at {milvus_ref(settings).uri}; building it from {settings.corpus_dir}…", file=sys.stderr, flush=True)
        build_milvus_index(settings, embedder, progress=progress)
        index = MilvusIndex.open(settings)
        assert index is not None
    check_compatible(index.manifest, settings, embedder.model_id, embedder.dimension)
    return index


def refreshed_milvus(index: MilvusIndex, check: Callable[[dict[str, object]], None]) -> MilvusIndex | None:
    """The version the alias names now when it moved and can be served; ``None`` to keep serving ``index``.

    A published version that cannot be served (built with other settings) is reported once, then skipped
    without reading its manifest again; a later publish is read.
    """
    fresh = None
    try:
        fresh = index.refreshed()
        if fresh is not None:
            check(fresh.manifest)
    except CoopqaError as error:
        if fresh is None or index.refuse(fresh.version):  # an engine that did not answer is reported each time
            print(f"coopqa: keeping Milvus version {index.version}: {error.one_line()}", file=sys.stderr)
        return None
    return fresh


class Assistant:
    """Answers questions over one loaded index with one loaded model and, when given, the reader."""

    def __init__(
        self,
        data: IndexData | MilvusIndex,
        embedder: Embedder,
        settings: Settings,
        fusion: Fusion | None = None,
        reader: Reader | None = None,
        glossary: Glossary | None = None,
    ) -> None:
        self.retriever = Retriever(data, embedder, settings, fusion, glossary)
        self.reader = reader
        self.reading = ShortAnswerReader(reader, self.retriever) if reader is not None else None

    @classmethod
    def open(cls, settings: Settings, progress: bool = True) -> Assistant:
        """Load the model and the index, building the index first if there is none."""
        threading.Thread(target=preload_detector, name="coopqa-language", daemon=True).start()  # loads while the model does
        embedder = Embedder(settings, progress=progress)
        if settings.store == "milvus":
            return cls(open_milvus(settings, embedder, progress), embedder, settings, reader=Reader.for_settings(settings, progress))
        live = current_version(settings.index_dir)
        if live is None:
            if progress:
                print(f"coopqa: no index in {settings.index_dir}; building it from {settings.corpus_dir}…", file=sys.stderr, flush=True)
            build_index(settings, embedder, progress=progress)
        else:
            check_compatible(read_manifest(live), settings, embedder.model_id, embedder.dimension)
        return cls(load_index(settings.index_dir), embedder, settings, reader=Reader.for_settings(settings, progress))

    # What front ends and benchmarks read of the loaded parts.
    @property
    def data(self) -> IndexData | MilvusIndex:
        return self.retriever.data

    @property
    def embedder(self) -> Embedder:
        return self.retriever.embedder

    @property
    def settings(self) -> Settings:
        return self.retriever.settings

    @property
    def fusion(self) -> Fusion:
        return self.retriever.fusion

    @property
    def search_vectors(self) -> SearchVectors:
        return self.retriever.search_vectors

    @search_vectors.setter
    def search_vectors(self, vectors: SearchVectors) -> None:
        self.retriever.search_vectors = vectors

    def refreshed(self) -> Assistant:
        """This assistant, or a new one over the version ``CURRENT`` names now if a build replaced it.

        Cheap when nothing changed (one ``stat``), so a server can call it for
        every request: ``assistant = self.assistant = self.assistant.refreshed()``.
        It returns a new object instead of swapping ``self.data``, because a
        request in flight reads the index several times and must see one
        version throughout. The model is shared. A new version that cannot be
        used is reported once on stderr and this assistant is returned.
        """
        check = lambda manifest: check_compatible(manifest, self.settings, self.embedder.model_id, self.embedder.dimension)  # noqa: E731
        fresh = refreshed_milvus(self.data, check) if isinstance(self.data, MilvusIndex) else reload_index(self.data, check)
        if fresh is None:
            return self
        assistant = Assistant(fresh, self.embedder, self.settings, self.fusion, self.reader, self.retriever.glossary)
        assistant.search_vectors = self.search_vectors
        return assistant

    # ----------------------------------------------------------------- public

    def ask(self, question: str, k: int | None = None, mode: str | None = None, history: Sequence[str] | None = None) -> Answer:
        """Answer one question; ``history`` holds the conversation's earlier questions, oldest first."""
        return self.ask_many([question], k, mode, None if history is None else [history])[0]

    def ask_many(
        self, questions: list[str], k: int | None = None, mode: str | None = None, histories: Sequence[Sequence[str] | None] | None = None
    ) -> list[Answer]:
        """Answer several questions, encoding them in one batch; invalid ones raise.

        ``histories``, when given, holds one history (or ``None``) per question.
        """
        mode = self.settings.mode if mode is None else mode
        return self.ask_modes(questions, k, [mode], histories)[mode]

    def ask_modes(
        self, questions: list[str], k: int | None, modes: list[str], histories: Sequence[Sequence[str] | None] | None = None
    ) -> dict[str, list[Answer]]:
        """Answer every question in every mode: one encoding and one candidate search per question.

        Each answer's ``latency_ms`` is what that mode alone would have cost:
        its share of the batch encoding (language detection and follow-up
        resolution included), the shared candidate search, and its own
        ranking, reading and highlighting.
        """
        checked = [self._check_options(k, mode) for mode in modes]
        queries, encoding_ms = self.retriever.prepare(questions, histories)
        answers: dict[str, list[Answer]] = {mode: [] for _, mode in checked}
        for query in queries:
            started = time.perf_counter()
            evidence = self.retriever.gather(query)
            shared_ms = encoding_ms + (time.perf_counter() - started) * 1000
            for depth, mode in checked:
                ranked_at = time.perf_counter()
                answer = self._answer(evidence, depth, mode, query.policy)
                own_ms = (time.perf_counter() - ranked_at) * 1000
                answers[mode].append(
                    replace(
                        answer,
                        question=query.question,
                        latency_ms=round(shared_ms + own_ms, 2),
                        language=query.policy.language,
                        language_calibrated=query.policy.calibrated,
                        searched=query.search.searched,
                    )
                )
        return answers

    # ----------------------------------------------------------------- internals

    def _fusion(self, policy: LanguagePolicy | None) -> Fusion:
        return policy.fusion if policy is not None and policy.fusion is not None else self.fusion

    def _check_options(self, k: int | None, mode: str | None) -> tuple[int, str]:
        k = self.settings.top_k if k is None else k
        mode = self.settings.mode if mode is None else mode
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
            raise ConfigError(f"k must be a whole number between 1 and 100, got {k!r}")
        if mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        return k, mode

    def _answer(self, evidence: Evidence, k: int, mode: str, policy: LanguagePolicy | None = None) -> Answer:
        """Retrieval's ranking, then reading's short answer (or its "no answer") on top of it."""
        ranking = self.retriever.rank(evidence, mode, policy)
        order = ranking.order
        typing = self.settings.answer_typing == "on"
        defined = self.reading.defined(evidence, order) if mode == "hybrid" and self.reading is not None and typing else None
        if defined is not None:  # « Que signifie AVRR ? »: the text defines it, so it answers (see :mod:`coopqa.reading.acronyms`)
            position, definition = defined
            order = np.concatenate([[position], order[order != position]])
            return self._answered(evidence, mode, False, order[:k], ranking, definition, policy)
        abstained = ranking.abstained
        found = None
        # The reader learnt French questions that stand alone, and reads English and Arabic ones against the French passages
        # too (short-answer F1 0.542 and 0.372 with r3, qa/calibrate_language_reader.py). A follow-up is read as it was
        # asked (« Quelle est sa durée ? »), against the passage its conversation found: on the fit half of the
        # conversation set its short-answer F1 is 0.547 read so, 0.270 read with its topic after it, 0.177 read as searched
        # (topic first). Its retrieval already passed the abstention rule with the topic's words, and the reader's
        # "no answer" on a follow-up wrongly abstained 1 of its 31 fit follow-ups (the issue asks for none), so on a
        # follow-up "no answer" only means no short answer (``answer: null``), the passages stay.
        if self.reading is not None and not abstained:
            threshold = self.settings.reader_threshold if policy is None or policy.reader_threshold is None else policy.reader_threshold
            language = CORPUS_LANGUAGE if policy is None else policy.language
            kind = expected_kind(evidence.asked, language) if typing else None
            order, found = self.reading.read(evidence, order, threshold, evidence.asked, kind)
            abstained = found is None and not evidence.follow_up
        return self._answered(evidence, mode, abstained, order[:k], ranking, found, policy)

    def _answered(
        self,
        evidence: Evidence,
        mode: str,
        abstained: bool,
        cited: np.ndarray,
        ranking: Ranking,
        found: Found | None,
        policy: LanguagePolicy | None,
    ) -> Answer:
        """The answer citing the candidates at positions ``cited``, with the short answer and how much to trust it inside the first."""
        first_highlight = None
        if found is not None and len(cited) and self.reading is not None:
            first_highlight = self.reading.answer_highlight(evidence, int(evidence.candidates[cited[0]]), found.start, found.end)
        hits = self.retriever.cite(evidence, cited, ranking.scores, first_highlight)
        short = None
        if found is not None and hits:
            passage = hits[0].passage
            text = passage.text[found.start - passage.start : found.end - passage.start]
            signals = found.signals | {
                "cosine": ranking.confidence,
                # the calibrator learnt coopqa's hybrid fusion: the same score whatever the mode or ranker that ordered the passages
                "fused": float(self._fusion(policy).combine(evidence.signals)[cited[0]]),
                "zscore": zscore(evidence.signals.passage_dense),
                "french": float(policy is None or policy.language == CORPUS_LANGUAGE),
                "follow_up": float(evidence.follow_up),
            }
            trust = judge(signals, self.reader.calibrator if self.reader is not None else None)
            short = ShortAnswer(text, passage.doc_id, found.start, found.end, round(trust.score, 4), 1, trust.confident, tuple(sorted(signals.items())))
        return Answer(evidence.question, mode, abstained, hits, 0.0, round(ranking.confidence, 4), short)
