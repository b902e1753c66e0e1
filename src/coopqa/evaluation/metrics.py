"""Measure retrieval on a QA set: ranking metrics, answer and highlight checks, abstention.

**What is relevant.** Each answerable question has exactly one relevant
*unit*, and every retrieved passage is mapped to the unit it stands for:

* A coopqa QA item with ``evidence`` (:class:`Judge`): the evidence is located
  in its document and the answer inside the evidence. A passage is relevant
  when it covers at least half of the evidence's characters *and* contains
  that located answer, i.e. a reader of the passage alone sees the answer with
  enough of its supporting sentence to trust it. (Full containment would
  punish a passage boundary that cuts a long evidence sentence after the
  answer; mere answer containment would reward "2017" found in the wrong
  paragraph.)
* A QA item with an answer only (:class:`Judge` too; also a SQuAD file asked
  against the coopqa index): a passage is relevant when it contains one of the
  answers, compared accent-, case- and apostrophe-insensitively.
* A SQuAD question over its own file's paragraphs (:class:`ParagraphJudge`,
  ``--corpus-from-file``): a passage is relevant when it comes from the
  question's own paragraph, and the ranking is paragraph-level (passages
  deduplicated by paragraph, keeping the first rank), the usual PIAF/SQuAD
  passage-retrieval benchmark.

Several relevant passages (two overlapping chunks covering the evidence)
count once, at the first one's rank: the thing to find is the evidence, not
every chunk of it.

**Metrics** follow BEIR / sentence-transformers' InformationRetrievalEvaluator
with binary gains, over answerable questions: hit@k (the relevant unit in the
top k), recall@k (share of the relevant units found: one per question, so equal
to hit@k), MRR@10, nDCG@10 (ideal DCG 1). Ranking metrics are computed on the
ranking even when the retriever abstains; abstention is measured on its own.
answer-in-passage@k: an answer text appears in one of the top k passages as the
user sees them. Highlight accuracy: the top passage's highlighted sentence
holds an answer (``highlight_accuracy`` over all answerable questions with an
answer, what a user sees; ``highlight_accuracy_top1_relevant`` only where the
top passage is the relevant one, the highlighter's own quality). Abstention:
share of unanswerable questions abstained, share of answerable ones wrongly
abstained. Short answer: SQuAD exact match and token F1 of the reader's span
against the gold answers (:mod:`coopqa.evaluation.answers`), an abstention
scoring 0; ``highlight_accuracy_300`` counts a highlight only when it holds the
answer in at most 300 characters. Latency: per question, with its share of the batch encoding.
"""

from __future__ import annotations

import math
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from coopqa.documents import Passage
from coopqa.errors import InputFileError
from coopqa.evaluation.answers import best_over_golds
from coopqa.evaluation.qa_formats import QAItem, read_qa_jsonl
from coopqa.index import fold_accents
from coopqa.pipeline import MAX_HIGHLIGHT_CHARS, Answer, Assistant, Reader, ShortAnswer

__all__ = [
    "KS",
    "Judge",
    "Judged",
    "ModeReport",
    "ParagraphJudge",
    "QAItem",
    "contains_answer",
    "evaluate",
    "read_qa_jsonl",
]

KS = (1, 3, 5, 10)
#: Depth of MRR and nDCG.
DEPTH = 10
#: The key of the one relevant unit of a question judged by :class:`Judge`.
RELEVANT = "relevant"
#: Questions per :meth:`Assistant.ask_many` call: large enough for length-sorted
#: encoding batches, small enough for a live progress bar.
CHUNK = 256


def normalise_for_match(text: str) -> str:
    """Compare answers the way a reader would: no accents, one apostrophe, one space."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'").lower()
    return " ".join(fold_accents(text).split())


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    haystack = normalise_for_match(text)
    return any(normalise_for_match(answer) in haystack for answer in answers)


# --------------------------------------------------------------------------- relevance


class Relevance(Protocol):
    """Maps each retrieved passage to the unit it stands for; one unit per question is relevant."""

    description: str

    def problem(self, item: QAItem) -> str | None:
        """Why ``item`` cannot be judged against this corpus, or ``None``."""

    def target(self, item: QAItem) -> str:
        """The key of the question's relevant unit."""

    def unit(self, item: QAItem, passage: Passage) -> str:
        """The key of the unit ``passage`` stands for (equal to :meth:`target` when relevant)."""


Located = tuple[str, int, int, tuple[int, int] | None]


class Judge:
    """Evidence- or answer-based relevance against the indexed documents (coopqa QA sets)."""

    description = (
        "a passage is relevant when it covers at least 50 % of the question's evidence and contains its answer "
        "(evidence located in the indexed documents); for a question with an answer only, when it contains the answer "
        "(accent-, case- and apostrophe-insensitive). Several relevant passages count once, at the first rank."
    )

    def __init__(self, documents: dict[str, str]) -> None:
        self.documents = documents
        self._located: dict[str, Located | None] = {}

    def locate(self, item: QAItem) -> Located | None:
        """``(doc, evidence start, evidence end, answer span)`` or ``None`` if not found."""
        if item.evidence is None:
            return None
        candidates = [item.doc] if item.doc in self.documents else list(self.documents)
        for doc in candidates:
            where = self.documents[doc].find(item.evidence)
            if where >= 0:
                end = where + len(item.evidence)
                answer_span = None
                for answer in item.answers:
                    inside = item.evidence.find(answer)
                    if inside >= 0:
                        answer_span = (where + inside, where + inside + len(answer))
                        break
                return doc, where, end, answer_span
        return None

    def problem(self, item: QAItem) -> str | None:
        if not item.answerable or item.evidence is None:
            return None
        located = self._located[item.qid] = self.locate(item)
        if located is None:
            return "its evidence is not in the indexed corpus"
        if item.answers and located[3] is None:
            return "no answer is a substring of its evidence"
        return None

    def is_relevant(self, passage: Passage, item: QAItem, located: Located | None) -> bool:
        if located is not None:
            doc, start, end, answer_span = located
            if passage.doc_id != doc:
                return False
            overlap = max(0, min(end, passage.end) - max(start, passage.start))
            if overlap * 2 < end - start:
                return False
            return answer_span is None or (passage.start <= answer_span[0] and answer_span[1] <= passage.end)
        return contains_answer(passage.text, item.answers)

    def target(self, item: QAItem) -> str:
        return RELEVANT

    def unit(self, item: QAItem, passage: Passage) -> str:
        if item.qid not in self._located:
            self._located[item.qid] = self.locate(item)
        if self.is_relevant(passage, item, self._located[item.qid]):
            return RELEVANT
        return f"{passage.doc_id}#{passage.start}-{passage.end}"


class ParagraphJudge:
    """SQuAD relevance over the file's own paragraphs: the passage comes from the question's paragraph."""

    description = (
        "a passage is relevant when it comes from the question's own SQuAD paragraph; "
        "the ranking is paragraph-level (passages deduplicated by paragraph, keeping the first rank)."
    )

    def problem(self, item: QAItem) -> str | None:
        return None if item.doc is not None or not item.answerable else "it has no paragraph"

    def target(self, item: QAItem) -> str:
        return item.doc or ""

    def unit(self, item: QAItem, passage: Passage) -> str:
        return passage.doc_id


# --------------------------------------------------------------------------- judged answers


@dataclass(frozen=True)
class Judged:
    """One question's outcome in one mode.

    ``ranking`` holds the unit keys of the retrieved passages, deduplicated in
    rank order; ``target`` the relevant one (``None`` for an unanswerable
    question). ``answer_rank`` is the rank of the first passage whose text
    holds an answer.
    """

    item: QAItem
    answer: Answer
    ranking: tuple[str, ...]
    target: str | None
    answer_rank: int | None
    highlight_has_answer: bool | None
    latency_ms: float
    #: The short answer against the gold answers (SQuAD EM and token F1, French normalisation); an abstention scores 0.
    short_em: float | None = None
    short_f1: float | None = None
    #: Length of the top passage's highlight, in characters.
    highlight_chars: int | None = None

    @property
    def first_relevant_rank(self) -> int | None:
        if self.target is None or self.target not in self.ranking:
            return None
        return self.ranking.index(self.target) + 1

    @property
    def failed(self) -> bool:
        """What the report lists: relevant unit not first or wrongly abstained; unanswerable and answered."""
        if not self.item.answerable:
            return not self.answer.abstained
        return self.answer.abstained or self.first_relevant_rank != 1


def judge_answer(item: QAItem, answer: Answer, relevance: Relevance) -> Judged:
    if not item.answerable:
        return Judged(item, answer, (), None, None, None, answer.latency_ms)
    units = dict.fromkeys(relevance.unit(item, hit.passage) for hit in answer.hits)
    answer_rank = highlight = short_em = short_f1 = chars = None
    if item.answers:
        answer_rank = next((hit.rank for hit in answer.hits if contains_answer(hit.passage.text, item.answers)), None)
        if answer.hits:
            top = answer.hits[0]
            text = top.passage.text[top.highlight_start - top.passage.start : top.highlight_end - top.passage.start]
            highlight = contains_answer(text, item.answers)
            chars = len(text)
        prediction = answer.short.text if answer.short is not None and not answer.abstained else ""
        short_em, short_f1 = best_over_golds(prediction, list(item.answers))
    return Judged(item, answer, tuple(units), relevance.target(item), answer_rank, highlight, answer.latency_ms, short_em, short_f1, chars)


@dataclass
class ModeReport:
    """Every judged question of one mode, and the time the mode took."""

    mode: str
    judged: list[Judged] = field(default_factory=list)
    #: Time spent asking and judging, with the shared question encoding counted in every mode.
    seconds: float = 0.0
    #: False for the ``reading`` row: no retrieval ran, so its ranking metrics are not measured.
    retrieval: bool = True

    def groups(self) -> dict[str, ModeReport]:
        """The same questions split into report rows: one per language, one per kind (follow-up, standalone…), and for a
        set mixing answerable and unanswerable questions, ``HasAns`` and ``NoAns`` (as the SQuAD 2.0 evaluation does).

        The language is the one the row declares, else the one detected. Only
        sets with more than one group, or whose rows declare a language, a kind
        or a history, get rows.
        """
        split: dict[str, ModeReport] = {}
        mixed = len({judged.item.answerable for judged in self.judged}) == 2
        for judged in self.judged:
            keys = [f"language {judged.item.language or judged.answer.language}"]
            if judged.item.kind is not None or judged.item.history:
                keys.append(f"kind {judged.item.kind or 'with history'}")
            if mixed:  # SQuAD 2.0's split: answerable and unanswerable questions reported apart
                keys.append("HasAns" if judged.item.answerable else "NoAns")
            for key in keys:
                split.setdefault(key, ModeReport(self.mode, retrieval=self.retrieval)).judged.append(judged)
        for report in split.values():
            report.seconds = sum(j.latency_ms for j in report.judged) / 1000
        declared = any(j.item.language or j.item.kind or j.item.history for j in self.judged)
        return split if len(split) > 1 or declared else {}

    def ranks(self) -> list[int | None]:
        return [j.first_relevant_rank for j in self.judged if j.item.answerable]

    def recall_curve(self, depth: int = DEPTH) -> list[float]:
        """recall@1 … recall@depth, for the plot."""
        ranks = self.ranks()
        return [_share(r is not None and r <= k for r in ranks) or 0.0 for k in range(1, depth + 1)]

    def metrics(self) -> dict[str, float | int | None]:
        """The mode's figures (``None`` where the set has nothing to measure)."""
        answerable = [j for j in self.judged if j.item.answerable]
        unanswerable = [j for j in self.judged if not j.item.answerable]
        with_answers = [j for j in answerable if j.item.answers]
        ranks = self.ranks()
        result: dict[str, float | int | None] = {"questions": len(self.judged), "answerable": len(answerable), "unanswerable": len(unanswerable)}
        if not self.retrieval:
            ranks = []
        for k in KS:
            result[f"hit@{k}"] = _share(r is not None and r <= k for r in ranks)
        for k in KS:
            result[f"recall@{k}"] = result[f"hit@{k}"]
        result[f"mrr@{DEPTH}"] = _mean(1.0 / r if r is not None and r <= DEPTH else 0.0 for r in ranks)
        result[f"ndcg@{DEPTH}"] = _mean(1.0 / math.log2(r + 1) if r is not None and r <= DEPTH else 0.0 for r in ranks)
        for k in KS:
            found = (j.answer_rank is not None and j.answer_rank <= k for j in with_answers)
            result[f"answer_in_passage@{k}"] = _share(found) if self.retrieval else None
        result["highlight_accuracy"] = _share(j.highlight_has_answer for j in answerable if j.highlight_has_answer is not None)
        result["highlight_accuracy_top1_relevant"] = _share(
            j.highlight_has_answer for j in answerable if j.highlight_has_answer is not None and j.first_relevant_rank == 1
        )
        result["highlight_accuracy_300"] = _share(
            bool(j.highlight_has_answer) and (j.highlight_chars or 0) <= MAX_HIGHLIGHT_CHARS for j in answerable if j.highlight_has_answer is not None
        )
        result["short_answer_em"] = _mean(j.short_em for j in with_answers if j.short_em is not None)
        result["short_answer_f1"] = _mean(j.short_f1 for j in with_answers if j.short_f1 is not None)
        result["abstained_unanswerable"] = _share(j.answer.abstained for j in unanswerable)
        result["wrongly_abstained"] = _share(j.answer.abstained for j in answerable)
        result.update(trust_metrics(self.judged))
        latencies = sorted(j.latency_ms for j in self.judged)
        result["latency_p50_ms"] = _nearest_rank(latencies, 0.50)
        result["latency_p95_ms"] = _nearest_rank(latencies, 0.95)
        result["seconds"] = self.seconds
        result["questions_per_second"] = len(self.judged) / self.seconds if self.seconds > 0 else None
        return result


#: A short answer counts as right when its token F1 against a gold answer reaches this (the calibrator's target).
RIGHT_F1 = 0.5
#: Bins of the expected calibration error.
ECE_BINS = 10


def _scored(judged: Sequence[Judged]) -> list[tuple[float, bool, bool, bool]]:
    """(score, confident, right, answerable) of every short answer given: any answer to an unanswerable question is wrong."""
    rows = []
    for j in judged:
        short = j.answer.short
        if short is None or j.answer.abstained or (j.item.answerable and not j.item.answers):
            continue
        right = j.item.answerable and (j.short_f1 or 0.0) >= RIGHT_F1
        rows.append((short.score, short.confident, right, j.item.answerable))
    return rows


def trust_metrics(judged: Sequence[Judged]) -> dict[str, float | int | None]:
    """How far the short answers' trust can be trusted (issue: "put in bold only an answer that can be trusted").

    ``confident_precision``: share of ``confident`` answers that are right; ``confident_coverage``: share of answerable
    questions (with a gold answer) given a right-or-wrong confident answer; ``unanswerable_not_confident``: share of
    unanswerable questions abstained or answered without ``confident``; ``ece``: expected calibration error of the
    answers' ``score`` against being right (10 equal-width bins).
    """
    scored = _scored(judged)
    confident = [row for row in scored if row[1]]
    answerable = [j for j in judged if j.item.answerable and j.item.answers]
    unanswerable = [j for j in judged if not j.item.answerable]
    return {
        "answered_short": len(scored),
        "confident_answers": len(confident),
        "confident_precision": _share(row[2] for row in confident),
        "confident_coverage": (sum(row[3] for row in confident) / len(answerable)) if answerable else None,
        "unanswerable_not_confident": _share(j.answer.abstained or j.answer.short is None or not j.answer.short.confident for j in unanswerable),
        "ece": expected_calibration_error([row[0] for row in scored], [row[2] for row in scored]),
    }


def expected_calibration_error(scores: Sequence[float], right: Sequence[bool], bins: int = ECE_BINS) -> float | None:
    """Σ over equal-width score bins of (share of answers in the bin) × |mean score − share right| (Guo et al., 2017)."""
    if not scores:
        return None
    total = 0.0
    for low in range(bins):
        inside = [(score, ok) for score, ok in zip(scores, right) if low / bins <= score < (low + 1) / bins or (low == bins - 1 and score == 1.0)]
        if inside:
            total += len(inside) / len(scores) * abs(sum(score for score, _ in inside) / len(inside) - sum(ok for _, ok in inside) / len(inside))
    return total


def risk_coverage(judged: Sequence[Judged]) -> list[tuple[float, float]]:
    """The risk–coverage curve: answering only the best-scored answers, (share of questions answered, share of those wrong).

    One point per answer, best score first; questions abstained or without a short answer are never covered.
    """
    scored = sorted(_scored(judged), key=lambda row: -row[0])
    total = len(judged)
    curve = []
    wrong = 0
    for count, row in enumerate(scored, start=1):
        wrong += not row[2]
        curve.append((count / total, wrong / count))
    return curve


def evaluate_reading(reader: Reader, items: list[QAItem], paragraphs: dict[str, str]) -> ModeReport:
    """The reader alone: every answerable question read against its own paragraph (SQuAD's reading setting).

    The best span is taken whatever its margin, as SQuAD v1.1 scores a reader, so
    the row measures extraction; abstention is measured by the retrieval modes.
    """
    report = ModeReport("reading", retrieval=False)
    for item in items:
        context = paragraphs.get(item.doc or "")
        if not item.answerable or context is None:
            continue
        began = time.perf_counter()
        best = reader.read(item.question, [context]).best()
        latency = (time.perf_counter() - began) * 1000
        prediction = "" if best is None else context[best.start : best.end]
        short = None if best is None else ShortAnswer(prediction, item.doc or "", best.start, best.end, best.margin, 1)
        answer = Answer(item.question, "reading", False, (), latency, 0.0, short)
        exact, overlap = best_over_golds(prediction, list(item.answers))
        report.judged.append(Judged(item, answer, (), None, None, None, latency, exact, overlap, None))
        report.seconds += latency / 1000
    return report


def _share(values: Iterable[bool]) -> float | None:
    flags = list(values)
    return sum(flags) / len(flags) if flags else None


def _mean(values: Iterable[float]) -> float | None:
    numbers = list(values)
    return sum(numbers) / len(numbers) if numbers else None


def _nearest_rank(ordered: list[float], quantile: float) -> float | None:
    """The nearest-rank percentile: a latency some question really had."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(quantile * len(ordered)) - 1)]


# --------------------------------------------------------------------------- running


def evaluate(
    retriever: Assistant,
    items: list[QAItem],
    modes: list[str],
    k: int = DEPTH,
    relevance: Relevance | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[ModeReport]:
    """Ask every question in every mode (one loaded model) and judge the answers.

    Questions go to :meth:`Assistant.ask_modes` in chunks of :data:`CHUNK`:
    each is encoded and searched once, then ranked in every mode. A mode's
    time is the sum of its questions' latencies (what it would cost alone).
    ``relevance`` defaults to a :class:`Judge` over the indexed documents; an
    item it cannot judge is an error naming its row.
    """
    relevance = relevance or Judge({doc_id: document.text for doc_id, document in retriever.data.documents.items()})
    for item in items:
        reason = relevance.problem(item)
        if reason is not None:
            raise InputFileError(f"QA {item.where or item.qid}: {reason}")
    reports = [ModeReport(mode) for mode in modes]
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        histories = [item.history for item in chunk] if any(item.history for item in chunk) else None
        answers = retriever.ask_modes([item.question for item in chunk], k, modes, histories)
        for report in reports:
            judged = [judge_answer(item, answer, relevance) for item, answer in zip(chunk, answers[report.mode])]
            report.judged += judged
            report.seconds += sum(j.latency_ms for j in judged) / 1000
            if progress is not None:
                progress(len(chunk))
    return reports
