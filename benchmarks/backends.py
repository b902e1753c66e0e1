"""The encoder backends side by side in one run: cold start, app start, warm ``ask`` (reader off and on), PIAF build.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/backends.py [--backends torch,onnx,onnx-int8] [--cold-runs 5] [--app-runs 2]
                                                             [--rounds 1] [--no-piaf] [--out backends.json]

Every measured item is a fresh process, and the backends take turns item by item, so a change of the
machine's load hits them alike. Indexes of the shipped corpus are built first (not measured), which
also makes each backend's one-time exports, as set-up does.

* **cold**: ``coopqa ask QUESTION --json`` as a user runs it: process start → the answer on stdout, and
  the process's peak RSS; median of ``--cold-runs`` after one unmeasured run each; reader off, and for
  the ONNX backends reader on too.
* **app**: ``python app.py`` → the first answer of its ``/ask`` API (``gradio_client``, which polls until
  the server is up); median of ``--app-runs``.
* **warm**: one process per backend answers every answerable question of ``qa/coopqa-fr.jsonl`` one at
  a time, reader off then reader on for the same question (``Answer.latency_ms``); p50 / p95.
* **PIAF build**: the 761 PIAF v1.0 paragraphs indexed as ``coopqa eval --corpus-from-file`` does,
  process start → index saved, and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import COOPQA_COMMAND, CORPUS, PIAF, QA_FILE, ROOT, child_environment, conditions, log, percentile, run_child

QUESTION = "Quel est le budget du projet AMEM ?"
CHILDREN = Path(__file__).with_name("_children.py")

WARM = """
import json, sys, time
from dataclasses import replace
from coopqa.config import load_settings
from coopqa.evaluation.qa_formats import read_qa_file
from coopqa.pipeline import Assistant, Reader
settings = replace(load_settings(), index_dir=__import__("pathlib").Path(sys.argv[1]), reader="off")
plain = Assistant.open(settings, progress=False)
reading = Assistant(plain.data, plain.embedder, settings, reader=Reader.for_settings(replace(settings, reader="on"), progress=False))
questions = [item.question for item in read_qa_file(__import__("pathlib").Path(sys.argv[2])).items if item.answerable]
for question in questions[:10]:
    plain.ask(question); reading.ask(question)
times = {"off": [], "on": []}
for _ in range(int(sys.argv[3])):
    for question in questions:
        times["off"].append(plain.ask(question).latency_ms)
        times["on"].append(reading.ask(question).latency_ms)
print("@@RESULT " + json.dumps({"latencies_ms": times}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_first_answer(env: dict[str, str], index: Path, timeout: float) -> float:
    """Seconds from ``python app.py`` to the first ``/ask`` answer."""
    from gradio_client import Client

    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        argv = [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--index", str(index), "--feedback", str(Path(scratch) / "f.jsonl")]
        began = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            while True:
                if time.perf_counter() - began > timeout:
                    raise RuntimeError("the app did not answer in time")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if process.poll() is not None:
                        raise RuntimeError(f"app.py exited with {process.returncode}") from None
                    time.sleep(0.05)
            answer = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(QUESTION, 5, "hybrid", api_name="/ask")
            elapsed = time.perf_counter() - began
            if not answer.get("passages"):
                raise RuntimeError(f"/ask gave no passage: {str(answer)[:300]}")
            return elapsed
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="torch,onnx,onnx-int8")
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--app-runs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-piaf", action="store_true")
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    backends = args.backends.split(",")
    work = Path(tempfile.mkdtemp(prefix="coopqa-backends-"))
    envs = {backend: child_environment(backend) for backend in backends}
    figures: dict[str, Any] = {"conditions": conditions(), "question": QUESTION}
    log(f"load average {os.getloadavg()[0]:.2f}; work in {work}")

    indexes = {}
    for backend in backends:
        indexes[backend] = work / f"index-{backend}"
        log(f"{backend}: building the shipped index and the exports (not measured)")
        subprocess.run([str(COOPQA_COMMAND), "--corpus", str(CORPUS), "--index", str(indexes[backend]), "--reader", "on", "index", "--quiet"],
                       env=envs[backend], check=True, stdout=subprocess.DEVNULL)  # fmt: skip

    sides = [(backend, "off") for backend in backends] + [(backend, "on") for backend in backends if backend != "torch"]
    cold: dict[str, list[Any]] = {f"{b} reader {r}": [] for b, r in sides}
    for number in range(args.cold_runs + 1):
        for backend, reader in sides:
            argv = [str(COOPQA_COMMAND), "--corpus", str(CORPUS), "--index", str(indexes[backend]), "--reader", reader, "ask", QUESTION, "--json"]
            run = run_child(argv, envs[backend], work, args.timeout)
            if not json.loads(run.first_line).get("passages"):
                raise RuntimeError(f"{backend}: no passage")
            if number:
                cold[f"{backend} reader {reader}"].append(run)
            log(f"cold {number}/{args.cold_runs} {backend} reader {reader}: {run.first_output_s:.2f} s, {run.peak_rss_mib:.0f} MiB")
    figures["cold"] = {
        side: {"first_answer_s": statistics.median(r.first_output_s or r.wall_s for r in runs), "peak_rss_mib": statistics.median(r.peak_rss_mib for r in runs)}
        for side, runs in cold.items()
    }

    app: dict[str, list[float]] = {backend: [] for backend in backends}
    for number in range(args.app_runs):
        for backend in backends:
            app[backend].append(app_first_answer(envs[backend], indexes[backend], args.timeout))
            log(f"app {number + 1}/{args.app_runs} {backend}: {app[backend][-1]:.2f} s")
    figures["app_first_answer_s"] = {backend: statistics.median(values) for backend, values in app.items()}

    figures["warm"] = {}
    for backend in backends:
        run = run_child([sys.executable, "-c", WARM, str(indexes[backend]), str(QA_FILE), str(args.rounds)], envs[backend], work, args.timeout)
        for reader, values in run.result["latencies_ms"].items():
            ordered = sorted(values)
            figures["warm"][f"{backend} reader {reader}"] = {"p50_ms": statistics.median(ordered), "p95_ms": percentile(ordered, 0.95), "n": len(ordered)}
        log(f"warm {backend}: {figures['warm'][f'{backend} reader off']}, reader on {figures['warm'][f'{backend} reader on']}")

    if not args.no_piaf:
        figures["piaf_build"] = {}
        for backend in backends:
            folder = work / f"piaf-{backend}"
            argv = [sys.executable, str(CHILDREN), "coopqa-index", json.dumps({"squad": str(PIAF), "index": str(folder)})]
            run = run_child(argv, envs[backend], work, args.timeout)
            timings = {k: run.result.get(k) for k in ("build_s", "model_load_s", "embed_s")}
            figures["piaf_build"][backend] = {"process_s": run.wall_s, "peak_rss_mib": run.peak_rss_mib, **timings}
            log(f"PIAF build {backend}: {run.wall_s:.1f} s, {run.peak_rss_mib:.0f} MiB")
    figures["loadavg_after"] = os.getloadavg()[0]

    print(json.dumps(figures, indent=2))
    if "torch" in backends:
        cold_torch, app_torch = figures["cold"]["torch reader off"], figures["app_first_answer_s"]["torch"]
        for backend in (b for b in backends if b != "torch"):
            cold_side = figures["cold"][f"{backend} reader off"]
            line = (
                f"{backend} / torch: cold {cold_side['first_answer_s'] / cold_torch['first_answer_s']:.2f}×, "
                f"peak memory {cold_side['peak_rss_mib'] / cold_torch['peak_rss_mib']:.2f}×, app {figures['app_first_answer_s'][backend] / app_torch:.2f}×"
            )
            if "piaf_build" in figures:
                line += f", PIAF build {figures['piaf_build']['torch']['process_s'] / figures['piaf_build'][backend]['process_s']:.2f}× faster"
            print(line)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
