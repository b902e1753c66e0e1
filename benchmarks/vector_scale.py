"""Dense-side scale benchmark: FAISS Flat vs HNSW vs IVF at 10k / 100k / 1M passages.

The vectors are realistic rather than uniform on the sphere: the database is made
of real multilingual-e5-small PIAF paragraph vectors ("passage: ", 761 of them),
each synthetic passage a random mix of two paragraphs plus Gaussian noise shaped like their covariance,
renormalised, so the cloud keeps e5's anisotropy (all cosines are high) and its
local structure; the queries are the *real* PIAF question vectors ("query: ").
The script prints how close the synthetic cosine distribution is to the real one.

For each size and index it prints: build time (train + add), index size (bytes of
the serialised index = what ``dense.faiss`` would weigh), p50 / p95 search latency
for ONE query at a time (k=10, as coopqa searches for one user; FAISS OpenMP
threads left at the production default, ``faiss.omp_get_max_threads()``), and
recall@10 against the exact (Flat) top 10. Search parameters (HNSW efSearch, IVF
nprobe) are swept and the cheapest setting reaching recall@10 >= 0.95 is marked.

Indexes: IndexFlatIP (exact, what coopqa uses today; also with 1 OpenMP thread);
IndexHNSWFlat M=32; with nlist = 4 * sqrt(N), coarse k-means once per N on min(N, 40 * nlist) vectors:
IndexIVFFlat, IndexIVFScalarQuantizer (8 bits, 384 B a vector), IndexIVFPQ
m=48 x 8 bits (48 B a vector) and IndexIVFPQ m=96 re-ranked exactly over 16 x k
candidates (IndexRefineFlat, which keeps the fp32 vectors too).

Besides recall@10 against the exact top 10, "gold paragraph in top 10" is the
share of the questions whose own PIAF paragraph (the 761 real paragraphs sit at
random rows of the database, among N-761 synthetic distractors) is in the top 10:
the quality a user feels, exact or approximate.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/vector_scale.py                     # 10k, 100k, 1M
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/vector_scale.py --sizes 10000,100000
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/vector_scale.py --sizes 1000000 --indexes flat,hnsw,ivfflat,ivfsq8
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/vector_scale.py --sizes 100000 --isotropic 0.02 --indexes flat,hnsw,ivfflat

The HNSW build at 1M is guarded: it adds in chunks and, when the projected build
time exceeds ``--hnsw-budget`` seconds (default 900), it starts again with half
the efConstruction (not below 32) and says so.

Realism, as printed: the 761 real paragraphs have pairwise cosine 0.773 +- 0.025;
the default generator gives 0.789 +- 0.031 (the isotropic sigma=0.02 one 0.718 +- 0.028).

The real vectors come from coopqa's own Embedder (fp32 PyTorch, the production
path) and are cached in ~/.cache/coopqa/benchmarks/piaf-e5-vectors.npz.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from _children import rss_mib
from _common import load_piaf, log

CACHE = Path.home() / ".cache" / "coopqa" / "benchmarks" / "piaf-e5-vectors.npz"
K = 10
TARGET_RECALL = 0.95
TARGET_P50_MS = 5.0


# --------------------------------------------------------------------------- vectors


def real_vectors() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(761 paragraph vectors, 3835 question vectors, each question's paragraph), encoded once by coopqa's Embedder."""
    paragraphs, questions, gold = load_piaf()
    if CACHE.is_file():
        saved = np.load(CACHE)
        return saved["paragraphs"], saved["questions"], gold
    from coopqa.config import load_settings
    from coopqa.model.embedder import Embedder

    log(f"encoding {len(paragraphs)} paragraphs and {len(questions)} questions with coopqa's Embedder (once)")
    embedder = Embedder(load_settings(environ={}), progress=False)
    p_vectors = embedder.encode_passages(paragraphs)
    q_vectors = embedder.encode_queries(questions)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE, paragraphs=p_vectors, questions=q_vectors)
    return p_vectors, q_vectors, gold


def synthetic(base: np.ndarray, n: int, noise: float, seed: int, isotropic: bool = False) -> np.ndarray:
    """n passage-like vectors: two real paragraphs mixed (weight of the second ~ U(0, 0.5)) plus noise, renormalised.

    The default noise follows the real paragraphs' own covariance (``noise`` x their
    spread along each principal axis), so the synthetic cloud keeps e5's spectrum
    and intrinsic dimension. ``isotropic`` adds N(0, noise²) in every dimension
    instead: a harsher cloud (every one of the 384 dimensions gets noise), kept as
    a pessimistic check.
    """
    rng = np.random.default_rng(seed)
    centred = base - base.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred / (len(base) - 1))
    spread = (np.sqrt(np.clip(eigenvalues, 0, None))[:, None] * eigenvectors.T).astype(np.float32)  # rows: scaled axes
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for lo in range(0, n, 100_000):
        m = min(100_000, n - lo)
        i = rng.integers(0, len(base), m)
        j = rng.integers(0, len(base), m)
        mix = rng.uniform(0.0, 0.5, (m, 1)).astype(np.float32)
        gauss = rng.normal(0.0, 1.0, (m, base.shape[1])).astype(np.float32)
        v = (1 - mix) * base[i] + mix * base[j] + noise * (gauss if isotropic else gauss @ spread)
        out[lo : lo + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def describe(name: str, vectors: np.ndarray, queries: np.ndarray, rng: np.random.Generator) -> str:
    """Mean pairwise cosine, and each query's best cosine, as a realism check."""
    a = vectors[rng.integers(0, len(vectors), 20_000)]
    b = vectors[rng.integers(0, len(vectors), 20_000)]
    pairwise = (a * b).sum(1)
    best = (queries[:500] @ vectors.T).max(1) if len(vectors) <= 200_000 else (queries[:500] @ vectors[:200_000].T).max(1)
    return (
        f"{name}: pairwise cosine mean {pairwise.mean():.3f} sd {pairwise.std():.3f}; "
        f"best cosine of a question mean {best.mean():.3f}"
    )


# --------------------------------------------------------------------------- measuring


def index_bytes(index: Any) -> int:
    import faiss

    with tempfile.NamedTemporaryFile(suffix=".faiss", dir=os.environ.get("TMPDIR", "/tmp")) as handle:
        faiss.write_index(index, handle.name)
        return os.path.getsize(handle.name)


def one_at_a_time(index: Any, queries: np.ndarray, k: int = K) -> tuple[float, float, np.ndarray]:
    """(p50 ms, p95 ms, ids) searching one query per call."""
    for q in queries[:20]:  # warm-up
        index.search(q[None], k)
    ids = np.empty((len(queries), k), dtype=np.int64)
    times = []
    for row, q in enumerate(queries):
        t = time.perf_counter()
        _, found = index.search(q[None], k)
        times.append((time.perf_counter() - t) * 1000)
        ids[row] = found[0]
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], ids


LOAD_ROWS: list[dict[str, Any]] = []


def load_check(size: int, label: str, index: Any, queries: np.ndarray, setup: Any = None) -> None:
    """Write the index, read it back plainly and memory-mapped (IO_FLAG_MMAP_IFC: the vectors stay in the
    page cache, shared by every replica on the host), and time a few searches on each."""
    import faiss

    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/tmp")) as scratch:
        path = os.path.join(scratch, "dense.faiss")
        faiss.write_index(index, path)
        for flag, name in ((0, "read_index"), (faiss.IO_FLAG_MMAP_IFC, "read_index mmap (IO_FLAG_MMAP_IFC)")):
            before = rss_mib()
            t = time.perf_counter()
            loaded = faiss.read_index(path, flag)
            load_s = time.perf_counter() - t
            after_load = rss_mib()
            if setup:
                setup(loaded)
            p50, _, _ = one_at_a_time(loaded, queries[:300])
            LOAD_ROWS.append({
                "N": size, "index": label, "how": name, "load_s": round(load_s, 3),
                "rss_load_MiB": round(after_load - before), "rss_after_300_MiB": round(rss_mib() - before), "p50_ms": round(p50, 3),
            })
            del loaded


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    k = exact.shape[1]
    return float(np.mean([len(set(f[:k]) & set(e)) / k for f, e in zip(found, exact)]))


#: exact top 100 of each query: coopqa asks the dense index for 100 candidates before fusion
EXACT100 = np.zeros((0, 100), dtype=np.int64)


def candidates_row(size: int, name: str, params: str, index: Any, queries: np.ndarray) -> dict[str, Any]:
    """Recall@100 of a k=100 search (coopqa's CANDIDATES), one query at a time."""
    p50, p95, found = one_at_a_time(index, queries[:300], 100)
    return {"N": size, "index": name, "params": params, "p50_ms": round(p50, 3), "p95_ms": round(p95, 3), "recall@100": round(recall(found, EXACT100[:300]), 4)}


#: row of each query's real PIAF paragraph in the database (the 761 real paragraphs are at random rows)
GOLD = np.zeros(0, dtype=np.int64)


def task_recall(found: np.ndarray) -> float:
    """Share of the questions whose own PIAF paragraph is in the top 10 (what a user feels)."""
    return float(np.mean([g in f for g, f in zip(GOLD[: len(found)], found)]))


def row(
    size: int, name: str, params: str, build_s: float, nbytes: int, p50: float, p95: float, rec: float, found: np.ndarray, note: str = ""
) -> dict[str, Any]:
    meets = rec >= TARGET_RECALL and p50 < TARGET_P50_MS
    return {
        "N": size, "index": name, "params": params, "build_s": round(build_s, 1), "MiB": round(nbytes / 2**20, 1),
        "p50_ms": round(p50, 3), "p95_ms": round(p95, 3), "recall@10": round(rec, 4), "gold@10": round(task_recall(found), 4),
        "target": "yes" if meets else "no", "note": note,
    }


# --------------------------------------------------------------------------- index families


def bench_flat(size: int, data: np.ndarray, queries: np.ndarray) -> tuple[list[dict[str, Any]], np.ndarray]:
    import faiss

    t = time.perf_counter()
    index = faiss.IndexFlatIP(data.shape[1])
    index.add(data)
    build = time.perf_counter() - t
    global EXACT100
    t = time.perf_counter()
    _, EXACT100 = index.search(queries, 100)  # batched ground truth (BLAS)
    exact = np.ascontiguousarray(EXACT100[:, :K])
    log(f"flat ground truth for {len(queries)} queries in {time.perf_counter() - t:.1f} s")
    latency_queries = queries[: (300 if size >= 1_000_000 else len(queries))]
    p50, p95, found = one_at_a_time(index, latency_queries)
    flat_recall = recall(found, exact[: len(found)])
    rows = [row(size, "IndexFlatIP (exact)", f"omp threads={THREADS} (default)", build, index_bytes(index), p50, p95, flat_recall, exact)]
    faiss.omp_set_num_threads(1)
    p50_1, p95_1, _ = one_at_a_time(index, latency_queries)
    rows.append(row(size, "IndexFlatIP (exact)", "omp threads=1", build, index_bytes(index), p50_1, p95_1, 1.0, exact))
    load_check(size, "IndexFlatIP (omp threads=1)", index, latency_queries)
    faiss.omp_set_num_threads(THREADS)
    return rows, exact


def bench_hnsw(size: int, data: np.ndarray, queries: np.ndarray, exact: np.ndarray, ef_construction: int, budget: float) -> list[dict[str, Any]]:
    import faiss

    note = ""
    while True:
        index = faiss.IndexHNSWFlat(data.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        t = time.perf_counter()
        chunk = 50_000
        aborted = False
        for lo in range(0, size, chunk):
            index.add(data[lo : lo + chunk])
            done = min(lo + chunk, size)
            elapsed = time.perf_counter() - t
            projected = elapsed * size / done * (1 + 0.1 * math.log10(size / done))
            if size >= 500_000:
                log(f"HNSW efConstruction={ef_construction}: {done:,}/{size:,} in {elapsed:.0f} s, projected {projected:.0f} s")
            if done >= 100_000 and done < size and projected > budget and ef_construction > 32:
                aborted = True
                break
        if not aborted:
            build = time.perf_counter() - t
            break
        new = max(32, ef_construction // 2)
        note = f"efConstruction {ef_construction} projected {projected:.0f} s > budget {budget:.0f} s: rebuilt with {new}"
        log(note)
        ef_construction = new
    nbytes = index_bytes(index)
    rows = []
    for ef in (16, 32, 64, 128, 256, 512, 1024):
        index.hnsw.efSearch = ef
        p50, p95, found = one_at_a_time(index, queries)
        rows.append(row(size, "IndexHNSWFlat", f"M=32 efC={ef_construction} efSearch={ef}", build, nbytes, p50, p95, recall(found, exact), found, note))
        if recall(found, exact) >= 0.995:
            break
    for ef in (128, 256, 512, 1024):
        index.hnsw.efSearch = ef
        CANDIDATE_ROWS.append(candidates_row(size, "IndexHNSWFlat", f"M=32 efC={ef_construction} efSearch={ef}", index, queries))

    def set_ef(loaded: Any) -> None:
        loaded.hnsw.efSearch = 256

    load_check(size, f"IndexHNSWFlat M=32 efC={ef_construction} efSearch=256", index, queries, set_ef)
    return rows


_CENTROIDS: dict[int, tuple[np.ndarray, float]] = {}


def coarse_centroids(size: int, data: np.ndarray, train: np.ndarray, nlist: int) -> tuple[np.ndarray, float]:
    """(IVF coarse centroids, k-means seconds), computed once per size and reused by every IVF variant.

    The k-means is the one IndexIVF.train runs for inner product (spherical). Each
    variant's build time counts the k-means seconds, so the rows stay comparable.
    """
    import faiss

    if size not in _CENTROIDS:
        t = time.perf_counter()
        probe = faiss.IndexIVFFlat(faiss.IndexFlatIP(data.shape[1]), data.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
        probe.train(train)
        _CENTROIDS.clear()
        _CENTROIDS[size] = (probe.quantizer.reconstruct_n(0, nlist), time.perf_counter() - t)
        log(f"N={size:,}: k-means, {nlist} centroids on {len(train):,} vectors, {_CENTROIDS[size][1]:.0f} s")
    return _CENTROIDS[size]


def bench_ivf(size: int, data: np.ndarray, queries: np.ndarray, exact: np.ndarray, kind: str) -> list[dict[str, Any]]:
    """kind: "flat" (IVFFlat), "sq8" (IVF + 8-bit scalar quantiser, 384 B a vector), "pq48" (IVFPQ 48 B a vector),
    "pq96r" (IVFPQ m=96, 96 B a vector, re-ranked exactly over 16 x k candidates with the fp32 vectors kept aside)."""
    import faiss

    d = data.shape[1]
    nlist = int(4 * math.sqrt(size))
    train = data[np.random.default_rng(1).choice(size, min(size, 40 * nlist), replace=False)]
    centroids, coarse_s = coarse_centroids(size, data, train, nlist)
    quantizer = faiss.IndexFlatIP(d)
    quantizer.add(centroids)  # already trained: IVF.train() then only trains what is inside the lists (SQ, PQ)
    if kind == "flat":
        index: Any = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        name, params = "IndexIVFFlat", f"nlist={nlist}"
    elif kind == "sq8":
        index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        name, params = "IndexIVFScalarQuantizer", f"nlist={nlist} SQ8"
    else:
        m = 48 if kind == "pq48" else 96
        index = faiss.IndexIVFPQ(quantizer, d, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
        name, params = "IndexIVFPQ", f"nlist={nlist} m={m}x8b"
    t = time.perf_counter()
    index.train(train)
    index.add(data)
    build = coarse_s + time.perf_counter() - t
    searched: list[tuple[str, Any, float, int, str]] = []
    if kind == "pq96r":
        t = time.perf_counter()
        refined = faiss.IndexRefineFlat(index, faiss.swig_ptr(data))  # the exact vectors beside the PQ codes
        refined.k_factor = 16
        searched.append((name + " + RefineFlat", refined, build + time.perf_counter() - t, index_bytes(refined), " k_factor=16"))
    else:
        searched.append((name, index, build, index_bytes(index), ""))
    rows = []
    for label, idx, build_s, size_bytes, extra in searched:
        for nprobe in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512):
            if nprobe > nlist:
                break
            faiss.extract_index_ivf(idx).nprobe = nprobe
            p50, p95, found = one_at_a_time(idx, queries)
            rec = recall(found, exact)
            rows.append(row(size, label, f"{params} nprobe={nprobe}{extra}", build_s, size_bytes, p50, p95, rec, found))
            if rec >= 0.995 or p50 > 50:
                break
    if kind == "flat":
        for nprobe in (64, 128, 256):
            index.nprobe = nprobe
            CANDIDATE_ROWS.append(candidates_row(size, label, f"{params} nprobe={nprobe}", index, queries))
    return rows


# --------------------------------------------------------------------------- main

THREADS = 2
CANDIDATE_ROWS: list[dict[str, Any]] = []


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        "\n| N | index | parameters | build s | index MiB | p50 ms (1 query) | p95 ms | recall@10 vs exact | gold paragraph in top 10 "
        "| p50<5ms & recall>=0.95 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['N']:,} | {r['index']} | {r['params']} | {r['build_s']} | {r['MiB']} | {r['p50_ms']:.3f} | {r['p95_ms']:.3f} | {r['recall@10']:.4f} "
            f"| {r['gold@10']:.3f} | {r['target']} |"
        )
    notes = {r["note"] for r in rows if r["note"]}
    for note in notes:
        print(f"\nnote: {note}")
    _print_rows(
        CANDIDATE_ROWS,
        "k = 100 (coopqa's dense candidates), 300 queries:",
        "| N | index | parameters | p50 ms | p95 ms | recall@100 vs exact |",
        lambda r: f"| {r['N']:,} | {r['index']} | {r['params']} | {r['p50_ms']:.3f} | {r['p95_ms']:.3f} | {r['recall@100']:.4f} |",
    )
    _print_rows(
        LOAD_ROWS,
        "loading the saved index (page cache warm), then 300 searches one at a time:",
        "| N | index | how | load s | RSS after load +MiB | RSS after 300 searches +MiB | p50 ms |",
        lambda r: f"| {r['N']:,} | {r['index']} | {r['how']} | {r['load_s']} | {r['rss_load_MiB']} | {r['rss_after_300_MiB']} | {r['p50_ms']:.3f} |",
    )
    print(flush=True)


def main() -> None:
    global THREADS, GOLD
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=1000, help="real PIAF questions used as queries (max 3835)")
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--hnsw-budget", type=float, default=900.0, help="seconds; above this projected HNSW build time, halve efConstruction")
    parser.add_argument("--noise", type=float, default=0.5, help="noise scale (x the real paragraphs' spread per principal axis)")
    parser.add_argument("--isotropic", type=float, metavar="SIGMA", help="pessimistic check: N(0, SIGMA²) noise in all 384 dimensions instead")
    parser.add_argument("--indexes", default="flat,hnsw,ivfflat,ivfsq8,ivfpq48,ivfpq96r")
    parser.add_argument("--json", type=Path, help="append the rows to this JSON-lines file")
    args = parser.parse_args()

    import faiss

    THREADS = faiss.omp_get_max_threads()
    paragraphs, questions, gold = real_vectors()
    picked = np.random.default_rng(2).permutation(len(questions))[: args.queries]
    queries = np.ascontiguousarray(questions[picked])
    from importlib import metadata

    print(f"faiss-cpu {metadata.version('faiss-cpu')}, numpy {np.__version__}, OpenMP threads {THREADS}, cpu cores {os.cpu_count()}")
    print(f"uptime: {Path('/proc/loadavg').read_text().strip()}")
    rng = np.random.default_rng(3)
    print(describe("real PIAF paragraphs (761)", paragraphs, questions, rng))
    wanted = args.indexes.split(",")
    for size in [int(s) for s in args.sizes.split(",")]:
        log(f"N={size:,}: generating vectors")
        if args.isotropic is None:
            data = synthetic(paragraphs, size, args.noise, seed=size)
            label = f"synthetic N={size:,} (2 paragraphs mixed + {args.noise} x real-covariance noise)"
        else:
            data = synthetic(paragraphs, size, args.isotropic, seed=size, isotropic=True)
            label = f"synthetic N={size:,} (2 paragraphs mixed + isotropic noise sigma {args.isotropic})"
        # the real paragraphs sit at random rows among the synthetic ones (not first: HNSW is sensitive to insertion order)
        positions = np.random.default_rng(size + 1).choice(size, len(paragraphs), replace=False)
        data[positions] = paragraphs
        GOLD = positions[gold[picked]]
        print(describe(label, data, questions, rng), flush=True)
        rows, exact = bench_flat(size, data, queries)
        log(f"N={size:,}: flat done")
        if "hnsw" in wanted:
            rows += bench_hnsw(size, data, queries, exact, args.ef_construction, args.hnsw_budget)
            log(f"N={size:,}: hnsw done")
        for kind in ("flat", "sq8", "pq48", "pq96r"):
            if "ivf" + kind in wanted:
                rows += bench_ivf(size, data, queries, exact, kind)
                log(f"N={size:,}: ivf-{kind} done")
        print(f"\n### N = {size:,}   (load average after: {Path('/proc/loadavg').read_text().strip()})")
        if args.json:
            with args.json.open("a") as handle:
                for r in rows + CANDIDATE_ROWS + LOAD_ROWS:
                    handle.write(json.dumps(r) + "\n")
        print_table(rows)
        del data


def _print_rows(rows: list[dict[str, Any]], intro: str, header: str, line: Callable[[dict[str, Any]], str]) -> None:
    """Print one extra table (if it has rows) and empty it for the next size."""
    if not rows:
        return
    print(f"\n{intro}\n")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for row in rows:
        print(line(row))
    rows.clear()


if __name__ == "__main__":
    main()
