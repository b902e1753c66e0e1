"""Choose the reader's abstention threshold by measurement, on calibration questions only, and show it on held-out ones.

    HF_HUB_OFFLINE=1 .venv/bin/python training/calibrate_reader.py [--max-wrongly-abstained 0.03]

Each question is asked once with the reader's threshold off (``reader_threshold = -50``), and its best
margin (``logit(answer.score)``) is kept with whether the retrieval rule (cosine, term overlap) already
abstained. A threshold τ then abstains when the retrieval rule does or the margin is below τ, so every τ
is scored without asking again. Three sets, each split in two by :func:`article_split` (SQuAD: the article;
coopqa sets: the question id), ``train`` + ``calibration`` to choose τ, ``test`` to report:

* the shipped QA set's answerable questions (``qa/coopqa-fr.jsonl``): abstaining on them is wrong;
* its unanswerable questions, on-topic and off-topic: abstaining is right;
* PIAF v1.0 questions asked against the shipped corpus: none is answered there.

τ is the largest value whose wrongly-abstained share on the calibration answerable questions stays within
``--max-wrongly-abstained``; the table prints every candidate so the trade-off is visible.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from coopqa.config import load_settings
from coopqa.evaluation.qa_formats import read_qa_file
from coopqa.evaluation.splits import article_split
from coopqa.pipeline import Assistant

ROOT = Path(__file__).resolve().parents[1]
PIAF = ROOT.parent / "shared" / "datasets" / "piaf" / "piaf-v1.0.json"


def margins(retriever: Assistant, questions: list[str]) -> list[tuple[bool, float]]:
    """(retrieval rule abstained, reader margin) per question; the margin is -inf when no span was read."""
    out = []
    for start in range(0, len(questions), 64):
        for answer in retriever.ask_many(questions[start : start + 64]):
            if answer.short is None:
                out.append((True, -math.inf))
                continue
            score = min(max(answer.short.score, 1e-9), 1 - 1e-9)
            out.append((False, math.log(score / (1 - score))))
    return out


def share_abstained(values: list[tuple[bool, float]], threshold: float) -> float:
    return float(np.mean([rule or margin < threshold for rule, margin in values])) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-wrongly-abstained", type=float, default=0.03)
    parser.add_argument("--extra-unanswerable", type=Path, nargs="*", default=[], help="more JSONL sets of unanswerable questions")
    parser.add_argument("--piaf-limit", type=int, default=0, help="ask only this many PIAF questions per part (0: all)")
    args = parser.parse_args()

    settings = replace(load_settings(), reader="on", reader_threshold=-50.0)
    retriever = Assistant.open(settings, progress=True)
    shipped = read_qa_file(ROOT / "qa" / "coopqa-fr.jsonl").items
    extra = [item for path in args.extra_unanswerable for item in read_qa_file(path).items if not item.answerable]
    piaf = json.loads(PIAF.read_text(encoding="utf-8"))["data"]

    sets: dict[str, dict[str, list[str]]] = {}
    for part in ("fit", "test"):
        wanted = ("test",) if part == "test" else ("train", "calibration")
        sets[part] = {
            "answerable": [item.question for item in shipped if item.answerable and article_split(item.qid) in wanted],
            "unanswerable": [item.question for item in [*shipped, *extra] if not item.answerable and article_split(item.qid) in wanted],
            "piaf": [
                qa["question"]
                for article in piaf
                if article_split(article["title"]) in wanted
                for paragraph in article["paragraphs"]
                for qa in paragraph["qas"]
            ],
        }
        if args.piaf_limit:
            sets[part]["piaf"] = sets[part]["piaf"][: args.piaf_limit]
    measured = {part: {name: margins(retriever, questions) for name, questions in groups.items()} for part, groups in sets.items()}

    fit = measured["fit"]
    candidates = sorted({round(margin, 2) for rule, margin in fit["answerable"] if not rule and math.isfinite(margin)})
    allowed = [tau for tau in candidates if share_abstained(fit["answerable"], tau) <= args.max_wrongly_abstained]
    chosen = max(allowed) if allowed else -50.0
    grid = sorted({-50.0, *np.round(np.arange(-4, 8.01, 0.5), 2).tolist(), chosen})
    columns = [f"{part}: {name}" for part in ("fit", "test") for name in ("answerable wrongly abstained", "unanswerable abstained", "PIAF abstained")]
    print("| τ | " + " | ".join(columns) + " |")
    print("|---|---|---|---|---|---|---|")
    for tau in grid:
        mark = " **(chosen)**" if tau == chosen else ""
        row = [share_abstained(measured[part][name], tau) for part in ("fit", "test") for name in ("answerable", "unanswerable", "piaf")]
        print(f"| {tau:g}{mark} | " + " | ".join(f"{value:.3f}" for value in row) + " |")
    counts = {part: {name: len(values) for name, values in groups.items()} for part, groups in measured.items()}
    print(json.dumps({"chosen_threshold": chosen, "questions": counts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
