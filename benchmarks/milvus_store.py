"""The Milvus store beside the FAISS files, in one run: warm ``ask`` latency, retrieval at scale, build time.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/milvus_store.py [--rounds 2] [--passages 100000] [--vectors 1000000] [--out milvus.json]

1. **Warm ask, shipped corpus.** Both stores built in temporary folders (Milvus Lite for Milvus), one process,
   the reader on, every question of ``qa/coopqa-fr.jsonl`` asked through ``Assistant.ask``, the two stores
   alternating question by question after 10 warm-up asks each: p50 and p95 per store.
2. **Retrieval at ``--passages`` passages.** A synthetic corpus of that many passages (sentences drawn from the
   shipped corpus, random unit vectors for passages and sentences: what is timed is the store, not the encoder),
   written into both stores; the shipped questions' real vectors searched: ``Retriever.gather`` + ``rank`` p50/p95.
3. **Dense search alone at ``--vectors`` vectors** (0 to skip): FAISS IVF-SQ8 (as coopqa builds it above 500,000
   passages) against Milvus Lite, query p50 and recall@10 against exact search, 200 random queries.
4. **Build wall time**, ``--build-docs`` PIAF paragraphs: into Milvus Lite, one worker against two shard workers run
   at once (``coopqa index --shard I/2`` then ``--publish``); and late chunking (``sentence_vectors = late``, one
   encoder pass) against the two passes, into both stores.

Run it on an otherwise idle machine (the script prints the load average); figures: docs/scaling.md §3.6.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from coopqa.config import Settings, load_settings
from coopqa.documents import Document, Section, read_corpus, split_sentences
from coopqa.evaluation.qa_formats import read_qa_file
from coopqa.index import build_index, load_index
from coopqa.index.dense import DEFAULT_THRESHOLDS
from coopqa.index.manifest import settings_fingerprint
from coopqa.index.milvus_reader import MilvusIndex
from coopqa.index.milvus_store import (
    _create_version,
    _insert_parts,
    _manifest,
    _publish,
    _write_manifest,
    build_milvus_index,
    connect,
    milvus_fingerprint,
    milvus_ref,
)
from coopqa.index.store import _new_part, _write_version
from coopqa.model import Embedder
from coopqa.pipeline import Assistant, Reader

ROOT = Path(__file__).resolve().parents[1]
PIAF = ROOT.parent / "shared" / "datasets" / "piaf" / "piaf-v1.0.json"
#: The synthetic vectors' noise, as ``benchmarks/vector_scale.py``'s default (docs/scaling.md §3.2).
NOISE = 0.5


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2), "n": len(ordered)}


def warm_ask(settings: Settings, embedder: Embedder, rounds: int, workdir: Path) -> dict[str, object]:
    questions = [item.question for item in read_qa_file(ROOT / "qa" / "coopqa-fr.jsonl").items]
    files = replace(settings, index_dir=workdir / "faiss")
    milvus = replace(settings, store="milvus", index_dir=workdir / "milvus")
    build_index(files, embedder, progress=False)
    build_milvus_index(milvus, embedder, progress=False)
    reader = Reader.for_settings(settings, progress=False)
    index = MilvusIndex.open(milvus)
    assert index is not None
    stores = {"faiss": Assistant(load_index(files.index_dir), embedder, files, reader=reader), "milvus": Assistant(index, embedder, milvus, reader=reader)}
    for assistant in stores.values():
        for question in questions[:10]:
            assistant.ask(question)
    timings: dict[str, list[float]] = {name: [] for name in stores}
    for _ in range(rounds):
        for question in questions:
            for name, assistant in stores.items():
                began = time.perf_counter()
                assistant.refreshed().ask(question)
                timings[name].append((time.perf_counter() - began) * 1000)
    result: dict[str, object] = {name: percentiles(values) for name, values in timings.items()}
    result["milvus_minus_faiss_p50_ms"] = round(statistics.median(timings["milvus"]) - statistics.median(timings["faiss"]), 2)
    index.client.close()
    return result


def synthetic_documents(count: int, seed: int = 7) -> list[Document]:
    """Documents of ten ~1,000-character passages each, made of the shipped corpus's sentences in random order."""
    corpus = read_corpus(ROOT / "corpus")[0]
    sentences = [corpus.text[s.start : s.end] for s in split_sentences(corpus.text, 0, len(corpus.text)) if 40 < s.end - s.start < 400]
    rng = random.Random(seed)
    documents = []
    per_document = 10
    for number in range(max(1, count // per_document)):
        text = "\n\n".join(" ".join(rng.sample(sentences, 4)) for _ in range(per_document))
        documents.append(Document(f"synthetic/{number:06d}.txt", text, f"{number:064x}", f"doc {number}", (Section(0, len(text), (f"Section {number}",)),)))
    return documents


def retrieval_at_scale(settings: Settings, embedder: Embedder, passages: int, workdir: Path) -> dict[str, object]:
    """``Retriever.gather`` + ``rank`` on both stores over the same synthetic corpus with random vectors."""
    rng = np.random.default_rng(11)
    documents = synthetic_documents(passages)
    parts = [_new_part(document, settings) for document in documents]
    for part in parts:
        for name, count in (("passage_vectors", len(part.passages)), ("sentence_vectors", len(part.sentences))):
            vectors = rng.standard_normal((count, embedder.dimension)).astype(np.float32)
            setattr(part, name, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    fingerprint = settings_fingerprint(settings, embedder.model_id, embedder.dimension)
    files = replace(settings, index_dir=workdir / "faiss-scale")
    files.index_dir.mkdir(parents=True)
    began = time.perf_counter()
    folder = _write_version(files.index_dir, parts, fingerprint, DEFAULT_THRESHOLDS)
    (files.index_dir / "CURRENT").write_text(folder.name + "\n", encoding="utf-8")
    faiss_build = time.perf_counter() - began
    milvus = replace(settings, store="milvus", index_dir=workdir / "milvus-scale")
    ref = milvus_ref(milvus)
    client = connect(ref)
    began = time.perf_counter()
    _create_version(client, ref, 1, embedder.dimension, fresh=True)
    counts = _insert_parts(client, ref, 1, parts, 0)
    _write_manifest(client, ref, 1, _manifest(milvus_fingerprint(milvus, embedder), {p.document.doc_id: {"sha256": p.document.sha256} for p in parts}, *counts))
    _publish(client, ref, 1)
    milvus_build = time.perf_counter() - began
    client.close()
    index = MilvusIndex.open(milvus)
    assert index is not None
    questions = [item.question for item in read_qa_file(ROOT / "qa" / "coopqa-fr.jsonl").items]
    stores = {"faiss": Assistant(load_index(files.index_dir), embedder, files), "milvus": Assistant(index, embedder, milvus)}
    timings: dict[str, list[float]] = {name: [] for name in stores}
    for name, assistant in stores.items():
        queries, _ = assistant.retriever.prepare(questions)
        for query in queries[:10]:
            assistant.retriever.rank(assistant.retriever.gather(query), "hybrid", query.policy)
        for query in queries:
            started = time.perf_counter()
            assistant.retriever.rank(assistant.retriever.gather(query), "hybrid", query.policy)
            timings[name].append((time.perf_counter() - started) * 1000)
    index.client.close()
    result: dict[str, object] = {name: percentiles(values) for name, values in timings.items()}
    result.update({"passages": counts[0], "sentences": counts[1], "faiss_write_s": round(faiss_build, 1), "milvus_insert_s": round(milvus_build, 1)})
    return result


def dense_at_scale(count: int, dimension: int, workdir: Path) -> dict[str, object]:
    """FAISS IVF-SQ8 against Milvus Lite on ``count`` synthetic passage vectors (as ``vector_scale.py`` makes them from
    PIAF's real e5 vectors), 200 of PIAF's real question vectors: query p50 and recall@10 against exact search."""
    import faiss
    from pymilvus import DataType, MilvusClient
    from vector_scale import real_vectors, synthetic

    rng = np.random.default_rng(5)
    paragraphs, questions, _gold = real_vectors()
    vectors = synthetic(paragraphs, count, NOISE, seed=count)
    queries = questions[rng.choice(len(questions), 200, replace=False)].astype(np.float32)
    exact = faiss.IndexFlatIP(dimension)
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    result: dict[str, object] = {"vectors": count}
    quantizer = faiss.IndexFlatIP(dimension)
    lists = int(4 * np.sqrt(count))
    ivf = faiss.IndexIVFScalarQuantizer(quantizer, dimension, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors[rng.choice(count, min(count, 100 * lists), replace=False)])
    ivf.add(vectors)
    ivf.nprobe = 16
    times, found = [], []
    for query in queries:
        began = time.perf_counter()
        _, ids = ivf.search(query.reshape(1, -1), 10)
        times.append((time.perf_counter() - began) * 1000)
        found.append(ids[0])
    result["faiss_ivf_sq8"] = percentiles(times) | {"recall@10": round(float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])), 3)}
    client = MilvusClient(str(workdir / "dense.db"))
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    index = client.prepare_index_params()
    index.add_index("dense", index_type="IVF_FLAT", metric_type="IP", params={"nlist": lists})
    client.create_collection("dense", schema=schema, index_params=index)
    began = time.perf_counter()
    for first in range(0, count, 5000):
        client.insert("dense", [{"id": i, "dense": vectors[i].tolist()} for i in range(first, min(count, first + 5000))])
    client.flush("dense")
    client.load_collection("dense")
    result["milvus_insert_s"] = round(time.perf_counter() - began, 1)
    times, found = [], []
    for query in queries:
        began = time.perf_counter()
        hits = client.search("dense", data=[query.tolist()], anns_field="dense", limit=10, search_params={"params": {"nprobe": 16}})
        times.append((time.perf_counter() - began) * 1000)
        found.append([hit["id"] for hit in hits[0]])
    result["milvus_lite_ivf_flat"] = percentiles(times) | {"recall@10": round(float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])), 3)}
    client.close()
    return result


def build_time(documents: int, workdir: Path, env: dict[str, str]) -> dict[str, object]:
    """Wall time of ``coopqa index``: into Milvus Lite served on loopback with one worker, two shard workers at once,
    and one worker with late chunking; into the FAISS files with and without late chunking."""
    qaset = read_qa_file(PIAF)
    corpus = workdir / "piaf-corpus"
    corpus.mkdir()
    for document in qaset.documents[:documents]:
        (corpus / f"{document.doc_id.replace('/', '_')}.txt").write_text(document.text, encoding="utf-8")
    result: dict[str, object] = {"documents": documents}
    coopqa = str(Path(sys.executable).parent / "coopqa")
    base = env | {"COOPQA_CORPUS_DIR": str(corpus), "COOPQA_READER": "off"}
    # One build of the shipped corpus first, so that the first timed build does not pay for cold file caches.
    warm_up = env | {"COOPQA_INDEX_DIR": str(workdir / "warm-up"), "COOPQA_READER": "off"}
    subprocess.run([coopqa, "index", "--quiet"], env=warm_up, check=True, capture_output=True)
    for sentences in ("separate", "late"):
        run_env = base | {"COOPQA_INDEX_DIR": str(workdir / f"faiss-{sentences}"), "COOPQA_SENTENCE_VECTORS": sentences}
        began = time.perf_counter()
        subprocess.run([coopqa, "index", "--quiet"], env=run_env, check=True, capture_output=True)
        result[f"faiss_{sentences}_s"] = round(time.perf_counter() - began, 1)
    for workers, sentences in ((1, "separate"), (2, "separate"), (1, "late")):
        data = workdir / f"server-{workers}-{sentences}"
        port = 19600 + workers + (10 if sentences == "late" else 0)
        command = [str(Path(sys.executable).parent / "milvus-lite"), "server", "--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(5)
        run_env = base | {"COOPQA_STORE": "milvus", "COOPQA_MILVUS_URI": f"http://127.0.0.1:{port}", "COOPQA_SENTENCE_VECTORS": sentences}
        began = time.perf_counter()
        if workers == 1:
            subprocess.run([coopqa, "index", "--quiet"], env=run_env, check=True, capture_output=True)
        else:
            threads = {"OMP_NUM_THREADS": "1"}
            shards = [subprocess.Popen([coopqa, "index", "--quiet", "--shard", f"{i}/2"], env=run_env | threads, stdout=subprocess.DEVNULL) for i in range(2)]
            for shard in shards:
                assert shard.wait() == 0
            subprocess.run([coopqa, "index", "--quiet", "--publish"], env=run_env, check=True, capture_output=True)
        result[f"milvus_{workers}_worker_{sentences}_s"] = round(time.perf_counter() - began, 1)
        server.terminate()
        server.wait()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--build-docs", type=int, default=200)
    parser.add_argument("--skip", default="", help="parts to skip: ask,scale,dense,build")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    settings = load_settings()
    embedder = Embedder(settings, progress=False)
    report: dict[str, object] = {"load_average": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="coopqa-milvus-bench-") as work:
        workdir = Path(work)
        if "ask" not in skip:
            report["warm_ask_shipped_corpus"] = warm_ask(settings, embedder, args.rounds, workdir)
            print(json.dumps(report["warm_ask_shipped_corpus"]), flush=True)
        if "scale" not in skip and args.passages:
            report["retrieval_at_scale"] = retrieval_at_scale(settings, embedder, args.passages, workdir)
            print(json.dumps(report["retrieval_at_scale"]), flush=True)
        if "dense" not in skip and args.vectors:
            report["dense_at_scale"] = dense_at_scale(args.vectors, embedder.dimension, workdir)
            print(json.dumps(report["dense_at_scale"]), flush=True)
        if "build" not in skip and args.build_docs:
            report["build_time"] = build_time(args.build_docs, workdir, dict(os.environ))
            print(json.dumps(report["build_time"]), flush=True)
    report["load_average_after"] = os.getloadavg()
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
