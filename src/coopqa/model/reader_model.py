"""The reader's model on the query path: e5's tokenizer and the exported ONNX graph, run without PyTorch.

The shipped file ``weights/reader-delta.safetensors`` holds only what training changed
(the top encoder layers and the span head, fp16). The first use lays it over the
converted e5 weights and exports one ONNX graph into the model cache (PyTorch is needed
for that step only, as for the encoder's conversion); later runs load the graph directly.
The export is checked against PyTorch's logits before it is kept, and redone when the
delta or the converted model changes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from coopqa.config import DEFAULT_MODEL, Settings
from coopqa.errors import ModelError
from coopqa.model.onnx_encoder import EMBEDDINGS_FILE, OnnxGraph, SharedTokenizer
from coopqa.model.onnx_export import publish_export, quantise, source_stamp
from coopqa.model.pieces import PIECE_MODEL_FILE, write_piece_model

#: Tokens per window (question, separators and passage together), and the overlap between windows:
#: shipped-corpus passages (1,000 characters, about 250 tokens) mostly fit in one window.
MAX_WINDOW_TOKENS = 256
WINDOW_STRIDE = 96
#: The reader's graph takes rows of the token table (kept beside it, memory-mapped, as for the ``onnx`` encoder):
#: the graph is 86 MB instead of 470 MB, which is most of the reader's cold start.
READER_FILE = "reader.onnx"
#: The same graph with dynamic int8 matrix products (the encoder backend's quantisation).
READER_INT8_FILE = "reader-int8.onnx"
MARKER_FILE = "coopqa-reader-export.json"
#: 2: the graph takes ``inputs_embeds`` from the memory-mapped token table.
EXPORT_VERSION = 3
#: Largest difference allowed between the exported graph's logits and PyTorch's on the probe.
MAX_LOGIT_DIFFERENCE = 1e-2


def shipped_reader_weights() -> Path:
    """The trained delta that ships with coopqa."""
    return Path(str(resources.files("coopqa.model") / "weights" / "reader-delta.safetensors"))


def shipped_confidence_file() -> Path:
    """The answer calibrator fitted for the shipped delta (:mod:`coopqa.reading.confidence`)."""
    return Path(str(resources.files("coopqa.model") / "weights" / "reader-confidence.json"))


class ReaderTokenizer:
    """e5's tokenizer as the reader uses it: questions measured whole, (question, passage) pairs cut into overlapping windows.

    The loaded vocabulary is shared with the encoder (:class:`SharedTokenizer`).
    """

    WINDOWS: ClassVar[dict[str, Any]] = {"max_length": MAX_WINDOW_TOKENS, "stride": WINDOW_STRIDE, "strategy": "only_second"}

    def __init__(self, model_folder: Path) -> None:
        self.tokenizer = SharedTokenizer(model_folder / "tokenizer.json")
        self.pad_id = self.tokenizer.token_to_id("<pad>") or 1

    def question(self, question: str) -> Any:
        """The question's tokens alone, untruncated (a window's truncation refuses a lone sequence longer than a window)."""
        return self.tokenizer.encode_batch([question], None, add_special_tokens=False)[0]

    def windows(self, pairs: list[tuple[str, str]]) -> list[Any]:
        """Each pair's first window, with the following windows as its ``overflowing``."""
        return self.tokenizer.encode_batch(pairs, self.WINDOWS)


class ReaderSession:
    """Start and end logits for batches of windows, from the exported graph."""

    def __init__(self, export_dir: Path, model_file: str = READER_FILE, threads: int | None = None) -> None:
        try:
            # no busy-waiting after a run: the reader runs between the encoder's calls, whose threads it would starve
            self.graph = OnnxGraph(export_dir, model_file, threads, spinning=False)
            self.tokenizer = ReaderTokenizer(export_dir)
        except Exception as error:  # ORT and tokenizers raise their own types: all mean "unusable"
            first_line = (str(error).splitlines() or [type(error).__name__])[0][:200]
            raise ModelError(f"cannot load the reader in {export_dir}: {first_line}", f"delete {export_dir} and run again: coopqa exports it again") from None
        self.pad_id = self.tokenizer.pad_id
        #: SHA-256 of the delta this graph was exported from (set by :func:`open_reader`): what a calibrator must name.
        self.weights_digest = ""

    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.graph.run(["start_logits", "end_logits"], input_ids, attention_mask)
        return np.asarray(start, dtype=np.float32), np.asarray(end, dtype=np.float32)


def reader_export_folder(model_cache: Path, model_folder: Path, weights_digest: str) -> Path:
    return model_cache / "reader-exports" / f"{model_folder.name}-{weights_digest[:16]}"


def open_reader(settings: Settings, weights: Path | None = None, progress: bool = True, model_file: str | None = None) -> ReaderSession:
    """The reader, trained from the converted multilingual-e5-small whatever encoder retrieval uses; exported once if needed.

    ``model_file`` defaults to the int8 graph with the ``onnx-int8`` backend (the fastest choice throughout) and to the
    fp32 graph otherwise.
    """
    if model_file is None:
        model_file = READER_INT8_FILE if settings.backend == "onnx-int8" else READER_FILE
    from coopqa.model.embedder import resolve_model

    location, _model_id = resolve_model(replace(settings, model=DEFAULT_MODEL, backend="torch"), progress)
    model_folder = Path(location)
    weights = weights or shipped_reader_weights()
    if not weights.is_file():
        raise ModelError(f"the reader weights {weights} are missing", "reinstall coopqa (pip install -e .), or set COOPQA_READER=off to retrieve only")
    digest = _digest(weights)  # 21 MB read once per process: it names the export folder and checks its marker
    export_dir = reader_export_folder(settings.model_cache, model_folder, digest)

    def is_current() -> bool:
        return export_is_current(export_dir, model_folder, digest)

    if not is_current():
        if progress:
            print("coopqa: preparing the reader (once, about 30 s)…", file=sys.stderr, flush=True)
        publish_export(export_dir, is_current, lambda staged: _export(model_folder, weights, digest, staged))
    session = ReaderSession(export_dir, model_file)
    session.weights_digest = digest
    return session


def export_is_current(export_dir: Path, model_folder: Path, weights_digest: str) -> bool:
    try:
        marker = json.loads((export_dir / MARKER_FILE).read_text(encoding="utf-8"))
        if marker.get("export_version") != EXPORT_VERSION or marker.get("weights") != weights_digest or marker.get("source") != source_stamp(model_folder):
            return False
        return all((export_dir / name).is_file() and (export_dir / name).stat().st_size == size for name, size in marker["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _export(model_folder: Path, weights: Path, weights_digest: str, staged: Path) -> None:
    """Lay the delta over e5, export the graph (fp32, then int8) and check it against PyTorch's logits."""
    import torch

    from coopqa.model.reader_net import export_reader_graph, load_reader_net

    try:
        model = load_reader_net(model_folder, weights)
    except Exception as error:  # safetensors raises its own error types for a damaged file
        first_line = (str(error).splitlines() or [type(error).__name__])[0][:200]
        raise ModelError(f"the reader weights {weights} cannot be read: {first_line}", "reinstall coopqa (pip install -e .) to restore the file") from None
    export_reader_graph(model, staged / READER_FILE, staged / EMBEDDINGS_FILE)
    shutil.copyfile(model_folder / "tokenizer.json", staged / "tokenizer.json")
    write_piece_model(staged / "tokenizer.json", staged / PIECE_MODEL_FILE)
    probe = ReaderTokenizer(staged).windows([("Quel est le budget du projet ?", "Le projet dispose d’un budget de 2.400.000 Euros sur trois ans.")])[0]
    ids = np.array([probe.ids], dtype=np.int64)
    mask = np.ones_like(ids)
    with torch.no_grad():
        reference = [tensor.numpy() for tensor in model(torch.from_numpy(ids), torch.from_numpy(mask))]
    exported = ReaderSession(staged).logits(ids, mask)
    difference = max(float(np.abs(a - b).max()) for a, b in zip(exported, reference))
    if difference > MAX_LOGIT_DIFFERENCE:
        raise ModelError(
            f"the reader's ONNX export differs from PyTorch (logits differ by {difference:.4f})",
            "run again; if it persists, reinstall the pinned onnx and onnxruntime (pip install -e .)",
        )
    quantise(staged / READER_FILE, staged / READER_INT8_FILE)
    marker: dict[str, Any] = {
        "export_version": EXPORT_VERSION,
        "weights": weights_digest,
        "source": source_stamp(model_folder),
        "max_logit_difference": difference,
        "files": {path.name: path.stat().st_size for path in sorted(staged.iterdir())},
    }
    (staged / MARKER_FILE).write_text(json.dumps(marker, indent=2), encoding="utf-8")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
