"""The persisted index: manifest, reuse by content hash, atomic publication, refusals."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from coopqa.config import Settings
from coopqa.errors import IndexStoreError
from coopqa.index.dense import DenseIndex, DenseThresholds, build_dense_index, choose_dense_index, omp_threads, read_dense_index
from coopqa.index.store import FORMAT_VERSION, build_index, current_version, load_index, read_manifest
from coopqa.index.versions import KEEP_VERSIONS
from coopqa.model.embedder import Embedder
from coopqa.pipeline import Assistant
from tests.conftest import DOCUMENT

ADDED = "ajout.txt"
ADDED_TEXT = "Ajout\n\nLe Maroc a accueilli une conférence sur la migration à Marrakech en 2018.\n"
ADDED_QUESTION = "Où le Maroc a-t-il accueilli une conférence sur la migration en 2018 ?"


def copy_setup(settings: Settings, retriever: Assistant, tmp_path: Path) -> Settings:
    """A private copy of the session corpus and index, free to be damaged."""
    shutil.copytree(settings.corpus_dir, tmp_path / "corpus")
    shutil.copytree(settings.index_dir, tmp_path / "index")
    return replace(settings, corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")


def test_manifest_records_what_the_index_was_built_with(retriever: Assistant, settings: Settings) -> None:
    manifest = retriever.data.manifest
    assert manifest["model"] == {"id": retriever.embedder.model_id, "dimension": 384}
    assert manifest["chunking"]["chunk_size"] == settings.chunk_size
    assert manifest["chunking"]["chunk_overlap"] == settings.chunk_overlap
    digest = manifest["documents"][DOCUMENT]["sha256"]
    assert digest == hashlib.sha256((settings.corpus_dir / DOCUMENT).read_bytes()).hexdigest()
    assert manifest["versions"]["faiss-cpu"] and manifest["versions"]["sentence-transformers"]
    assert retriever.data.dense.ntotal == manifest["counts"]["passages"] == len(retriever.data.passages)
    assert manifest["format"] == FORMAT_VERSION and manifest["dense"] == {"type": "flat"}
    folder = retriever.data.folder
    on_disk = {path.relative_to(folder).as_posix(): path for path in folder.rglob("*") if path.is_file() and path.name != "manifest.json"}
    assert set(manifest["files"]) == set(on_disk) and "passage_vectors.npy" in on_disk
    for name, path in on_disk.items():
        assert manifest["files"][name] == {"size": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def test_unchanged_corpus_is_not_rebuilt(retriever: Assistant, settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    private = copy_setup(settings, retriever, tmp_path)
    before = current_version(private.index_dir)
    report = build_index(private, embedder, progress=False)
    assert report.unchanged and current_version(private.index_dir) == before


def test_only_changed_documents_are_embedded_again(retriever: Assistant, settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    private = copy_setup(settings, retriever, tmp_path)
    (private.corpus_dir / ADDED).write_text(ADDED_TEXT, encoding="utf-8")
    report = build_index(private, embedder, progress=False)
    assert (report.documents, report.reused_documents) == (2, 1)
    data = load_index(private.index_dir)
    old_rows = list(range(len(retriever.data.passages)))
    new_rows = [i for i, p in enumerate(data.passages) if p.doc_id == DOCUMENT]
    assert np.array_equal(retriever.data.passage_vectors()[old_rows], data.passage_vectors()[new_rows])
    assert any(p.doc_id == ADDED for p in data.passages)
    # The previous version is kept for readers that may still use it (see test_old_versions_…).
    assert len([p for p in private.index_dir.iterdir() if p.name.startswith("v-")]) == 2


def test_index_built_with_other_settings_is_refused(retriever: Assistant, settings: Settings, embedder: Embedder) -> None:
    with pytest.raises(IndexStoreError, match="chunk_size.*coopqa index"):
        Assistant(retriever.data, embedder, replace(settings, chunk_size=400, chunk_overlap=50))
    other_model = dict(retriever.data.manifest, model={"id": "intfloat/multilingual-e5-base", "dimension": 768})
    with pytest.raises(IndexStoreError, match="built with model 'intfloat/multilingual-e5-base'.*run: coopqa index"):
        Assistant(replace(retriever.data, manifest=other_model), embedder, settings)


@pytest.mark.slow
def test_missing_index_is_built_on_first_use(settings: Settings, tmp_path: Path) -> None:
    fresh = replace(settings, index_dir=tmp_path / "new-index")
    assert current_version(fresh.index_dir) is None
    retriever = Assistant.open(fresh, progress=False)
    assert current_version(fresh.index_dir) is not None
    assert retriever.ask("Qui finance le projet AMEM ?").hits


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda v: (v / "dense.faiss").write_bytes((v / "dense.faiss").read_bytes()[:100]), "truncated or altered"),
        (lambda v: (v / "manifest.json").write_text("{not json", encoding="utf-8"), "manifest .* corrupt"),
        (lambda v: (v / "passages.jsonl").unlink(), "is missing"),
        (lambda v: (v.parent / "CURRENT").write_text("v-gone\n", encoding="utf-8"), "points to a missing version"),
    ],
    ids=["truncated-vectors", "corrupt-manifest", "missing-file", "dangling-pointer"],
)
def test_damaged_index_gives_one_clear_error(retriever: Assistant, settings: Settings, tmp_path: Path, damage, message: str) -> None:  # type: ignore[no-untyped-def]
    private = copy_setup(settings, retriever, tmp_path)
    damage(current_version(private.index_dir))
    with pytest.raises(IndexStoreError, match=message) as error:
        load_index(private.index_dir)
    assert "run: coopqa index" in error.value.one_line()


def test_damaged_index_is_repaired_by_coopqa_index(retriever: Assistant, settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    private = copy_setup(settings, retriever, tmp_path)
    version = current_version(private.index_dir)
    (version / "dense.faiss").write_bytes(b"garbage")
    report = build_index(private, embedder, progress=False)
    assert not report.unchanged
    assert load_index(private.index_dir).dense.ntotal == retriever.data.dense.ntotal


@pytest.mark.slow
def test_killed_build_leaves_the_previous_index_usable(retriever: Assistant, settings: Settings, tmp_path: Path) -> None:
    """SIGKILL during embedding: CURRENT still names the old, complete version."""
    private = copy_setup(settings, retriever, tmp_path)
    live = current_version(private.index_dir)
    document = private.corpus_dir / DOCUMENT
    document.write_text(document.read_text(encoding="utf-8") + "\nAjout : une phrase de plus.\n", encoding="utf-8")
    env = dict(os.environ, COOPQA_CORPUS_DIR=str(private.corpus_dir), COOPQA_INDEX_DIR=str(private.index_dir), HF_HUB_OFFLINE="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "coopqa.cli", "index"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    for line in process.stdout:
        if "embedding" in line or time.monotonic() > deadline:
            break
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert current_version(private.index_dir) == live
    assert read_manifest(live)["documents"][DOCUMENT]["sha256"] == retriever.data.manifest["documents"][DOCUMENT]["sha256"]
    assert load_index(private.index_dir).dense.ntotal == retriever.data.dense.ntotal
    # The next run completes the build and cleans the leftovers of the killed one.
    finished = subprocess.run([sys.executable, "-m", "coopqa.cli", "index", "--quiet"], env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert current_version(private.index_dir) != live
    assert not [p for p in private.index_dir.iterdir() if p.name.startswith(".build-")]
    manifest = json.loads((current_version(private.index_dir) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["documents"][DOCUMENT]["sha256"] != retriever.data.manifest["documents"][DOCUMENT]["sha256"]


# --------------------------------------------------------------------------- manifest and pointer checks


def _edit_manifest(version: Path, change) -> None:  # type: ignore[no-untyped-def]
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    change(manifest)
    (version / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda v: _edit_manifest(v, lambda m: m["files"].pop("sentences.npy")), "has no checksum for sentences.npy"),
        (lambda v: _edit_manifest(v, lambda m: [k for k in list(m["files"]) if k.startswith("bm25/") and m["files"].pop(k)]), "has no checksum for bm25/"),
        (lambda v: (v / "bm25" / "extra.npy").write_bytes(b"x"), "extra.npy is not in the manifest"),
        (lambda v: _edit_manifest(v, lambda m: m["files"].update({"../CURRENT": {"size": 1, "sha256": "0" * 64}})), "outside the version"),
        (lambda v: _edit_manifest(v, lambda m: m["files"]["dense.faiss"].update(sha256="abc")), "'files.dense.faiss.sha256' is not a SHA-256"),
        (lambda v: _edit_manifest(v, lambda m: m.update(dense={"type": "hnsw", "M": 32})), "'dense.efConstruction' is not a positive whole number"),
        (lambda v: _edit_manifest(v, lambda m: m["model"].update(dimension=True)), "'model.dimension' is not a whole number"),
        (lambda v: _edit_manifest(v, lambda m: m.update(format=1)), "uses format 1, this coopqa reads format 2"),
        (lambda v: (v / "manifest.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8"), "manifest .* corrupt"),
        (lambda v: (v.parent / "CURRENT").write_text("v-" + "x" * 300, encoding="utf-8"), "does not name a version folder"),
        (lambda v: (v.parent / "CURRENT").write_text(".\n", encoding="utf-8"), "does not name a version folder"),
    ],
    ids=[
        "checksum-missing", "bm25-checksums-missing", "unlisted-bm25-file", "path-outside-the-version", "bad-digest",
        "hnsw-without-parameters", "dimension-a-bool", "old-format", "deep-json", "long-pointer", "pointer-to-itself",
    ],
)
def test_malformed_manifest_or_pointer_is_one_clear_error(retriever: Assistant, settings: Settings, tmp_path: Path, damage, message: str) -> None:  # type: ignore[no-untyped-def]
    private = copy_setup(settings, retriever, tmp_path)
    damage(current_version(private.index_dir))
    with pytest.raises(IndexStoreError, match=message) as error:
        load_index(private.index_dir)
    assert error.value.one_line().endswith("run: coopqa index") and "\n" not in error.value.one_line()


def test_index_of_an_older_format_is_rebuilt(retriever: Assistant, settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    """Format 1 had no passage_vectors.npy nor checksums: nothing of it is reused, the build replaces it."""
    private = copy_setup(settings, retriever, tmp_path)
    old = current_version(private.index_dir)
    _edit_manifest(old, lambda m: m.update(format=1))
    report = build_index(private, embedder, progress=False)
    assert not report.unchanged and report.reused_documents == 0
    data = load_index(private.index_dir)
    assert data.folder != old and data.manifest["format"] == FORMAT_VERSION
    np.testing.assert_allclose(data.passage_vectors(), retriever.data.passage_vectors(), atol=1e-5)


# --------------------------------------------------------------------------- dense index type by size


def test_dense_index_type_follows_the_passage_count() -> None:
    hnsw = {"type": "hnsw", "M": 32, "efConstruction": 200, "efSearch": 256}
    assert choose_dense_index(49_999) == {"type": "flat"}
    assert choose_dense_index(50_000) == choose_dense_index(499_999) == hnsw
    assert choose_dense_index(1_000_000) == {"type": "ivf-sq8", "nlist": 4000, "nprobe": 128}  # 4·√N, nlist / 32 up to a multiple of 8
    assert choose_dense_index(500_000) == {"type": "ivf-sq8", "nlist": 2828, "nprobe": 96}
    # A small IVF keeps ≥ 39 training points a list and probes at least 8 lists.
    assert choose_dense_index(600, DenseThresholds(100, 400)) == {"type": "ivf-sq8", "nlist": 15, "nprobe": 8}
    assert choose_dense_index(60, DenseThresholds(10, 20)) == {"type": "ivf-sq8", "nlist": 1, "nprobe": 1}


def _clustered_vectors(count: int, dimension: int, seed: int) -> np.ndarray:
    """Unit vectors around 20 centres: neighbours are close, as with e5 passages, unlike uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, dimension))
    vectors = (centres[rng.integers(0, 20, count)] + 0.3 * rng.normal(size=(count, dimension))).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize(("count", "kind"), [(300, "hnsw"), (800, "ivf-sq8")])
def test_approximate_index_finds_the_exact_neighbours(tmp_path: Path, count: int, kind: str) -> None:
    """Built with tiny thresholds, written and read back with the manifest's parameters, searched one query at a time."""
    import faiss

    vectors = _clustered_vectors(count, 64, seed=1)
    queries = _clustered_vectors(60, 64, seed=2)
    params = choose_dense_index(count, DenseThresholds(flat_below=100, hnsw_below=500))
    assert params["type"] == kind
    faiss.write_index(build_dense_index(vectors, params), str(tmp_path / "dense.faiss"))
    index = read_dense_index(tmp_path / "dense.faiss", params)
    if kind == "hnsw":
        assert index.index.hnsw.efSearch == 256  # not kept in the file: applied from the manifest
    else:
        assert index.index.nprobe == params["nprobe"] == 8 and index.index.nlist == params["nlist"]
    exact = faiss.IndexFlatIP(64)
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    found = np.vstack([index.search(query.reshape(1, -1), 10)[1] for query in queries])
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)])
    assert recall >= 0.9, recall


def test_one_question_is_searched_on_one_openmp_thread() -> None:
    """The count is set around one-row searches only, and restored: builds and batch searches keep theirs."""
    import faiss

    class Probe:
        ntotal, d = 0, 4

        def search(self, queries: np.ndarray, k: int) -> tuple[int, None]:
            return faiss.omp_get_max_threads(), None

    dense = DenseIndex(Probe(), {"type": "flat"})
    with omp_threads(2):
        assert dense.search(np.zeros((1, 4), dtype=np.float32), 1)[0] == 1
        assert faiss.omp_get_max_threads() == 2
        assert dense.search(np.zeros((3, 4), dtype=np.float32), 1)[0] == 2


def test_large_corpus_gets_an_approximate_index_and_the_same_answers(retriever: Assistant, settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    """Thresholds lowered so the 31-passage corpus is 'large': HNSW, then IVF-SQ8; answers and exact vectors unchanged."""
    private = copy_setup(settings, retriever, tmp_path)
    (private.corpus_dir / ADDED).write_text(ADDED_TEXT, encoding="utf-8")
    question = "Qui finance le projet AMEM ?"
    expected = retriever.ask(question).hits[0].passage
    for kind, thresholds in [("hnsw", DenseThresholds(10, 10_000)), ("ivf-sq8", DenseThresholds(10, 20))]:
        if kind == "ivf-sq8":  # a renamed file: a new version without embedding anything
            (private.corpus_dir / ADDED).rename(private.corpus_dir / "ajout-2.txt")
        build_index(private, embedder, progress=False, dense_thresholds=thresholds)
        data = load_index(private.index_dir)
        assert data.manifest["dense"]["type"] == kind
        served = Assistant(data, embedder, private)
        assert served.ask(question).hits[0].passage == expected
        assert served.ask(ADDED_QUESTION).hits[0].passage.doc_id in {ADDED, "ajout-2.txt"}
        # Candidates are scored with the stored float32 vectors, not the index's (8-bit, for SQ8) codes.
        rows = [i for i, p in enumerate(data.passages) if p.doc_id == DOCUMENT]
        assert np.array_equal(data.passage_vectors()[rows], retriever.data.passage_vectors())


# --------------------------------------------------------------------------- versions kept for readers, reloading


def _versions(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith("v-"))


def test_old_versions_are_kept_for_their_readers_then_removed(retriever: Assistant, settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    """The last KEEP_VERSIONS stay; an older one stays too while a process has it loaded, and goes with the next build after."""
    private = copy_setup(settings, retriever, tmp_path)
    reader = load_index(private.index_dir)  # a replica still serving the first version
    built = [reader.folder.name]
    document = private.corpus_dir / DOCUMENT

    def rebuild() -> None:  # rename the document: a new version, nothing to embed
        nonlocal document
        document = document.rename(private.corpus_dir / f"renamed-{len(built)}.txt")
        report = build_index(private, embedder, progress=False)
        assert report.reused_documents == 1 and report.folder == current_version(private.index_dir)
        built.append(report.folder.name)

    for _ in range(KEEP_VERSIONS):
        rebuild()
    assert _versions(private.index_dir) == built  # KEEP_VERSIONS + 1: the oldest is leased
    assert Assistant(reader, embedder, private).ask("Qui finance le projet AMEM ?").hits[0].passage.doc_id == DOCUMENT
    del reader
    gc.collect()
    rebuild()
    assert _versions(private.index_dir) == built[-KEEP_VERSIONS:]


def test_retriever_moves_to_a_new_version_and_requests_in_flight_keep_theirs(
    retriever: Assistant, settings: Settings, embedder: Embedder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private = copy_setup(settings, retriever, tmp_path)
    serving = Assistant(load_index(private.index_dir), embedder, private)
    assert serving.refreshed() is serving

    (private.corpus_dir / ADDED).write_text(ADDED_TEXT, encoding="utf-8")
    build_index(private, embedder, progress=False)
    fresh = serving.refreshed()
    assert fresh is not serving and fresh.data.folder == current_version(private.index_dir)
    assert fresh.ask(ADDED_QUESTION).hits[0].passage.doc_id == ADDED
    assert {hit.passage.doc_id for hit in serving.ask(ADDED_QUESTION).hits} == {DOCUMENT}  # the old object keeps its version
    assert fresh.refreshed() is fresh

    # A new version that cannot be used: reported once, and the version in use keeps answering.
    (private.corpus_dir / ADDED).unlink()
    broken = build_index(private, embedder, progress=False).folder
    (broken / "dense.faiss").write_bytes(b"garbage")
    capsys.readouterr()
    assert fresh.refreshed() is fresh and fresh.refreshed() is fresh
    warnings = capsys.readouterr().err.strip().splitlines()
    assert len(warnings) == 1 and broken.name in warnings[0] and "still serving" in warnings[0], warnings
    assert fresh.ask(ADDED_QUESTION).hits[0].passage.doc_id == ADDED
    # Repaired by the next build: picked up.
    repaired = build_index(private, embedder, progress=False).folder
    assert fresh.refreshed().data.folder == repaired
