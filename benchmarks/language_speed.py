"""What language detection and follow-up handling add to a warm ``ask``: with and without, side by side in one run.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/language_speed.py [--rounds 3] [--out language.json]

One process holds one index and one encoder. Every question of ``qa/coopqa-fr.jsonl``,
``qa/coopqa-en.jsonl``, ``qa/coopqa-ar.jsonl`` and ``qa/coopqa-conversations.jsonl`` (with its
``history``) is asked one at a time, alternately:

* **with**: ``Assistant.ask(question, history=…)``, the path every front end takes
  (language detection, follow-up resolution, then the search). As in the chat, the
  history's questions were asked just before (untimed), so a follow-up's topic vector
  is known; the vector cache is emptied before each question, so nothing else is;
* **without**: the same search as before issue 12: the question cleaned, encoded, searched
  and ranked with the French policy, no detection, no history.

The reader is off on both sides (it reads questions the French rule abstains on, so it would add its own cost,
which ``benchmarks/reader_speed.py`` measures). Both sides share the machine's load; p50 / p95 of wall time per ask after 10 warm-up asks,
for all questions and for those asked with a history (a follow-up searches a longer text,
so it also encodes more), plus the detection + resolution step timed alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path

from _common import percentile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
FILES = ("coopqa-fr.jsonl", "coopqa-en.jsonl", "coopqa-ar.jsonl", "coopqa-conversations.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from coopqa.config import load_settings
    from coopqa.pipeline import Assistant, clean_history, clean_question, detect_language
    from coopqa.search.conversation import SearchVectors, resolve

    # The reader is off on both sides: it reads English, Arabic and follow-up questions that the French rule would
    # abstain on or that had no short answer before, so with it on the difference would be the reader's cost
    # (``benchmarks/reader_speed.py``), not what detection and follow-up handling add.
    settings = replace(load_settings(), reader="off")
    retriever = Assistant.open(settings, progress=False)
    rows = [json.loads(line) for name in FILES for line in (ROOT / "qa" / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    asked = [(row["question"], row.get("history", [])) for row in rows]

    def conversation(history: list[str]) -> None:
        """A fresh vector cache holding only what the chat would have searched before: the earlier turns."""
        retriever.search_vectors = SearchVectors(retriever.embedder.encode_queries)
        for turn in range(len(history)):
            retriever.ask(history[turn], history=history[:turn])

    def with_(question: str, history: list[str]) -> None:
        retriever.ask(question, history=history)

    def without(question: str, history: list[str]) -> None:
        cleaned = clean_question(question, settings.max_question_chars)
        vector = retriever.embedder.encode_queries([cleaned])[0]
        retriever._answer(retriever.retriever._gather(cleaned, vector), settings.top_k, settings.mode)

    def added(question: str, history: list[str]) -> None:
        cleaned = clean_question(question, settings.max_question_chars)
        detect_language(cleaned)
        resolve(cleaned, clean_history(history, settings.max_question_chars))

    for question, history in asked[:10]:
        with_(question, history)
        without(question, history)
    sides = (("with", with_), ("without", without), ("detection + resolution alone", added))
    timings: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for question, history in asked:
            for name, run in sides:
                conversation(history)
                began = time.perf_counter()
                run(question, history)
                elapsed = (time.perf_counter() - began) * 1000
                timings.setdefault(name, []).append(elapsed)
                timings.setdefault(f"{name}, {'with' if history else 'no'} history", []).append(elapsed)
    result = {}
    for name, values in timings.items():
        ordered = sorted(values)
        result[name] = {
            "asks": len(values),
            "p50_ms": round(percentile(ordered, 0.5), 3),
            "p95_ms": round(percentile(ordered, 0.95), 3),
            "mean_ms": round(statistics.mean(values), 3),
        }
    result["added_p50_ms"] = round(result["with"]["p50_ms"] - result["without"]["p50_ms"], 3)
    for kind in ("no", "with"):
        result[f"added_p50_ms, {kind} history"] = round(result[f"with, {kind} history"]["p50_ms"] - result[f"without, {kind} history"]["p50_ms"], 3)
    result["backend"] = settings.backend
    print(json.dumps(result, indent=2))
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
