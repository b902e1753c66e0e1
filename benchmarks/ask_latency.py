"""Warm ``ask`` latency on the shipped corpus, one question at a time.

What a user of the app or of ``Retriever.ask`` waits for once the model and
index are loaded: question encoding, dense + BM25 search, fusion, highlight.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/ask_latency.py [--rounds 3] [--mode hybrid]

Prints p50/p95/max in milliseconds over every question of qa/coopqa-fr.jsonl.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from coopqa.config import load_settings
from coopqa.evaluation.metrics import read_qa_jsonl
from coopqa.search.retriever import Retriever

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the question set")
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "dense", "bm25"])
    parser.add_argument("--backend", default="torch", choices=["torch", "onnx-int8"], help="encoder backend (default: torch)")
    args = parser.parse_args()

    questions = [item.question for item in read_qa_jsonl(ROOT / "qa" / "coopqa-fr.jsonl")]
    with tempfile.TemporaryDirectory() as scratch:
        settings = replace(load_settings({"backend": args.backend}, environ={}), corpus_dir=ROOT / "corpus", index_dir=Path(scratch) / "index")
        retriever = Retriever.open(settings, progress=False)
        for question in questions[:10]:  # warm-up: first calls allocate buffers
            retriever.ask(question, mode=args.mode)
        timings = []
        for _ in range(args.rounds):
            for question in questions:
                began = time.perf_counter()
                retriever.ask(question, mode=args.mode)
                timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(f"ask latency, mode={args.mode}, {len(timings)} questions, warm, one at a time")
    print(f"p50 {statistics.median(timings):.1f} ms   p95 {p95:.1f} ms   max {timings[-1]:.1f} ms")


if __name__ == "__main__":
    main()
