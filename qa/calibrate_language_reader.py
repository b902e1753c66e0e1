"""Choose the reader's "no answer" margin for English and Arabic questions on one half of each set, report the other half.

    HF_HUB_OFFLINE=1 .venv/bin/python qa/calibrate_language_reader.py [--languages en,ar] [--max-wrongly-abstained 0.03]

The reader was trained on French questions only, but it reads an English or Arabic question against
the French passages it is given: this measures how well, and where its margin should cut. Each question
of ``qa/coopqa-<lang>.jsonl`` is asked once with the reader off (the language's own fusion and z-score
rule, ``coopqa.search.language.POLICIES``); the reader then reads the best passage, as the retriever does.

On the ``fit`` half (``coopqa.evaluation.splits.question_split``) the threshold is the largest margin that
keeps answerable questions wrongly abstained (retrieval's rule or the reader's) within the bound (or, when
retrieval's rule alone exceeds it, no higher than retrieval's), the rule French uses
(``training/reader_policy.py``). Printed per language and half: wrongly abstained, unanswerable abstained
and short-answer F1 (an abstained answerable question scores 0), at that threshold and with the reader
not abstaining at all. The chosen values go into ``POLICIES`` by hand.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from coopqa.config import load_settings
from coopqa.evaluation.answers import best_over_golds
from coopqa.evaluation.qa_formats import read_qa_file
from coopqa.evaluation.splits import question_split
from coopqa.model import open_reader
from coopqa.pipeline import Assistant, Reader

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = np.arange(-15.0, 10.01, 0.25)


@dataclass(frozen=True)
class Read:
    """One question, asked with the reader off and then read."""

    half: str
    answerable: bool
    retrieval_abstained: bool
    margin: float  # -inf when the reader found no span
    f1: float  # of the span read, against the French answers


def read_set(retriever: Assistant, reader: Reader, language: str) -> list[Read]:
    rows = []
    for item in read_qa_file(ROOT / "qa" / f"coopqa-{language}.jsonl").items:
        answer = retriever.ask(item.question)
        margin, f1 = -np.inf, 0.0
        if answer.hits:
            passage = answer.hits[0].passage
            best = reader.read(item.question, [passage.text]).best()
            if best is not None:
                margin = best.margin
                if item.answerable and item.answers:
                    f1 = best_over_golds(passage.text[best.start : best.end], list(item.answers))[1]
        rows.append(Read(question_split(item.qid), item.answerable, answer.abstained, float(margin), f1))
    return rows


def figures(rows: list[Read], threshold: float) -> dict[str, float]:
    answerable = [row for row in rows if row.answerable]
    unanswerable = [row for row in rows if not row.answerable]

    def abstains(row: Read) -> bool:
        return row.retrieval_abstained or row.margin < threshold

    return {
        "wrongly_abstained": float(np.mean([abstains(row) for row in answerable])) if answerable else 0.0,
        "abstained_unanswerable": float(np.mean([abstains(row) for row in unanswerable])) if unanswerable else 0.0,
        "short_answer_f1": float(np.mean([0.0 if abstains(row) else row.f1 for row in answerable])) if answerable else 0.0,
        "answerable": float(len(answerable)),
        "unanswerable": float(len(unanswerable)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", default="en,ar")
    parser.add_argument("--max-wrongly-abstained", type=float, default=0.03)
    args = parser.parse_args()
    settings = load_settings()
    retriever = Assistant.open(replace(settings, reader="off"), progress=False)
    reader = Reader(open_reader(settings, progress=False))
    chosen: dict[str, float] = {}
    for language in args.languages.split(","):
        rows = read_set(retriever, reader, language)
        fit = [row for row in rows if row.half == "fit"]
        # never stricter than retrieval's rule with the reader at its laxest (a question it finds no span in abstains anyway)
        bound = max(args.max_wrongly_abstained, figures(fit, float(THRESHOLDS[0]))["wrongly_abstained"])
        chosen[language] = max(float(t) for t in THRESHOLDS if figures(fit, float(t))["wrongly_abstained"] <= bound)
        for half in ("fit", "test"):
            part = [row for row in rows if row.half == half]
            at = {key: round(value, 3) for key, value in figures(part, chosen[language]).items()}
            never = {key: round(value, 3) for key, value in figures(part, -np.inf).items()}
            print(json.dumps({"language": language, "half": half, "threshold": chosen[language], "at_threshold": at, "reader_never_abstains": never}))
    print(json.dumps({"chosen": chosen}))


if __name__ == "__main__":
    main()
