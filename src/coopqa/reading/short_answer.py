"""The short answer: read the best passages with the trained reader, keep the span a question of its kind can be answered by, or none.

This is reading's part of a question: retrieval (:mod:`coopqa.search`) has ranked the passages and
said whether the corpus is on topic; :class:`ShortAnswerReader` reads the best few, puts the one
holding the best-read answer first, and returns the span with its score, or ``None`` ("no answer":
no span clears the reader's margin, or none is of the kind the question asks for). A question asking
what an acronym stands for is answered from the long form the text gives (:mod:`coopqa.reading.acronyms`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from coopqa.reading.acronyms import asked_acronym, definitions, spells
from coopqa.reading.answer_type import SKIPPED_UNFIT, AnswerKind, restates_question, span_fits
from coopqa.reading.highlight import clause_around
from coopqa.reading.reader import Reader
from coopqa.reading.spans import Span
from coopqa.search.figures import figures
from coopqa.search.retriever import Evidence, Retriever

#: ``runner_up_gap`` when the passage offers no other span (and its ceiling): a lone span is as clear as it gets.
RUNNER_UP_CAP = 20.0


@dataclass(frozen=True)
class ShortAnswer:
    """The answer itself: ``text == document[start:end]``, inside the passage cited at ``passage_rank``."""

    text: str
    doc: str
    start: int
    end: int
    #: The probability that this answer is right (:mod:`coopqa.reading.confidence`); without a calibrator, sigmoid of the reader's margin.
    score: float
    passage_rank: int
    #: Whether ``score`` clears the calibrator's threshold (90 % precision on calibration data): shown in bold only then.
    confident: bool = False
    #: The signals ``score`` was computed from (:data:`coopqa.reading.confidence.FEATURES`), for calibration; not in the JSON.
    signals: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Found:
    """A short answer as reading found it: document offsets, and reading's signals for the calibrator."""

    start: int
    end: int
    signals: dict[str, float] = field(default_factory=dict)


class ShortAnswerReader:
    """Reads one retriever's passages: the reader's model over the windows around retrieval's highlights."""

    def __init__(self, reader: Reader, retriever: Retriever) -> None:
        self.reader = reader
        self.retriever = retriever
        self.settings = retriever.settings

    def defined(self, evidence: Evidence, order: np.ndarray) -> tuple[int, Found] | None:
        """For a question asking what an acronym stands for, the best-ranked candidate defining it and the long form's document offsets."""
        acronym = asked_acronym(evidence.asked)
        if acronym is None:
            return None
        for position in order:
            passage = evidence.view.passage(int(evidence.candidates[position]))
            for definition in definitions(passage.text):
                if definition.short == acronym:
                    return int(position), Found(passage.start + definition.start, passage.start + definition.end, {"defined": 1.0})
        return None

    def read(self, evidence: Evidence, order: np.ndarray, threshold: float, question: str, kind: AnswerKind | None = None) -> tuple[np.ndarray, Found | None]:
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
        near-miss: "no answer" (:mod:`coopqa.reading.answer_type`), except for a sum of money, where the passage's
        next best span holding one is read instead (:data:`~coopqa.reading.answer_type.SKIPPED_UNFIT`); a span that
        only repeats the question's words is skipped the same way (``Settings.answer_echo``, or abstained on).

        Returns the new order and the short answer with its signals, or ``None`` for "no answer".
        """
        read = order[: self.settings.reader_passages]
        passages = [evidence.view.passage(int(evidence.candidates[position])) for position in read]
        windows = [self._reading_window(int(evidence.candidates[position]), evidence) for position in read]
        texts = [passage.text[start - passage.start : end - passage.start] for passage, (start, end) in zip(passages, windows)]

        skip_echoes = self.settings.answer_echo == "skip"
        skip_unfit = kind in SKIPPED_UNFIT
        pinned = figures(question)
        holding = (
            [self._sentences_holding(evidence, int(evidence.candidates[position]), pinned, start) for position, (start, _) in zip(read, windows)]
            if pinned
            else []
        )
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
        pinned_sentence = convincing(best)
        if not pinned_sentence:
            best = logits.reading(accept=acceptable if skip_echoes or skip_unfit or acronym else None).best()
            if not convincing(best):
                return order, None
        assert best is not None
        if self.settings.answer_echo == "abstain" and restates_question(question, texts[best.pair][best.start : best.end]):
            return order, None
        chosen = read[best.pair]
        order = np.concatenate([[chosen], order[order != chosen]])
        start = windows[best.pair][0]
        start_peak, end_peak = logits.peaks(best.pair)
        sentence = self._sentence_signals(int(evidence.candidates[chosen]), evidence, start + best.start, start + best.end)
        runner_up = logits.runner_up(best, acceptable)
        signals = {
            "margin": best.margin,
            "span_score": best.score,
            "null_score": best.null_score,
            "span_chars": math.log1p(best.end - best.start),
            "start_prob": start_peak,
            "end_prob": end_peak,
            "typed": float(kind is not None),
            "pinned_sentence": float(pinned_sentence),
            "runner_up_gap": min(RUNNER_UP_CAP, best.score - runner_up.score) if runner_up is not None else RUNNER_UP_CAP,
            **sentence,
        }
        return order, Found(start + best.start, start + best.end, signals)

    def _sentence_signals(self, number: int, evidence: Evidence, start: int, end: int) -> dict[str, float]:
        """Whether retrieval agrees with the reader on where the answer is: the answer's sentence as retrieval scores it.

        ``in_highlight``: the answer lies in the sentence(s) retrieval highlights; ``sentence_cosine`` and
        ``sentence_lexical``: the answer's sentence's cosine with the question and its BM25 share of the best
        sentence's; ``sentence_rank``: its rank among the passage's sentences by cosine (0: retrieval's best).
        """
        low, high = self.retriever.highlight(number, evidence)
        sentences = evidence.view.sentences_of(number)
        holding = [sentence for sentence, lo, hi in sentences if lo <= start < hi]
        if not holding:
            return {"in_highlight": float(low <= start and end <= high)}
        ids = np.array([sentence for sentence, _, _ in sentences])
        vectors = evidence.view.sentence_vectors(ids)
        cosines = vectors @ evidence.vector
        own = float(cosines[[sentence for sentence, _, _ in sentences].index(holding[0])])
        top = evidence.top_sentence_lexical
        return {
            "in_highlight": float(low <= start and end <= high),
            "sentence_cosine": own,
            "sentence_rank": float((cosines > own + 1e-6).sum()),
            "sentence_lexical": float(evidence.view.sentence_lexical(np.array(holding[:1]))[0] / top) if top > 0 else 0.0,
        }

    def _sentences_holding(self, evidence: Evidence, number: int, pinned: frozenset[str], window_start: int) -> list[tuple[int, int]]:
        """The sentences of passage ``number`` naming every pinned figure, as offsets in its reading window."""
        passage = evidence.view.passage(number)
        found = []
        for _, lo, hi in evidence.view.sentences_of(number):
            if pinned <= figures(passage.text[lo - passage.start : hi - passage.start]):
                found.append((lo - window_start, hi - window_start))
        return found

    def _reading_window(self, number: int, evidence: Evidence) -> tuple[int, int]:
        """Document offsets of what the reader reads of passage ``number``: the whole passage, or the sentences around its highlight."""
        passage = evidence.view.passage(number)
        if self.settings.reader_window < 0:
            return passage.start, passage.end
        sentences = evidence.view.sentences_of(number)
        if not sentences:
            return passage.start, passage.end
        start, end = self.retriever.highlight(number, evidence)
        inside = [position for position, (_, lo, hi) in enumerate(sentences) if lo < end and hi > start] or [0]
        first = max(0, inside[0] - self.settings.reader_window)
        last = min(len(sentences) - 1, inside[-1] + self.settings.reader_window)
        return sentences[first][1], sentences[last][2]

    def answer_highlight(self, evidence: Evidence, number: int, start: int, end: int) -> tuple[int, int]:
        """The sentence(s) holding the short answer, cut to its clauses when longer than a quote should be."""
        passage = evidence.view.passage(number)
        covering = [(lo, hi) for _, lo, hi in evidence.view.sentences_of(number) if lo < end and hi > start] or [(passage.start, passage.end)]
        lo, hi = covering[0][0], covering[-1][1]
        text = passage.text[lo - passage.start : hi - passage.start]
        first, last = clause_around(text, start - lo, end - lo)
        return lo + first, lo + last
