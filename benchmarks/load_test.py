"""Load test: the real chat app under concurrent ``/ask`` calls, on loopback only.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/load_test.py [--clients 8] [--seconds 60] [--concurrency 2]

1. Starts ``python app.py --host 127.0.0.1 --port <free port> --concurrency N`` as a
   user would, on a private index folder (built by the app at start-up unless
   ``--index`` names an existing one) and a private feedback file.
2. ``--clients`` threads, one ``gradio_client.Client`` each, send the questions of
   ``qa/coopqa-fr.jsonl`` (answerable and unanswerable) to ``/ask`` for ``--seconds``,
   at most ``--max-requests`` in all.
3. Every response is checked: no exception, the JSON contract, the echoed
   question is the one sent (no cross-talk between clients), at most k
   passages, and the same question always gets the same top passage.
4. Spot check: for up to ``--spot-check`` distinct questions, the top passage's
   (doc, start) from the API equals ``coopqa ask --batch FILE --json`` on the
   same index.
5. Prints requests, errors, throughput, p50/p95/max latency, and the server's
   RSS (``VmRSS`` from ``/proc/<pid>/status``) after start-up and at the end,
   plus its peak (``VmHWM``).

Exit status 0 when there was no error and every spot check agreed, else 1.
Everything is bounded: server start-up (``--startup-timeout``), each request
(``--request-timeout``), the run (``--seconds``, ``--max-requests``), and the
server is always stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _children import memory_kib
from _common import COOPQA_COMMAND, CORPUS, ROOT, percentile, qa_questions

LOOPBACK = "127.0.0.1"
PASSAGE_KEYS = {"rank", "doc", "section", "start", "end", "text", "score", "highlight"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])

    def bounded(low: int, high: int) -> Any:
        def parse(text: str) -> int:
            value = int(text)
            if not low <= value <= high:
                raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
            return value

        return parse

    parser.add_argument("--clients", type=bounded(1, 64), default=8, help="concurrent clients (default 8)")
    parser.add_argument("--seconds", type=bounded(1, 900), default=60, help="how long to send questions (default 60)")
    parser.add_argument("--max-requests", type=bounded(1, 100_000), default=20_000, help="stop after this many requests (default 20000)")
    parser.add_argument("--concurrency", type=bounded(1, 64), default=2, help="app.py --concurrency (default 2)")
    parser.add_argument("-k", type=bounded(1, 100), default=5, help="passages per answer (default 5)")
    parser.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    parser.add_argument("--spot-check", type=bounded(0, 500), default=40, help="distinct questions compared with coopqa ask --batch (default 40)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="corpus folder (default: corpus/)")
    parser.add_argument("--index", type=Path, help="index folder to use (default: a temporary one, built by the app)")
    parser.add_argument("--startup-timeout", type=bounded(10, 1800), default=600, help="seconds allowed for the app to start (default 600)")
    parser.add_argument("--request-timeout", type=bounded(1, 600), default=120, help="seconds allowed per request (default 120)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- server


def coopqa_defaults() -> dict[str, str]:
    """This environment without COOPQA_* settings, offline: the server and the CLI both run with coopqa's defaults."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("COOPQA_")}, "HF_HUB_OFFLINE": "1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"app.py exited with status {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/config", timeout=5):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        raise SystemExit(f"app.py did not answer on {self.url} within {timeout} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)


def start_server(args: argparse.Namespace, index: Path, work: Path) -> Server:
    port = free_port()
    log = work / "server.log"
    command = [
        sys.executable, str(ROOT / "app.py"),
        "--host", LOOPBACK, "--port", str(port), "--concurrency", str(args.concurrency),
        "--feedback", str(work / "feedback.jsonl"), "--corpus", str(args.corpus), "--index", str(index),
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=work, env=coopqa_defaults(), stdout=sink, stderr=subprocess.STDOUT)
    return Server(process, f"http://{LOOPBACK}:{port}", log)


# --------------------------------------------------------------------------- load


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    top: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    abstained: Counter[bool] = field(default_factory=Counter)
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def check_answer(question: str, answer: Any, k: int, mode: str) -> str | None:
    """Why ``answer`` breaks the /ask contract, or None."""
    if not isinstance(answer, dict):
        return f"not a JSON object: {type(answer).__name__}"
    if answer.get("question") != question:
        return f"asked {question!r}, the answer is for {answer.get('question')!r}"
    passages = answer.get("passages")
    if not isinstance(passages, list) or len(passages) > k or (not passages and not answer.get("abstained")):
        return f"{len(passages) if isinstance(passages, list) else passages!r} passages for k={k}"
    if answer.get("mode") != mode or not isinstance(answer.get("abstained"), bool):
        return "wrong mode or abstained flag"
    for rank, passage in enumerate(passages, start=1):
        if set(passage) != PASSAGE_KEYS or passage["rank"] != rank:
            return f"passage {rank} has keys {sorted(passage)}"
        if not passage["start"] <= passage["highlight"]["start"] < passage["highlight"]["end"] <= passage["end"]:
            return f"passage {rank}: highlight {passage['highlight']} outside [{passage['start']}, {passage['end']})"
    return None


def client_loop(number: int, url: str, questions: list[str], args: argparse.Namespace, deadline: float, results: Results) -> None:
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
    except Exception as error:
        with results.lock:
            results.errors.append(f"client {number}: cannot connect: {type(error).__name__}: {error}")
        return
    position = number * 7
    while time.monotonic() < deadline:
        with results.lock:
            if results.sent >= args.max_requests:
                return
            results.sent += 1
        question = questions[position % len(questions)]
        position += 1
        began = time.perf_counter()
        try:
            job = client.submit(question, args.k, args.mode, api_name="/ask")
            answer = job.result(timeout=args.request_timeout)
        except Exception as error:
            with results.lock:
                results.errors.append(f"client {number}: {question!r}: {type(error).__name__}: {str(error)[:200]}")
            continue
        elapsed = (time.perf_counter() - began) * 1000
        problem = check_answer(question, answer, args.k, args.mode)
        top = (answer["passages"][0]["doc"], answer["passages"][0]["start"], answer["passages"][0]["end"]) if not problem and answer["passages"] else None
        with results.lock:
            results.latencies_ms.append(elapsed)
            if problem:
                results.errors.append(f"client {number}: {problem}")
                continue
            results.abstained[answer["abstained"]] += 1
            if top is not None:
                seen = results.top.setdefault(question, top)
                if seen != top:
                    results.errors.append(f"{question!r}: top passage {top} differs from an earlier answer {seen}")


# --------------------------------------------------------------------------- spot check


def spot_check(args: argparse.Namespace, index: Path, work: Path, results: Results) -> tuple[int, list[str]]:
    """Top passages from the API against ``coopqa ask --batch --json`` on the same index."""
    questions = sorted(results.top)[: args.spot_check]
    if not questions:
        return 0, []
    batch = work / "spot-check.jsonl"
    batch.write_text("".join(json.dumps({"id": i, "question": q}, ensure_ascii=False) + "\n" for i, q in enumerate(questions)), encoding="utf-8")
    command = [
        str(COOPQA_COMMAND), "--corpus", str(args.corpus), "--index", str(index),
        "ask", "--batch", str(batch), "--json", "-k", str(args.k), "--mode", args.mode,
    ]  # fmt: skip
    done = subprocess.run(command, env=coopqa_defaults(), capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        return 0, [f"coopqa ask --batch failed ({done.returncode}): {done.stderr.strip()[-500:]}"]
    mismatches = []
    for line in done.stdout.splitlines():
        record = json.loads(line)
        question = questions[record["id"]]
        first = record["passages"][0] if record["passages"] else None
        batch_top = (first["doc"], first["start"], first["end"]) if first else None
        if batch_top != results.top[question]:
            mismatches.append(f"{question!r}: API {results.top[question]} vs batch {batch_top}")
    return len(questions), mismatches


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    questions = qa_questions()
    work = Path(tempfile.mkdtemp(prefix="coopqa-load-"))
    index = args.index or work / "index"
    server = start_server(args, index, work)
    try:
        began = time.monotonic()
        server.wait_ready(args.startup_timeout)
        startup_s = time.monotonic() - began
        rss_start = memory_kib(server.process.pid)
        results = Results()
        deadline = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=client_loop, args=(n, server.url, questions, args, deadline, results), daemon=True) for n in range(args.clients)
        ]
        load_began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + args.request_timeout + 60)
        wall_s = time.monotonic() - load_began
        stuck = sum(thread.is_alive() for thread in threads)
        if stuck:
            results.errors.append(f"{stuck} client(s) still running after the time allowed")
        rss_end = memory_kib(server.process.pid)
        alive = server.process.poll() is None
        if not alive:
            results.errors.append(f"the server died during the run (status {server.process.returncode})")
        checked, mismatches = spot_check(args, index, work, results) if alive else (0, [])
        server_errors = server.tail().count("Traceback")
    finally:
        server.stop()

    ordered = sorted(results.latencies_ms)
    answered = len(ordered)
    figures: dict[str, Any] = {
        "clients": args.clients,
        "app_concurrency": args.concurrency,
        "seconds": round(wall_s, 1),
        "startup_s": round(startup_s, 1),
        "requests": answered,
        "errors": len(results.errors),
        "throughput_rps": round(answered / wall_s, 2) if wall_s else 0.0,
        "latency_ms": {
            "p50": round(statistics.median(ordered), 1) if ordered else None,
            "p95": round(percentile(ordered, 0.95), 1) if ordered else None,
            "max": round(ordered[-1], 1) if ordered else None,
        },
        "abstained_share": round(results.abstained[True] / max(sum(results.abstained.values()), 1), 3),
        "distinct_questions": len(results.top),
        "spot_check": {"questions": checked, "mismatches": len(mismatches)},
        "server_rss_mib": {
            "start": round(rss_start.get("VmRSS", 0) / 1024, 1),
            "end": round(rss_end.get("VmRSS", 0) / 1024, 1),
            "peak": round(rss_end.get("VmHWM", 0) / 1024, 1),
        },
        "server_tracebacks": server_errors,
    }
    print(f"coopqa load test: {args.clients} clients for {args.seconds} s against app.py --concurrency {args.concurrency} (k={args.k}, {args.mode})")
    print(f"  server start-up       {figures['startup_s']} s (model + index{' + build' if args.index is None else ''})")
    print(f"  requests answered     {answered} in {figures['seconds']} s  →  {figures['throughput_rps']} questions/s")
    latency = figures["latency_ms"]
    print(f"  latency (client side) p50 {latency['p50']} ms   p95 {latency['p95']} ms   max {latency['max']} ms")
    print(f"  errors                {len(results.errors)}   (server tracebacks in its log: {server_errors})")
    print(f"  abstained             {figures['abstained_share']:.1%} of answers, {len(results.top)} distinct questions")
    print(f"  spot check vs CLI     {checked - len(mismatches)}/{checked} top passages identical to coopqa ask --batch --json")
    rss = figures["server_rss_mib"]
    print(f"  server RSS            {rss['start']} MiB after start-up → {rss['end']} MiB at the end (peak {rss['peak']} MiB)")
    for line in (results.errors + mismatches)[:20]:
        print(f"  ! {line}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if not results.errors and not mismatches and server_errors == 0 and answered else 1


if __name__ == "__main__":
    sys.exit(main())
