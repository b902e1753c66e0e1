"""e5's tokenizer loaded by ``tokenizers`` (its ``tokenizer.json``) and by SentencePiece (coopqa's query path), side by side.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/tokenizer_memory.py [--rounds 3]

Each load runs in a fresh subprocess, the two alternating, so that neither inherits the other's
memory; each child reports its peak RSS before and after loading, the load time, and the time to
tokenise PIAF v1.0's 761 paragraphs. The medians over the rounds are printed as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
kind, tokenizer_json, piaf = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
texts = [p["context"] for a in json.loads(piaf.read_text(encoding="utf-8"))["data"] for p in a["paragraphs"]]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.perf_counter()
if kind == "tokenizers":
    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(str(tokenizer_json))
    encode = lambda batch: tokenizer.encode_batch(batch)
else:
    from coopqa.model.pieces import PieceTokenizer
    tokenizer = PieceTokenizer(tokenizer_json)
    encode = lambda batch: tokenizer.encode_batch(batch)
loaded = time.perf_counter() - began
began = time.perf_counter()
encode(texts)
encoded = time.perf_counter() - began
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"load_s": loaded, "tokenise_piaf_s": encoded, "peak_rss_added_mib": (after - before) / 1024, "peak_rss_mib": after / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from pathlib import Path

    from coopqa.config import load_settings
    from coopqa.model.embedder import resolve_model

    folder, _model_id = resolve_model(load_settings())
    export = Path(folder) / "onnx"
    if not (export / "tokenizer.model").is_file():
        raise SystemExit(f"no export in {export}: run `coopqa index` once first")
    piaf = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "piaf" / "piaf-v1.0.json"
    runs: dict[str, list[dict[str, float]]] = {"tokenizers": [], "sentencepiece": []}
    for _round in range(args.rounds):
        for kind in runs:
            output = subprocess.run([sys.executable, "-c", CHILD, kind, str(export / "tokenizer.json"), str(piaf)], capture_output=True, text=True, check=True)
            runs[kind].append(json.loads(output.stdout))
    medians = {kind: {key: round(statistics.median(run[key] for run in rows), 3) for key in rows[0]} for kind, rows in runs.items()}
    print(json.dumps(medians, indent=2))


if __name__ == "__main__":
    main()
