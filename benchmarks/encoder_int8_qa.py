"""End-to-end check of the int8 ONNX encoder: ``coopqa eval`` with fp32 PyTorch vs ONNX int8, same everything else.

``benchmarks/encoder_throughput.py`` measures dense-only retrieval; this runs the
real pipeline (hybrid fusion, highlight, abstention) under each encoder backend
(``COOPQA_BACKEND=torch`` / ``onnx-int8``), on:

* the shipped QA set (``qa/coopqa-fr.jsonl``, modes bm25, dense, hybrid): hit@k,
  MRR, highlight, abstention;
* ``latency``: ``benchmarks/ask_latency.py`` (warm ``Retriever.ask``, one question at
  a time, hybrid) under each encoder;
* PIAF v1.0 (all 3,835 questions): over its own paragraphs (``--corpus-from-file``,
  dense and hybrid), and over the shipped corpus, which answers none of them
  (``piaf-abstain``: the abstention rate).

Each run builds its own index in a temporary folder, so passages and questions are
encoded by the same backend. Each backend uses its own default abstention threshold
(0.82 for torch, 0.825 for onnx-int8); set ``COOPQA_ABSTAIN_THRESHOLD`` to try another
for both. The int8 model is the one coopqa exports into its model cache at first use.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/encoder_int8_qa.py [--sets qa,piaf,piaf-abstain,latency] [--backends torch,onnx-int8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PIAF = Path("/work/shared/datasets/piaf/piaf-v1.0.json")
#: name: (QA file, modes, extra eval flags)
SETS = {
    "qa": (ROOT / "qa" / "coopqa-fr.jsonl", "bm25,dense,hybrid", []),
    "piaf": (PIAF, "dense,hybrid", ["--corpus-from-file"]),  # PIAF questions over PIAF's own 761 paragraphs
    "piaf-abstain": (PIAF, "hybrid", []),  # PIAF questions over the shipped corpus: all should be abstained
}
#: benchmarks/ask_latency.py (warm, one question at a time, hybrid) under each encoder
LATENCY = "latency"


def worker(backend: str, argv: list[str]) -> int:
    """Run ``coopqa`` (or ``ask_latency.py``) with the encoder ``backend``."""
    os.environ["COOPQA_BACKEND"] = backend
    if argv[:1] == ["ask-latency"]:  # benchmarks/ask_latency.py reads load_settings(environ={}): give it the backend
        import runpy

        import coopqa.config

        defaults = coopqa.config.load_settings
        coopqa.config.load_settings = lambda *args, **kwargs: replace(defaults(*args, **kwargs), backend=backend)
        sys.argv = [str(HERE / "ask_latency.py"), *argv[1:]]
        runpy.run_path(str(HERE / "ask_latency.py"), run_name="__main__")
        return 0
    from coopqa.cli import main

    return main(argv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="qa,piaf,piaf-abstain,latency")
    parser.add_argument("--backends", default="torch,onnx-int8")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.worker:
        raise SystemExit(worker(args.worker, rest))
    print(f"uptime: {Path('/proc/loadavg').read_text().strip()}", flush=True)
    for name in args.sets.split(","):
        if name == LATENCY:
            for backend in args.backends.split(","):
                done = subprocess.run(
                    [sys.executable, __file__, "--worker", backend, "ask-latency", "--rounds", "3"], capture_output=True, text=True, check=False, cwd=ROOT
                )
                print(f"\n## ask latency (benchmarks/ask_latency.py --rounds 3), encoder {backend}: exit {done.returncode}")
                print(done.stdout.strip() or done.stderr[-3000:], flush=True)
            continue
        qa_file, modes, extra = SETS[name]
        for backend in args.backends.split(","):
            with tempfile.TemporaryDirectory() as scratch:
                command = [
                    sys.executable, __file__, "--worker", backend,
                    "--corpus", str(ROOT / "corpus"), "--index", str(Path(scratch) / "index"),
                    "eval", str(qa_file), "--modes", modes, *extra,
                ]
                began = time.perf_counter()
                done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
                print(f"\n## {name} ({qa_file.name}), encoder {backend}: exit {done.returncode}, {time.perf_counter() - began:.0f} s")
                print(done.stdout.strip() or done.stderr[-3000:], flush=True)


if __name__ == "__main__":
    main()
