"""The one search API every front end calls: question in, short answer and cited passages out.

:meth:`Retriever.ask` validates the question, scores passages in the chosen
mode, picks the sentence that best answers inside each passage, lets the reader
(:mod:`coopqa.search.reader`) read the best passages for the short answer, and
decides whether the corpus answers at all (abstention). Batch callers use
:meth:`Retriever.ask_many`, which encodes questions in batches.

Two things are settled before the search: the question's language
(:mod:`coopqa.search.language`: it picks the fusion weights and the abstention
rule) and, given the earlier questions of a conversation, what to search
(:mod:`coopqa.search.conversation`: a follow-up is searched with its topic).
"""

from __future__ import annotations

import re
import sys
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from coopqa.config import MODES, Settings
from coopqa.documents import Passage
from coopqa.errors import ConfigError, InvalidQuestionError
from coopqa.index import IndexData, analyse, build_index, check_compatible, current_version, load_index, read_manifest, reload_index
from coopqa.model import Embedder
from coopqa.search.acronyms import asked_acronym, definitions, spells
from coopqa.search.answer_type import SKIPPED_UNFIT, AnswerKind, expected_kind, restates_question, span_fits
from coopqa.search.conversation import SearchVectors, clean_history, resolve
from coopqa.search.figures import figures, figures_first
from coopqa.search.fusion import Fusion, Signals
from coopqa.search.glossary import asked_names, corpus_names
from coopqa.search.language import CORPUS_LANGUAGE, LanguagePolicy, centred, detect_language, preload_detector
from coopqa.search.reader import Reader, clause_around
from coopqa.search.reading import Span

NO_ANSWER = "Je n'ai pas trouvé de réponse dans le corpus."
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
class ShortAnswer:
    """The answer itself: ``text == document[start:end]``, inside the passage cited at ``passage_rank``."""

    text: str
    doc: str
    start: int
    end: int
    #: The reader's belief that this span, not "no answer", is what the passage says: sigmoid of its margin.
    score: float
    passage_rank: int


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


def clean_question(question: object, max_chars: int) -> str:
    """The question as it will be searched, or :class:`InvalidQuestionError`."""
    if not isinstance(question, str):
        raise InvalidQuestionError(f"the question must be text, got {type(question).__name__}", reason="not_text")
    cleaned = " ".join(unicodedata.normalize("NFC", question).split())
    cleaned = "".join(ch for ch in cleaned if unicodedata.category(ch) != "Cc")
    if not cleaned:
        raise InvalidQuestionError("the question is empty", "type a question in French", reason="empty")
    if len(cleaned) > max_chars:
        raise InvalidQuestionError(
            f"the question is {len(cleaned)} characters long, over the {max_chars}-character limit",
            "shorten it (or raise max_question_chars)",
            reason="too_long",
        )
    if any("\ud800" <= ch <= "\udfff" for ch in cleaned):  # JSON may escape a lone UTF-16 half
        raise InvalidQuestionError("the question holds an unpaired surrogate character", "send valid UTF-8 text", reason="bad_characters")
    if not re.search(r"\w", cleaned):
        raise InvalidQuestionError("the question has no words", "type a question in French", reason="no_words")
    return cleaned


class Retriever:
    """Searches one loaded index with one loaded model."""

    def __init__(self, data: IndexData, embedder: Embedder, settings: Settings, fusion: Fusion | None = None, reader: Reader | None = None) -> None:
        check_compatible(data.manifest, settings, embedder.model_id, embedder.dimension)
        self.data = data
        self.embedder = embedder
        self.settings = settings
        self.fusion = fusion or Fusion()
        self.reader = reader
        #: Vectors of searched texts, kept for follow-ups; shared with :meth:`refreshed` retrievers (they share the model).
        self.search_vectors = SearchVectors(embedder.encode_queries)

    @classmethod
    def open(cls, settings: Settings, progress: bool = True) -> Retriever:
        """Load the model and the index, building the index first if there is none."""
        threading.Thread(target=preload_detector, name="coopqa-language", daemon=True).start()  # loads while the model does
        embedder = Embedder(settings, progress=progress)
        live = current_version(settings.index_dir)
        if live is None:
            if progress:
                print(f"coopqa: no index in {settings.index_dir}; building it from {settings.corpus_dir}…", file=sys.stderr, flush=True)
            build_index(settings, embedder, progress=progress)
        else:
            check_compatible(read_manifest(live), settings, embedder.model_id, embedder.dimension)
        return cls(load_index(settings.index_dir), embedder, settings, reader=Reader.for_settings(settings, progress))

    def refreshed(self) -> Retriever:
        """This retriever, or a new one over the version ``CURRENT`` names now if a build replaced it.

        Cheap when nothing changed (one ``stat``), so a server can call it for
        every request: ``retriever = self.retriever = self.retriever.refreshed()``.
        It returns a new object instead of swapping ``self.data``, because a
        request in flight reads ``self.data`` several times and must see one
        version throughout. The model is shared. A new version that cannot be
        used is reported once on stderr and this retriever is returned.
        """
        fresh = reload_index(self.data, lambda manifest: check_compatible(manifest, self.settings, self.embedder.model_id, self.embedder.dimension))
        if fresh is None:
            return self
        retriever = Retriever(fresh, self.embedder, self.settings, self.fusion, self.reader)
        retriever.search_vectors = self.search_vectors
        return retriever

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
        ranking and highlighting.
        """
        checked = [self._check_options(k, mode) for mode in modes]
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
        answers: dict[str, list[Answer]] = {mode: [] for _, mode in checked}
        for question, search, policy, vector in zip(cleaned, resolved, policies, vectors):
            started = time.perf_counter()
            evidence = replace(self._gather(search.searched, vector), parts=search.parts)
            shared_ms = encoding_ms + (time.perf_counter() - started) * 1000
            for depth, mode in checked:
                ranked_at = time.perf_counter()
                answer = self._answer(evidence, depth, mode, policy)
                own_ms = (time.perf_counter() - ranked_at) * 1000
                answers[mode].append(
                    replace(
                        answer,
                        question=question,
                        latency_ms=round(shared_ms + own_ms, 2),
                        language=policy.language,
                        language_calibrated=policy.calibrated,
                        searched=search.searched,
                    )
                )
        return answers

    # ----------------------------------------------------------------- internals

    def _check_options(self, k: int | None, mode: str | None) -> tuple[int, str]:
        k = self.settings.top_k if k is None else k
        mode = self.settings.mode if mode is None else mode
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
            raise ConfigError(f"k must be a whole number between 1 and 100, got {k!r}")
        if mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        return k, mode

    def _answer(self, evidence: _Evidence, k: int, mode: str, policy: LanguagePolicy | None = None) -> Answer:
        signals = evidence.signals
        if mode == "dense":
            scores = signals.passage_dense
        elif mode == "bm25":
            scores = signals.passage_lexical
        else:
            scores = (policy.fusion if policy is not None and policy.fusion is not None else self.fusion).combine(signals)
        order = np.argsort(-scores, kind="stable")
        if mode == "bm25":
            order = order[signals.passage_lexical[order] > 0]
        depth = self.settings.figure_depth if policy is None or policy.figure_depth is None else policy.figure_depth
        language = CORPUS_LANGUAGE if policy is None else policy.language
        pins_checked = mode == "hybrid" and policy is not None and policy.pins_required and not evidence.follow_up
        pinned = _pins(evidence, language) if mode == "hybrid" and (depth or pins_checked) else frozenset()
        if mode == "hybrid" and depth:
            shown = [self.data.passages[int(evidence.candidates[position])].text for position in order[:depth]]
            order = figures_first(order, shown, pinned, held=_figures_and_names)
        confidence = float(signals.passage_dense.max()) if len(evidence.candidates) else 0.0
        defined = self._defined(evidence, order) if mode == "hybrid" and self.reader is not None and self.settings.answer_typing == "on" else None
        if defined is not None:  # « Que signifie AVRR ? »: the text defines it, so it answers (see :mod:`coopqa.search.acronyms`)
            position, start, end = defined
            order = np.concatenate([[position], order[order != position]])
            return self._answered(evidence, mode, False, order[:k], scores, (start, end, 1.0), confidence)
        best = self.data.passages[int(evidence.candidates[order[0]])] if len(order) else None
        abstained = best is None or self._abstains(evidence.parts or (evidence.question,), confidence, best, policy, signals)
        if pins_checked and best is not None:
            # « the 12th forum »: no passage names a 12th; « … with the Arab League »: the best passage does not name it
            abstained = abstained or not pinned <= _figures_and_names(best.text)
        short_span: tuple[int, int, float] | None = None  # document offsets and score of the short answer
        # The reader learnt French questions that stand alone, and reads English and Arabic ones against the French passages
        # too (short-answer F1 0.542 and 0.372 with r3, qa/calibrate_language_reader.py). A follow-up is read as it was
        # asked (« Quelle est sa durée ? »), against the passage its conversation found: on the fit half of the
        # conversation set its short-answer F1 is 0.547 read so, 0.270 read with its topic after it, 0.177 read as searched
        # (topic first). Its retrieval already passed the abstention rule with the topic's words, and the reader's
        # "no answer" on a follow-up wrongly abstained 1 of its 31 fit follow-ups (the issue asks for none), so on a
        # follow-up "no answer" only means no short answer (``answer: null``), the passages stay.
        if self.reader is not None and not abstained:
            threshold = self.settings.reader_threshold if policy is None or policy.reader_threshold is None else policy.reader_threshold
            kind = expected_kind(evidence.asked, language) if self.settings.answer_typing == "on" else None
            order, short_span = self._read(evidence, order, threshold, evidence.asked, kind)
            abstained = short_span is None and not evidence.follow_up
        return self._answered(evidence, mode, abstained, order[:k], scores, short_span, confidence)

    def _answered(
        self,
        evidence: _Evidence,
        mode: str,
        abstained: bool,
        cited: np.ndarray,
        scores: np.ndarray,
        short_span: tuple[int, int, float] | None,
        confidence: float,
    ) -> Answer:
        """The answer citing the candidates at positions ``cited``, with the short answer (document offsets and score) inside the first."""
        hits = []
        for rank, position in enumerate(cited, start=1):
            number = int(evidence.candidates[position])
            if rank == 1 and short_span is not None:
                start, end = self._answer_highlight(number, short_span[0], short_span[1])
            else:
                start, end = self._highlight(number, evidence)
            hits.append(Hit(rank, self.data.passages[number], float(scores[position]), start, end))
        short = None
        if short_span is not None and hits:
            passage = hits[0].passage
            text = passage.text[short_span[0] - passage.start : short_span[1] - passage.start]
            short = ShortAnswer(text, passage.doc_id, short_span[0], short_span[1], round(short_span[2], 4), 1)
        return Answer(evidence.question, mode, abstained, tuple(hits), 0.0, round(confidence, 4), short)

    def _defined(self, evidence: _Evidence, order: np.ndarray) -> tuple[int, int, int] | None:
        """For a question asking what an acronym stands for, the best-ranked candidate defining it and the long form's document offsets."""
        acronym = asked_acronym(evidence.asked)
        if acronym is None:
            return None
        for position in order:
            passage = self.data.passages[int(evidence.candidates[position])]
            for definition in definitions(passage.text):
                if definition.short == acronym:
                    return int(position), passage.start + definition.start, passage.start + definition.end
        return None

    def _read(
        self, evidence: _Evidence, order: np.ndarray, threshold: float, question: str, kind: AnswerKind | None = None
    ) -> tuple[np.ndarray, tuple[int, int, float] | None]:
        """Read the best passages against ``question``: the one holding the best-read answer goes first; no convincing span abstains.

        The span may lie anywhere in the passage. Keeping it inside retrieval's answering sentence
        (``Reader.read(within=…)``) helped the r1 weights and hurts the shipped r2 weights; measured by
        ``training/reader_policy.py`` on the shipped QA set (chosen on the fit half, test half shown):
        short-answer F1 0.559 free against 0.536 inside, highlight ≤ 300 characters holding the answer
        0.800 against 0.744. Reading more passages to rerank them never raised hit@1 there.

        A question naming a year or an edition (« Le thème de la 9e édition du GFMD ? ») is answered first from the
        sentences that name it too, when the passage has some and the reader's best span there clears the margin:
        in a list of the forum's editions the reader otherwise often takes the neighbouring edition's theme. Measured
        against no such preference, fit halves: French F1 0.560 → 0.592 and highlight ≤ 300 0.760 → 0.800, English
        F1 0.603 → 0.635, Arabic 0.485 → 0.493, nothing abstained more (held-out: French F1 0.611 → 0.618, English and
        Arabic unchanged). Without the fallback to the whole passage it abstained more (English and Arabic fit wrongly
        abstained +1 question each). A follow-up is pinned by its own figures only, not its topic's (« Et sa durée ? »
        after « le programme de 2017 »: with the topic's, follow-ups' F1 fell, English fit 0.325 → 0.254).

        A span that is not of the ``kind`` the question asks for (a count, an amount, a date, a duration) is a
        near-miss: "no answer" (:mod:`coopqa.search.answer_type`), except for a sum of money, where the passage's
        next best span holding one is read instead (:data:`~coopqa.search.answer_type.SKIPPED_UNFIT`); a span that
        only repeats the question's words is skipped the same way (``Settings.answer_echo``, or abstained on).

        Returns the new order and the short answer's document offsets and score, or ``None`` for "no answer".
        """
        assert self.reader is not None
        read = order[: self.settings.reader_passages]
        passages = [self.data.passages[int(evidence.candidates[position])] for position in read]
        windows = [self._reading_window(int(evidence.candidates[position]), evidence) for position in read]
        texts = [passage.text[start - passage.start : end - passage.start] for passage, (start, end) in zip(passages, windows)]

        skip_echoes = self.settings.answer_echo == "skip"
        skip_unfit = kind in SKIPPED_UNFIT
        pinned = figures(question)
        holding = [self._sentences_holding(int(evidence.candidates[position]), pinned, start) for position, (start, _) in zip(read, windows)] if pinned else []
        # An acronym asked about and not defined in these passages (:meth:`_defined` came first): only a span spelling it.
        acronym = asked_acronym(question) if self.settings.answer_typing == "on" else None

        def acceptable(pair: int, start: int, end: int, pinned_only: bool = False) -> bool:
            span = texts[pair][start:end]
            if pinned_only and holding[pair] and not any(lo <= start and end <= hi for lo, hi in holding[pair]):
                return False
            if acronym is not None and not spells(acronym, span):
                return False
            return not (skip_unfit and not span_fits(kind, span)) and not (skip_echoes and restates_question(question, span))

        def convincing(span: Span | None) -> bool:
            return span is not None and span.margin >= threshold and span_fits(kind, texts[span.pair][span.start : span.end])

        logits = self.reader.logits(question, texts)
        best = logits.reading(accept=partial(acceptable, pinned_only=True)).best() if any(holding) else None
        if not convincing(best):
            best = logits.reading(accept=acceptable if skip_echoes or skip_unfit or acronym else None).best()
            if not convincing(best):
                return order, None
        assert best is not None
        if self.settings.answer_echo == "abstain" and restates_question(question, texts[best.pair][best.start : best.end]):
            return order, None
        chosen = read[best.pair]
        order = np.concatenate([[chosen], order[order != chosen]])
        start = windows[best.pair][0]
        return order, (start + best.start, start + best.end, 1.0 / (1.0 + float(np.exp(-best.margin))))

    def _sentences_holding(self, number: int, pinned: frozenset[str], window_start: int) -> list[tuple[int, int]]:
        """The sentences of passage ``number`` naming every pinned figure, as offsets in its reading window."""
        passage = self.data.passages[number]
        found = []
        for _, lo, hi in self.data.sentences_of(number):
            if pinned <= figures(passage.text[lo - passage.start : hi - passage.start]):
                found.append((lo - window_start, hi - window_start))
        return found

    def _reading_window(self, number: int, evidence: _Evidence) -> tuple[int, int]:
        """Document offsets of what the reader reads of passage ``number``: the whole passage, or the sentences around its highlight."""
        passage = self.data.passages[number]
        if self.settings.reader_window < 0:
            return passage.start, passage.end
        sentences = list(self.data.sentences_of(number))
        if not sentences:
            return passage.start, passage.end
        start, end = self._highlight(number, evidence)
        inside = [position for position, (_, lo, hi) in enumerate(sentences) if lo < end and hi > start] or [0]
        first = max(0, inside[0] - self.settings.reader_window)
        last = min(len(sentences) - 1, inside[-1] + self.settings.reader_window)
        return sentences[first][1], sentences[last][2]

    def _answer_highlight(self, number: int, start: int, end: int) -> tuple[int, int]:
        """The sentence(s) holding the short answer, cut to its clauses when longer than a quote should be."""
        passage = self.data.passages[number]
        covering = [(lo, hi) for _, lo, hi in self.data.sentences_of(number) if lo < end and hi > start] or [(passage.start, passage.end)]
        lo, hi = covering[0][0], covering[-1][1]
        text = passage.text[lo - passage.start : hi - passage.start]
        first, last = clause_around(text, start - lo, end - lo)
        return lo + first, lo + last

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

    def _gather(self, question: str, vector: np.ndarray) -> _Evidence:
        """Candidates (top passages by cosine and by BM25) and their four signals, vectorised."""
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
        return _Evidence(question, vector, candidates, signals, sentence_lexical_all, top_sentence_lexical)

    def _highlight(self, number: int, evidence: _Evidence) -> tuple[int, int]:
        """Document offsets of the sentence(s) of passage ``number`` that best answer."""
        spans = list(self.data.sentences_of(number))
        if not spans:
            passage = self.data.passages[number]
            return passage.start, passage.end
        ids = np.array([sentence for sentence, _, _ in spans])
        cosines = self.data.sentence_vectors[ids] @ evidence.vector
        first, last = _highlight_choice(cosines, evidence.sentence_lexical_all[ids], evidence.top_sentence_lexical)
        return spans[first][1], spans[last][2]


@dataclass(frozen=True)
class _Evidence:
    """What one question's candidate search found, shared by every mode."""

    question: str
    vector: np.ndarray
    candidates: np.ndarray
    signals: Signals
    sentence_lexical_all: np.ndarray
    #: The question's best sentence BM25 anywhere: the highlight's lexical scale, computed once.
    top_sentence_lexical: float
    #: What the search was made of: the question, or for a follow-up its conversation's topic and the question (see :meth:`Retriever._abstains`).
    parts: tuple[str, ...] = ()

    @property
    def asked(self) -> str:
        """The question as the user asked it (``question`` is what was searched: for a follow-up, its topic too)."""
        return self.parts[-1] if self.parts else self.question

    @property
    def follow_up(self) -> bool:
        return len(self.parts) > 1


def _pins(evidence: _Evidence, language: str) -> frozenset[str]:
    """What a question pins down: the years and ordinals it names and, in English or Arabic, the corpus's names it uses.

    « ILO » is the corpus's « OIT », « Athens » its « Athènes » (:mod:`coopqa.search.glossary`). A follow-up's own
    (« Et la quatrième ? ») replace its topic's (« la troisième réunion »); a follow-up naming none pins its topic's.
    """
    return _pinned_in(evidence.asked, language) or _pinned_in(evidence.question, language)


def _pinned_in(text: str, language: str) -> frozenset[str]:
    return figures(text) | asked_names(text, language)


def _figures_and_names(text: str) -> frozenset[str]:
    """What a French passage holds that a question can pin: its years, ordinals and the glossary's names."""
    return figures(text) | corpus_names(text)


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
