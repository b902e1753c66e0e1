"""The persisted index: manifest, reuse by content hash, atomic publication, refusals."""

from __future__ import annotations

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
from coopqa.embedding import Embedder
from coopqa.errors import IndexStoreError
from coopqa.index import build_index, current_version, load_index, read_manifest
from coopqa.retrieval import Retriever
from tests.conftest import DOCUMENT


def copy_setup(settings: Settings, retriever: Retriever, tmp_path: Path) -> Settings:
    """A private copy of the session corpus and index, free to be damaged."""
    shutil.copytree(settings.corpus_dir, tmp_path / "corpus")
    shutil.copytree(settings.index_dir, tmp_path / "index")
    return replace(settings, corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")


def test_manifest_records_what_the_index_was_built_with(retriever: Retriever, settings: Settings) -> None:
    manifest = retriever.data.manifest
    assert manifest["model"] == {"id": retriever.embedder.model_id, "dimension": 384}
    assert manifest["chunking"]["chunk_size"] == settings.chunk_size
    assert manifest["chunking"]["chunk_overlap"] == settings.chunk_overlap
    digest = manifest["documents"][DOCUMENT]["sha256"]
    import hashlib

    assert digest == hashlib.sha256((settings.corpus_dir / DOCUMENT).read_bytes()).hexdigest()
    assert manifest["versions"]["faiss-cpu"] and manifest["versions"]["sentence-transformers"]
    assert retriever.data.dense.ntotal == manifest["counts"]["passages"] == len(retriever.data.passages)


def test_unchanged_corpus_is_not_rebuilt(retriever: Retriever, settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    private = copy_setup(settings, retriever, tmp_path)
    before = current_version(private.index_dir)
    report = build_index(private, embedder, progress=False)
    assert report.unchanged and current_version(private.index_dir) == before


def test_only_changed_documents_are_embedded_again(retriever: Retriever, settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    private = copy_setup(settings, retriever, tmp_path)
    (private.corpus_dir / "ajout.txt").write_text("Ajout\n\nLe Maroc a accueilli une conférence sur la migration à Marrakech en 2018.\n", encoding="utf-8")
    report = build_index(private, embedder, progress=False)
    assert (report.documents, report.reused_documents) == (2, 1)
    data = load_index(private.index_dir)
    old_rows = list(range(len(retriever.data.passages)))
    new_rows = [i for i, p in enumerate(data.passages) if p.doc_id == DOCUMENT]
    assert np.array_equal(retriever.data.passage_vectors()[old_rows], data.passage_vectors()[new_rows])
    assert any(p.doc_id == "ajout.txt" for p in data.passages)
    # Superseded versions are cleaned up: one live version remains.
    assert len([p for p in private.index_dir.iterdir() if p.name.startswith("v-")]) == 1


def test_index_built_with_other_settings_is_refused(retriever: Retriever, settings: Settings, embedder: Embedder) -> None:
    with pytest.raises(IndexStoreError, match="chunk_size.*coopqa index"):
        Retriever(retriever.data, embedder, replace(settings, chunk_size=400, chunk_overlap=50))
    other_model = dict(retriever.data.manifest, model={"id": "intfloat/multilingual-e5-base", "dimension": 768})
    with pytest.raises(IndexStoreError, match="built with model 'intfloat/multilingual-e5-base'.*run: coopqa index"):
        Retriever(replace(retriever.data, manifest=other_model), embedder, settings)


def test_missing_index_is_built_on_first_use(settings: Settings, tmp_path: Path) -> None:
    fresh = replace(settings, index_dir=tmp_path / "new-index")
    assert current_version(fresh.index_dir) is None
    retriever = Retriever.open(fresh, progress=False)
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
def test_damaged_index_gives_one_clear_error(retriever: Retriever, settings: Settings, tmp_path: Path, damage, message: str) -> None:  # type: ignore[no-untyped-def]
    private = copy_setup(settings, retriever, tmp_path)
    damage(current_version(private.index_dir))
    with pytest.raises(IndexStoreError, match=message) as error:
        load_index(private.index_dir)
    assert "run: coopqa index" in error.value.one_line()


def test_damaged_index_is_repaired_by_coopqa_index(retriever: Retriever, settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    private = copy_setup(settings, retriever, tmp_path)
    version = current_version(private.index_dir)
    (version / "dense.faiss").write_bytes(b"garbage")
    report = build_index(private, embedder, progress=False)
    assert not report.unchanged
    assert load_index(private.index_dir).dense.ntotal == retriever.data.dense.ntotal


def test_killed_build_leaves_the_previous_index_usable(retriever: Retriever, settings: Settings, tmp_path: Path) -> None:
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
