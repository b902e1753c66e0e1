"""Measure retrieval on a QA set: ranking metrics, highlight accuracy, abstention.

Relevance for a coopqa QA item (JSONL with ``evidence`` and ``answer``): the
evidence is located in its document, and the answer inside the evidence. A
passage is relevant when it covers at least half of the evidence's characters
*and* contains that located answer, i.e. a reader of the passage alone sees the
answer with enough of its supporting sentence to trust it. (Full containment
would punish a passage boundary that cuts a long evidence sentence after the
answer; mere answer containment would reward "2017" found in the wrong
paragraph.) With ``answer`` only, a passage is relevant when it contains the
answer, compared accent- and apostrophe-insensitively.

Metric definitions follow sentence-transformers' InformationRetrievalEvaluator
and BEIR: hit@k (at least one relevant passage in the top k), recall@k (share
of the relevant *evidence spans*: one per question, so equal to hit@k here),
MRR@10, nDCG@10 with binary gains.
"""

from __future__ import annotations

import json
import math
import statistics
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from coopqa.chunking import Passage
from coopqa.errors import InputFileError
from coopqa.lexical import fold_accents
from coopqa.retrieval import Answer, Retriever

KS = (1, 3, 5, 10)


@dataclass(frozen=True)
class QAItem:
    qid: str
    question: str
    answerable: bool = True
    answers: tuple[str, ...] = ()
    evidence: str | None = None
    doc: str | None = None
    line: int = 0


def normalise_for_match(text: str) -> str:
    """Compare answers the way a reader would: no accents, one apostrophe, one space."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'").lower()
    return " ".join(fold_accents(text).split())


def read_qa_jsonl(path: Path) -> list[QAItem]:
    """QA items of a JSONL file; a malformed line is an error naming it."""
    items: list[QAItem] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(f"cannot read QA file {path}: {error}") from None
    for number, line in enumerate(lines, start=1):
        if line.strip():
            items.append(_qa_item(line, path, number))
    if not items:
        raise InputFileError(f"QA file {path} holds no questions")
    return items


def _qa_item(line: str, path: Path, number: int) -> QAItem:
    where = f"{path} line {number}"
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        raise InputFileError(f"{where}: not valid JSON") from None
    if not isinstance(record, dict):
        raise InputFileError(f"{where}: expected a JSON object")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise InputFileError(f"{where}: \"question\" must be a non-empty string")
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        raise InputFileError(f"{where}: \"answerable\" must be true or false")
    raw_answers = record.get("answers", record.get("answer", []))
    answers = (raw_answers,) if isinstance(raw_answers, str) else tuple(raw_answers) if isinstance(raw_answers, list) else None
    if answers is None or not all(isinstance(a, str) and a.strip() for a in answers):
        raise InputFileError(f"{where}: \"answer\" must be a string or \"answers\" a list of strings")
    evidence = record.get("evidence")
    if evidence is not None and (not isinstance(evidence, str) or not evidence.strip()):
        raise InputFileError(f"{where}: \"evidence\" must be a non-empty string")
    if answerable and not answers and evidence is None:
        raise InputFileError(f"{where}: an answerable question needs \"answer\" or \"evidence\"")
    qid = record.get("id", f"line-{number}")
    return QAItem(str(qid), question, answerable, answers, evidence, record.get("doc"), number)


@dataclass
class Judged:
    """One question's outcome in one mode."""

    item: QAItem
    answer: Answer
    first_relevant_rank: int | None
    highlight_has_answer: bool | None


@dataclass
class ModeReport:
    mode: str
    judged: list[Judged] = field(default_factory=list)

    def metrics(self) -> dict[str, float | int | None]:
        answerable = [j for j in self.judged if j.item.answerable]
        unanswerable = [j for j in self.judged if not j.item.answerable]
        result: dict[str, float | int | None] = {"questions": len(self.judged), "answerable": len(answerable), "unanswerable": len(unanswerable)}
        ranks = [j.first_relevant_rank for j in answerable]
        for k in KS:
            result[f"hit@{k}"] = _share(r is not None and r <= k for r in ranks)
            result[f"recall@{k}"] = result[f"hit@{k}"]
        result["mrr@10"] = _mean(1.0 / r if r is not None and r <= 10 else 0.0 for r in ranks)
        result["ndcg@10"] = _mean(1.0 / math.log2(r + 1) if r is not None and r <= 10 else 0.0 for r in ranks)
        highlights = [j.highlight_has_answer for j in answerable if j.highlight_has_answer is not None]
        result["highlight_accuracy"] = _share(highlights) if highlights else None
        result["wrongly_abstained"] = _share(j.answer.abstained for j in answerable) if answerable else None
        result["abstained_unanswerable"] = _share(j.answer.abstained for j in unanswerable) if unanswerable else None
        latencies = sorted(j.answer.latency_ms for j in self.judged)
        result["latency_p50_ms"] = round(statistics.median(latencies), 2) if latencies else None
        result["latency_p95_ms"] = round(latencies[min(len(latencies) - 1, math.ceil(0.95 * len(latencies)) - 1)], 2) if latencies else None
        return result


def _share(values: Iterable[bool]) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0


class Judge:
    """Decides relevance of passages for QA items against the indexed documents."""

    def __init__(self, documents: dict[str, str]) -> None:
        self.documents = documents

    def locate(self, item: QAItem) -> tuple[str, int, int, tuple[int, int] | None] | None:
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

    def is_relevant(self, passage: Passage, item: QAItem, located: tuple[str, int, int, tuple[int, int] | None] | None) -> bool:
        if located is not None:
            doc, start, end, answer_span = located
            if passage.doc_id != doc:
                return False
            overlap = max(0, min(end, passage.end) - max(start, passage.start))
            if overlap * 2 < end - start:
                return False
            return answer_span is None or (passage.start <= answer_span[0] and answer_span[1] <= passage.end)
        return contains_answer(passage.text, item.answers)


def contains_answer(text: str, answers: tuple[str, ...]) -> bool:
    haystack = normalise_for_match(text)
    return any(normalise_for_match(answer) in haystack for answer in answers)


def evaluate(retriever: Retriever, items: list[QAItem], modes: list[str], k: int = 10) -> list[ModeReport]:
    """Ask every question in every mode (the model is loaded once) and judge the answers."""
    judge = Judge({doc_id: document.text for doc_id, document in retriever.data.documents.items()})
    located = {}
    for item in items:
        if item.answerable and item.evidence is not None:
            found = judge.locate(item)
            if found is None:
                raise InputFileError(f"QA line {item.line} ({item.qid}): its evidence is not in the indexed corpus")
            located[item.qid] = found
    reports = []
    for mode in modes:
        answers = retriever.ask_many([item.question for item in items], k, mode)
        report = ModeReport(mode)
        for item, answer in zip(items, answers):
            first = None
            highlight = None
            if item.answerable:
                where = located.get(item.qid)
                first = next((hit.rank for hit in answer.hits if judge.is_relevant(hit.passage, item, where)), None)
                if answer.hits and item.answers:
                    top = answer.hits[0]
                    text = retriever.data.documents[top.passage.doc_id].text[top.highlight_start : top.highlight_end]
                    highlight = contains_answer(text, item.answers)
            report.judged.append(Judged(item, answer, first, highlight))
        reports.append(report)
    return reports
