"""Answer typing alone as the reader: the shortest span of the expected kind nearest the question's words.

    HF_HUB_OFFLINE=1 .venv/bin/python training/typing_alone.py

Issue 11 asks to measure the options for a reader alone and combined. The trained reader alone and the reader
with answer typing as its filter are measured by ``coopqa eval`` (``COOPQA_ANSWER_TYPING=off|on``); this script
measures the third: no trained model at all. For a question answer typing classifies (a count, an amount, a sum
of money, a date, a year, a duration, a person), the candidates are the runs of 1–8 words of retrieval's
highlighted sentence (reader off) that fit the kind and do not restate the question (people: spaCy's person
entities of that sentence); the one nearest a word of the question, then the shortest, is the answer (the longest
instead was measured too, and was worse: fit typed F1 0.133 against 0.444). A question of another kind gets no
short answer, and a typed question whose sentence holds no candidate is abstained.

Printed for each half of the shipped set with the 64 on-topic unanswerable questions (``question_split``), side
by side with the default reader on the same questions: EM / F1 over the typed answerable questions and over all
answerable ones, and the share of unanswerable typed questions left without an answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from coopqa.config import load_settings
from coopqa.evaluation.answers import best_over_golds
from coopqa.evaluation.qa_formats import QAItem, read_qa_file
from coopqa.evaluation.splits import question_split
from coopqa.index.lexical import analyse
from coopqa.pipeline import Assistant
from coopqa.reading.answer_type import AnswerKind, expected_kind, restates_question, span_fits
from coopqa.reading.entities import person_entities

ROOT = Path(__file__).resolve().parent.parent
MAX_WORDS = 8
#: The distance of every candidate when no word of the sentence is the question's: they then tie on it.
NO_ANCHOR = 100
_WORD = re.compile(r"[^\s,;:()«»\"]+")


def typed_span(question: str, sentence: str, kind: AnswerKind) -> str | None:
    """The candidate of ``kind`` in ``sentence`` nearest a word of ``question`` (then the shortest), or ``None``."""
    words = list(_WORD.finditer(sentence))
    asked = set(analyse(question))
    anchors = [index for index, word in enumerate(words) if set(analyse(word.group())) & asked]
    candidates: list[tuple[int, int, str]] = []
    if kind is AnswerKind.PERSON:
        for entity in person_entities(sentence):
            at = sentence.find(entity)
            first = next((index for index, word in enumerate(words) if word.start() >= at), 0)
            candidates.append((_distance(first, first + len(entity.split()) - 1, anchors), len(entity.split()), entity))
    else:
        for first in range(len(words)):
            for last in range(first, min(first + MAX_WORDS, len(words))):
                span = sentence[words[first].start() : words[last].end()]
                if span_fits(kind, span) and not restates_question(question, span):
                    candidates.append((_distance(first, last, anchors), (last - first + 1), span))
    return min(candidates)[2] if candidates else None


def _distance(first: int, last: int, anchors: list[int]) -> int:
    return min((max(first - anchor, anchor - last, 0) for anchor in anchors), default=NO_ANCHOR)


def main() -> None:
    settings = load_settings()
    retrieval = Assistant.open(replace(settings, reader="off"), progress=False)
    reading = Assistant.open(settings, progress=False)
    items: list[QAItem] = read_qa_file(ROOT / "qa" / "coopqa-fr.jsonl").items + read_qa_file(ROOT / "qa" / "coopqa-fr-unanswerable-ontopic.jsonl").items
    for half in ("fit", "test"):
        rows: dict[str, dict[str, list]] = {name: {"typed": [], "all": [], "unanswerable": []} for name in ("typing alone", "reader (default)")}
        for item in (item for item in items if question_split(item.qid) == half):
            kind = expected_kind(item.question)
            found = retrieval.ask(item.question)
            typed = None
            if kind is not None and not found.abstained and found.hits:
                hit = found.hits[0]
                start, end = hit.highlight_start - hit.passage.start, hit.highlight_end - hit.passage.start  # document offsets
                typed = typed_span(item.question, hit.passage.text[start:end], kind)
            read = reading.ask(item.question)
            for name, answer in (("typing alone", typed), ("reader (default)", None if read.short is None else read.short.text)):
                if not item.answerable:
                    if kind is not None:
                        rows[name]["unanswerable"].append(1.0 if answer is None else 0.0)
                    continue
                em, f1 = best_over_golds(answer, list(item.answers)) if answer is not None else (0.0, 0.0)
                rows[name]["all"].append((em, f1))
                if kind is not None:
                    rows[name]["typed"].append((em, f1))
        for name, row in rows.items():
            summary: dict[str, object] = {"half": half, "reader": name}
            for part in ("typed", "all"):
                pairs = row[part]
                summary[f"{part}_questions"] = len(pairs)
                summary[f"{part}_em"] = round(sum(em for em, _ in pairs) / max(1, len(pairs)), 3)
                summary[f"{part}_f1"] = round(sum(f1 for _, f1 in pairs) / max(1, len(pairs)), 3)
            summary["typed_unanswerable"] = len(row["unanswerable"])
            summary["typed_unanswerable_abstained"] = round(sum(row["unanswerable"]) / max(1, len(row["unanswerable"])), 3)
            print(json.dumps(summary, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
