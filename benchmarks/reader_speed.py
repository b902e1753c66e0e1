"""What the reader costs: warm ``ask`` latency and cold start, reader on against reader off, side by side in one run.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/reader_speed.py [--rounds 3] [--cold-runs 5] [--backend torch] [--out reader.json]

Warm: one process holds one index, one encoder and one reader; every answerable question of
``qa/coopqa-fr.jsonl`` is asked one at a time, reader off then on for the same question, so both
sides share the machine's load; p50 / p95 of ``Answer.latency_ms`` per side after 10 warm-up asks.
Cold: ``coopqa ask QUESTION --json`` as a user runs it (index built, reader exported), process start
to exit, alternating ``--reader off`` and ``--reader on``; median of ``--cold-runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from _common import percentile

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Quel est le budget du projet AMEM ?"


def warm(backend: str, rounds: int) -> dict[str, dict[str, float]]:
    from coopqa.config import load_settings
    from coopqa.evaluation.qa_formats import read_qa_file
    from coopqa.model import open_reader
    from coopqa.pipeline import Assistant, Reader

    settings = replace(load_settings({"backend": backend}), reader="off")
    plain = Assistant.open(settings, progress=False)
    reading = Assistant(plain.data, plain.embedder, settings, reader=Reader(open_reader(settings, progress=False)))
    questions = [item.question for item in read_qa_file(ROOT / "qa" / "coopqa-fr.jsonl").items if item.answerable]
    for question in questions[:10]:
        plain.ask(question)
        reading.ask(question)
    timings: dict[str, list[float]] = {"reader off": [], "reader on": []}
    for _ in range(rounds):
        for question in questions:
            timings["reader off"].append(plain.ask(question).latency_ms)
            timings["reader on"].append(reading.ask(question).latency_ms)
    return {side: {"p50_ms": percentile(sorted(v), 0.5), "p95_ms": percentile(sorted(v), 0.95), "asks": len(v)} for side, v in timings.items()}


def cold(backend: str, runs: int) -> dict[str, dict[str, float]]:
    coopqa = str(Path(sys.executable).parent / "coopqa")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COOPQA_BACKEND": backend}
    seconds: dict[str, list[float]] = {"reader off": [], "reader on": []}
    for side in ("off", "on"):  # one unmeasured run each: the page cache and any first-use export
        subprocess.run([coopqa, "ask", QUESTION, "--json", "--reader", side], env=env, capture_output=True, check=True)
    for _ in range(runs):
        for side in ("off", "on"):
            began = time.perf_counter()
            subprocess.run([coopqa, "ask", QUESTION, "--json", "--reader", side], env=env, capture_output=True, check=True)
            seconds[f"reader {side}"].append(time.perf_counter() - began)
    return {side: {"median_s": statistics.median(values), "runs": len(values)} for side, values in seconds.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = {"backend": args.backend, "warm": warm(args.backend, args.rounds), "cold": cold(args.backend, args.cold_runs)}
    warm_added = results["warm"]["reader on"]["p50_ms"] - results["warm"]["reader off"]["p50_ms"]
    cold_added = results["cold"]["reader on"]["median_s"] - results["cold"]["reader off"]["median_s"]
    print(f"| backend {args.backend} | reader off | reader on | added |")
    print("|---|---|---|---|")
    w, c = results["warm"], results["cold"]
    print(f"| warm ask p50 | {w['reader off']['p50_ms']:.1f} ms | {w['reader on']['p50_ms']:.1f} ms | {warm_added:+.1f} ms |")
    print(f"| warm ask p95 | {w['reader off']['p95_ms']:.1f} ms | {w['reader on']['p95_ms']:.1f} ms | |")
    off, on = c["reader off"]["median_s"], c["reader on"]["median_s"]
    print(f"| cold start, ask --json (median of {args.cold_runs}) | {off:.2f} s | {on:.2f} s | {cold_added:+.2f} s |")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
