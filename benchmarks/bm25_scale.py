"""Lexical-side scale benchmark: coopqa's French BM25 (bm25s) at 10k / 100k / 1M passages.

Synthetic French passages: the PIAF v1.0 paragraphs are cut into sentences and
each passage is a random run of sentences until it reaches 700 characters (mean
~870, like coopqa's 1,000-character chunks). Caveat: the vocabulary is PIAF's
(about 11k stems), so a real 1M-passage corpus would have a much longer vocabulary tail; the
posting lists of common terms, which dominate query time, are realistic.

For each size, printed:

* analysis time: coopqa.index.lexical.analyse (lower-case, accents folded, elisions and
  stop words out, Snowball stemming) over every passage; measured on all passages
  up to 100k, and on a 100k sample x N/100k above (the tokens of a passage are the
  concatenation of its sentences' tokens, checked on a sample, so the 1M index is
  built from per-sentence tokens computed once);
* bm25s index time (method lucene, k1 1.2, b 0.75, as LexicalIndex.build) and the
  build process's peak memory;
* saved size (``LexicalIndex.save``), load time and resident memory with
  ``mmap=True`` (what coopqa does) and ``mmap=False``, each in a fresh process,
  page cache warm (the files were just written);
* query latency, one real PIAF question at a time: ``LexicalIndex.scores``
  (analyse + ``get_scores`` over all N passages, what coopqa does twice a
  question: passages and sentences) + top-100 by argpartition (coopqa's ``_top``),
  and bm25s' own ``retrieve(k=100)``, p50 and p95.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bm25_scale.py                    # 10k, 100k, 1M
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bm25_scale.py --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _children import rss_mib
from _common import directory_bytes, load_piaf, log

_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=[«A-ZÀ-ÖØ-Þ0-9])")
MIN_CHARS = 700


def piaf() -> tuple[list[str], list[str]]:
    """(the PIAF paragraphs' sentences over 20 characters, the PIAF questions)."""
    paragraphs, questions, _ = load_piaf()
    return [s.strip() for paragraph in paragraphs for s in _SENTENCE.split(paragraph) if len(s.strip()) > 20], questions


def passage_plan(n: int, lengths: np.ndarray, seed: int) -> list[np.ndarray]:
    """Sentence ids of each synthetic passage: a random start, then consecutive pool sentences up to MIN_CHARS."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(np.tile(np.arange(len(lengths)), 2))  # a shuffled stream of sentences
    starts = rng.integers(0, len(order) - 40, n)
    plans = []
    for start in starts:
        total, end = 0, start
        while total < MIN_CHARS:
            total += lengths[order[end]] + 1
            end += 1
        plans.append(order[start:end])
    return plans


def _top(scores: np.ndarray, depth: int) -> np.ndarray:
    """The ``depth`` best positions, best first (same as coopqa.search.retriever._top)."""
    depth = min(depth, len(scores))
    part = np.argpartition(-scores, depth - 1)[:depth]
    return part[np.argsort(-scores[part], kind="stable")]


# --------------------------------------------------------------------------- build (subprocess)


def build(size: int, work: Path) -> dict[str, Any]:
    import bm25s

    from coopqa.index.lexical import LexicalIndex, analyse

    sentences, _ = piaf()
    lengths = np.array([len(s) for s in sentences])
    plans = passage_plan(size, lengths, seed=size)
    chars = float(np.mean([lengths[p].sum() + len(p) - 1 for p in plans]))

    sample = plans[: min(size, 100_000)]
    texts = [" ".join(sentences[i] for i in plan) for plan in sample]
    t = time.perf_counter()
    sample_tokens = [analyse(text) for text in texts]
    analyse_s = (time.perf_counter() - t) * size / len(sample)
    sentence_tokens = [analyse(s) for s in sentences]
    for plan, tokens in zip(plans[:200], sample_tokens[:200]):
        assert [tok for i in plan for tok in sentence_tokens[i]] == tokens, "per-sentence tokens differ from whole-passage tokens"
    del texts, sample_tokens
    corpus = [[tok for i in plan for tok in sentence_tokens[i]] or ["\u2205"] for plan in plans]
    del plans
    log(f"N={size:,}: {len(corpus):,} passages tokenised, indexing")
    rss_before = rss_mib()
    t = time.perf_counter()
    model = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    model.index(corpus, show_progress=False)
    index_s = time.perf_counter() - t
    folder = work / f"bm25-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    t = time.perf_counter()
    LexicalIndex(model).save(folder)
    save_s = time.perf_counter() - t
    return {
        "N": size,
        "mean_chars": round(chars),
        "mean_terms": round(float(np.mean([len(c) for c in corpus])), 1),
        "vocabulary": len(model.vocab_dict),
        "analyse_s": round(analyse_s, 1),
        "analyse_measured_on": min(size, 100_000),
        "index_s": round(index_s, 1),
        "save_s": round(save_s, 1),
        "saved_MiB": round(directory_bytes(folder) / 2**20, 1),
        "build_rss_before_MiB": round(rss_before),
        "build_peak_MiB": round(rss_mib("VmHWM")),
    }


# --------------------------------------------------------------------------- load + query (subprocess)


def query(size: int, work: Path, mmap: bool, n_queries: int) -> dict[str, Any]:
    import bm25s

    from coopqa.index.lexical import LexicalIndex

    _, questions = piaf()
    questions = [questions[i] for i in np.random.default_rng(5).permutation(len(questions))[:n_queries]]
    folder = work / f"bm25-{size}"
    rss_start = rss_mib()
    t = time.perf_counter()
    index = LexicalIndex(bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False))
    load_s = time.perf_counter() - t
    rss_loaded = rss_mib()
    model = index._model
    for question in questions[:10]:
        _top(index.scores(question), 100)
    coopqa_path = []
    for question in questions:
        t = time.perf_counter()
        _top(index.scores(question), 100)
        coopqa_path.append((time.perf_counter() - t) * 1000)
    from coopqa.index.lexical import analyse

    retrieve = []
    for question in questions:
        terms = [term for term in analyse(question) if term in model.vocab_dict]
        if not terms:
            continue
        t = time.perf_counter()
        model.retrieve([terms], k=min(100, size), show_progress=False, n_threads=1)
        retrieve.append((time.perf_counter() - t) * 1000)

    def p(values: list[float], q: float) -> float:
        values = sorted(values)
        return values[int(q * (len(values) - 1))]

    return {
        "N": size,
        "mmap": mmap,
        "load_s": round(load_s, 3),
        "rss_loaded_delta_MiB": round(rss_loaded - rss_start),
        "rss_after_queries_MiB": round(rss_mib()),
        "scores_top100_p50_ms": round(statistics.median(coopqa_path), 2),
        "scores_top100_p95_ms": round(p(coopqa_path, 0.95), 2),
        "retrieve_k100_p50_ms": round(statistics.median(retrieve), 2),
        "retrieve_k100_p95_ms": round(p(retrieve, 0.95), 2),
        "queries": len(coopqa_path),
    }


# --------------------------------------------------------------------------- main


def run(args: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    sys.stderr.write(done.stderr[-3000:] if done.returncode else "")
    if done.returncode:
        raise SystemExit(f"{args} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "coopqa-bm25-scale")
    parser.add_argument("--keep", action="store_true", help="keep the saved indexes")
    parser.add_argument("--worker", choices=["build", "query"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mmap", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "build":
        print(json.dumps(build(args.size, args.work)))
        return
    if args.worker == "query":
        print(json.dumps(query(args.size, args.work, bool(args.mmap), args.queries)))
        return

    from importlib import metadata

    args.work.mkdir(parents=True, exist_ok=True)
    print(f"bm25s {metadata.version('bm25s')}, PyStemmer {metadata.version('PyStemmer')}, numpy {np.__version__}, scipy {metadata.version('scipy')}")
    print(f"uptime: {Path('/proc/loadavg').read_text().strip()}", flush=True)
    builds, queries = [], []
    for size in [int(s) for s in args.sizes.split(",")]:
        log(f"N={size:,}: build")
        builds.append(run(["--worker", "build", "--size", str(size), "--work", str(args.work)]))
        print(json.dumps(builds[-1]), flush=True)
        for mmap in (1, 0):
            log(f"N={size:,}: load + query, mmap={bool(mmap)}")
            queries.append(run(["--worker", "query", "--size", str(size), "--work", str(args.work), "--mmap", str(mmap), "--queries", str(args.queries)]))
            print(json.dumps(queries[-1]), flush=True)
        if not args.keep:
            shutil.rmtree(args.work / f"bm25-{size}", ignore_errors=True)
        print(f"(load average after N={size:,}: {Path('/proc/loadavg').read_text().strip()})", flush=True)

    print("\n## Build\n")
    print("| N | mean chars | mean terms | vocabulary | analyse s | bm25s index s | save s | saved MiB | build peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for b in builds:
        measured = "" if b["analyse_measured_on"] == b["N"] else f" (from {b['analyse_measured_on']:,})"
        print(
            f"| {b['N']:,} | {b['mean_chars']} | {b['mean_terms']} | {b['vocabulary']:,} | {b['analyse_s']}{measured} | {b['index_s']} | {b['save_s']} "
            f"| {b['saved_MiB']} | {b['build_peak_MiB']} |"
        )
    print("\n## Load and query (one question at a time, warm page cache)\n")
    print("| N | mmap | load s | RSS after load (+MiB) | RSS after queries MiB | scores+top100 p50 ms | p95 ms | bm25s retrieve k=100 p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for q in queries:
        print(
            f"| {q['N']:,} | {q['mmap']} | {q['load_s']} | {q['rss_loaded_delta_MiB']} | {q['rss_after_queries_MiB']} | {q['scores_top100_p50_ms']} "
            f"| {q['scores_top100_p95_ms']} | {q['retrieve_k100_p50_ms']} | {q['retrieve_k100_p95_ms']} |"
        )


if __name__ == "__main__":
    main()
