"""The reader's exported graph against the same graph with ONNX Runtime's transformer fusions, side by side.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/reader_fusion.py [--lengths 190,256] [--runs 30]

ONNX Runtime's online optimiser (``ORT_ENABLE_ALL``, what coopqa runs) fuses the reader's GELUs and layer
norms but leaves attention as MatMul + Softmax. ``onnxruntime.transformers.optimizer`` rewrites the graph
offline into fused ``Attention`` and ``SkipLayerNormalization`` nodes, which is the usual advice for a faster
BERT-like model on a CPU. This measures whether it helps this reader on this machine: the two graphs run the
same random window of each length (the reader's windows are about 190 tokens, 256 at most) in one process,
after a warm-up, and the largest difference between their logits is printed to show they compute the same
thing. Warm p50 over ``--runs`` runs, 2 threads, as the reader runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.transformers import optimizer

from coopqa.config import load_settings
from coopqa.model import open_reader
from coopqa.model.reader_model import READER_FILE

#: e5-small's shape: 12 heads of 32 over 384 hidden units.
HEADS, HIDDEN = 12, 384


def session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def p50_ms(graph: ort.InferenceSession, feeds: dict[str, np.ndarray], runs: int) -> tuple[float, list[np.ndarray]]:
    for _ in range(5):
        outputs = graph.run(None, feeds)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        outputs = graph.run(None, feeds)
        times.append(time.perf_counter() - began)
    return 1000 * statistics.median(times), outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="190,256")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    plain = open_reader(load_settings(), progress=False, model_file=READER_FILE).graph.path
    with tempfile.TemporaryDirectory(prefix="coopqa-fusion-") as folder:
        fused_path = Path(folder) / "reader-fused.onnx"
        fused_model = optimizer.optimize_model(str(plain), model_type="bert", num_heads=HEADS, hidden_size=HIDDEN, opt_level=0)
        print("fused nodes:", {name: count for name, count in fused_model.get_fused_operator_statistics().items() if count})
        fused_model.save_model_to_file(str(fused_path))
        graphs = {"exported (default)": session(plain), "transformer fusions": session(fused_path)}
        random = np.random.default_rng(0)
        for length in (int(value) for value in args.lengths.split(",")):
            window = random.standard_normal((1, length, HIDDEN)).astype(np.float32)
            feeds: dict[str, np.ndarray] = {"inputs_embeds": window, "attention_mask": np.ones((1, length), dtype=np.int64)}
            results = {name: p50_ms(graph, feeds, args.runs) for name, graph in graphs.items()}
            difference = max(float(np.abs(a - b).max()) for a, b in zip(*(outputs for _, outputs in results.values()), strict=True))
            timings = ", ".join(f"{name} {milliseconds:.1f} ms" for name, (milliseconds, _) in results.items())
            print(f"{length} tokens: {timings}; largest logit difference {difference:.1e}")


if __name__ == "__main__":
    main()
