"""Encode with an ONNX export of a sentence-transformers model, through ONNX Runtime.

Why not ``SentenceTransformer(folder, backend="onnx")``: that route needs
optimum-onnx, which pins transformers < 4.58 while coopqa needs transformers 5
(huggingface/optimum-onnx#114). This module computes what that backend would:
the folder's own tokenizer (run by SentencePiece, :mod:`coopqa.model.pieces`, no
transformers import, so loading takes half a second), the exported transformer,
then the model's pooling and normalisation, read from the export marker that
:mod:`coopqa.model.onnx_export` wrote after checking them against sentence-transformers.

:class:`OnnxSentenceEncoder` offers the part of ``SentenceTransformer`` that
:class:`coopqa.model.embedder.Embedder` uses (``encode``, ``prompts``,
``get_embedding_dimension``), so the embedder treats both backends alike.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from coopqa.errors import ModelError
from coopqa.model.pieces import PIECE_MODEL_FILE, Encoding, PieceTokenizer

#: The export's layout is the one ``SentenceTransformer(backend="onnx")`` looks for under ``<model>/onnx/``,
#: so these files can be loaded by sentence-transformers itself once optimum-onnx supports transformers 5.
FP32_FILE = "model.onnx"
INT8_FILE = "model_qint8_avx512_vnni.onnx"
#: The ``onnx`` backend: the fp32 transformer without its 250k-row token table, which is kept beside it as a
#: memory-mapped array (:data:`EMBEDDINGS_FILE`) and gathered in numpy. Loading it reads 86 MB of graph instead
#: of 470 MB, and only the table rows a text uses are ever paged in; the vectors are the fp32 model's.
BODY_FILE = "model_body.onnx"
EMBEDDINGS_FILE = "word_embeddings.npy"
TOKENIZER_FILE = "tokenizer.json"
MARKER_FILE = "coopqa-onnx.json"
POOLING_MODES = ("mean", "cls", "max")


@dataclass(frozen=True)
class EncoderConfig:
    """Everything besides the graph that turns texts into the model's vectors."""

    dimension: int
    max_seq_length: int
    pad_token_id: int
    pooling: str
    normalize: bool
    inputs: tuple[str, ...]
    prompts: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "inputs": list(self.inputs)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EncoderConfig:
        return cls(**{**data, "inputs": tuple(data["inputs"]), "prompts": dict(data.get("prompts") or {})})


def available_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class OnnxGraph:
    """One exported graph in an ONNX Runtime session, fed token ids, or (body graphs) rows of its memory-mapped token table.

    The encoder and the reader run their graphs alike: a body graph (input ``inputs_embeds``) gets the rows
    of :data:`EMBEDDINGS_FILE` beside it, gathered in numpy; a whole graph gets the ids. ``spinning=False``
    stops ONNX Runtime's threads busy-waiting after a run, for a session that runs between another
    one's calls (the reader between the encoder's), whose threads it would otherwise starve.
    """

    def __init__(self, folder: Path, model_file: str | Path, threads: int | None = None, spinning: bool = True) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or available_cores()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: its warnings are about graph rewrites, not the user's data
        if not spinning:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        #: The graph file this session runs (benchmarks compare it with rewritten copies).
        self.path = folder / model_file
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.input_names = tuple(node.name for node in self.session.get_inputs())
        self.table: np.ndarray | None = None
        if "inputs_embeds" in self.input_names:
            self.table = np.load(folder / EMBEDDINGS_FILE, mmap_mode="r")
            if self.table.ndim != 2 or self.table.dtype != np.float32:
                raise ValueError(f"{EMBEDDINGS_FILE} is not a float32 matrix")

    def run(self, outputs: list[str] | None, ids: np.ndarray, mask: np.ndarray) -> list[Any]:
        """The graph's ``outputs`` (all when ``None``) for one padded batch of token ids."""
        if self.table is None:
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        else:
            if ids.size and int(ids.max()) >= self.table.shape[0]:
                raise ValueError(f"token id {int(ids.max())} is outside the {self.table.shape[0]}-row token table")
            feeds = {"inputs_embeds": np.ascontiguousarray(self.table[ids]), "attention_mask": mask}
        return list(self.session.run(outputs, {name: feeds[name] for name in self.input_names}))


class SharedTokenizer:
    """A tokenizer loaded once per process, however many stages use it.

    The encoder and the reader (which cuts passages into windows) would otherwise load e5's
    250k pieces twice. Files with the same content share one loaded :class:`PieceTokenizer`,
    which holds no truncation state, so stages call it concurrently without a lock.
    """

    _loaded: ClassVar[dict[str, PieceTokenizer]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        """``path``: a ``tokenizer.json``; the SentencePiece model beside it is read when the export wrote one."""
        piece_model = path.with_name(PIECE_MODEL_FILE)
        serialized = piece_model.read_bytes() if piece_model.is_file() else None
        key = hashlib.sha256(serialized if serialized is not None else path.read_bytes()).hexdigest()
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = PieceTokenizer(path, serialized)
            self._tokenizer = self._loaded[key]

    def token_to_id(self, token: str) -> int | None:
        return self._tokenizer.token_to_id(token)

    def encode_batch(self, inputs: Sequence[Any], truncation: dict[str, Any] | None = None, add_special_tokens: bool = True) -> list[Encoding]:
        """The :class:`Encoding` of each input (a text or a pair); ``truncation``: ``max_length`` and, for pairs, ``stride``."""
        return self._tokenizer.encode_batch(inputs, truncation, add_special_tokens)


def read_marker(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / MARKER_FILE).read_text(encoding="utf-8")))


class OnnxSentenceEncoder:
    """An exported sentence-transformers model run by ONNX Runtime on the CPU.

    Texts are sorted by token length before batching, as ``SentenceTransformer.encode``
    does: unsorted batches pad short texts to long ones and cost 30 % of the
    throughput (docs/scaling.md §1.1). Intra-op threads default to the available
    cores; two threads encode 1.75× faster than one on the project's 2-core machine.
    """

    def __init__(self, folder: Path, model_file: str | Path = INT8_FILE, threads: int | None = None, max_seq_length: int | None = None) -> None:
        """``model_file`` is relative to ``folder`` (or absolute); ``max_seq_length`` overrides the model's, to measure shorter ones."""
        try:
            import onnxruntime  # noqa: F401  (named here for a clear error)
        except ImportError:
            raise ModelError(
                "the onnx-int8 backend needs the onnxruntime package, which is not installed",
                "run: pip install 'onnxruntime>=1.20' (or set COOPQA_BACKEND=torch)",
            ) from None
        try:
            self.config = EncoderConfig.from_json(read_marker(folder)["encoder"])
            self.tokenizer = SharedTokenizer(folder / TOKENIZER_FILE)
            self.graph = OnnxGraph(folder, model_file, threads)
        except Exception as error:  # ORT raises its own Fail/InvalidProtobuf, tokenizers raises Exception: all mean "unusable"
            first_line = (str(error).splitlines() or [type(error).__name__])[0][:200]
            raise ModelError(f"cannot load the ONNX model in {folder}: {first_line}", f"delete {folder} and run again: coopqa exports it again") from None
        self.max_seq_length = max_seq_length or self.config.max_seq_length
        self.prompts = dict(self.config.prompts)
        self.model_file = folder / model_file

    def get_embedding_dimension(self) -> int:
        return self.config.dimension

    def encode(
        self,
        sentences: list[str],
        prompt: str | None = None,
        batch_size: int = 8,
        show_progress_bar: bool = False,
        normalize_embeddings: bool = False,
        convert_to_numpy: bool = True,
    ) -> np.ndarray:
        """Vectors of ``sentences`` (float32, one row each), in their input order."""
        vectors = np.zeros((len(sentences), self.config.dimension), dtype=np.float32)
        for rows, hidden, mask, _ in self._hidden_batches(sentences, prompt or "", batch_size, show_progress_bar):
            vectors[rows] = self._pool(hidden, mask)
        return self._normalised(vectors, normalize_embeddings)

    def encode_with_spans(
        self, texts: list[str], spans: Sequence[Sequence[tuple[int, int]]], prompt: str | None = None, batch_size: int = 8, show_progress_bar: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors of ``texts`` and, from the same pass, of character spans inside them (late chunking).

        A span's vector is the mean of the token states whose last character lies inside it (a piece's offsets
        include the space before it), so a sentence read within its passage costs no second pass and carries its
        passage's context. ``spans[i]`` are ``(start, end)`` offsets in ``texts[i]`` (the prompt excluded). A span
        the model did not read to its end (the text was cut at ``max_seq_length``) gets a row of NaN, for the caller
        to encode on its own. All vectors are normalised.
        Only for mean pooling, whose text vector is the mean of the same states.
        """
        if self.config.pooling != "mean":
            raise ModelError(f"late chunking needs a mean-pooling model, this one pools by {self.config.pooling}", "build with sentence_vectors = separate")
        vectors = np.zeros((len(texts), self.config.dimension), dtype=np.float32)
        span_vectors = [np.full((len(spans[i]), self.config.dimension), np.nan, dtype=np.float32) for i in range(len(texts))]
        shift = len(prompt or "")
        for rows, hidden, mask, encodings in self._hidden_batches(texts, prompt or "", batch_size, show_progress_bar):
            vectors[rows] = self._pool(hidden, mask)
            for row, number in enumerate(rows):
                offsets = np.array(encodings[number].offsets, dtype=np.int64).reshape(-1, 2)
                real = offsets[:, 1] > offsets[:, 0]  # special tokens have empty offsets
                ends = offsets[:, 1] - shift
                # A text cut at max_seq_length: a span reaching past its last token is left to be encoded alone.
                read_to = int(ends[real].max()) if len(encodings[number].ids) >= self.max_seq_length and real.any() else None
                for position, (start, end) in enumerate(spans[number]):
                    inside = real & (ends > start) & (ends <= end)
                    if inside.any() and (read_to is None or end <= read_to):
                        span_vectors[number][position] = hidden[row, : len(inside)][inside].mean(axis=0)
        return self._normalised(vectors, True), [self._normalised(block, True) for block in span_vectors]

    def _hidden_batches(
        self, texts: list[str], prompt: str, batch_size: int, progress: bool
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, list[Encoding]]]:
        """``(text numbers, token states, mask, every text's encoding)`` per padded batch, longest texts first."""
        encodings = self.tokenizer.encode_batch([prompt + text for text in texts], {"max_length": self.max_seq_length})
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")
        starts: Iterable[int] = range(0, len(texts), batch_size)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Batches", unit="batch")
        for start in starts:
            rows = order[start : start + batch_size]
            width = int(lengths[rows].max())
            ids = np.full((len(rows), width), self.config.pad_token_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, number in enumerate(rows):
                ids[row, : lengths[number]] = encodings[number].ids
                mask[row, : lengths[number]] = 1
            yield rows, self.graph.run(None, ids, mask)[0], mask, encodings

    def _normalised(self, vectors: np.ndarray, asked: bool) -> np.ndarray:
        if self.config.normalize or asked:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """sentence-transformers' Pooling for one padded batch (its clamps included)."""
        if self.config.pooling == "cls":
            return np.asarray(hidden[:, 0])
        weights = mask[..., None].astype(np.float32)
        if self.config.pooling == "max":
            return np.asarray(np.where(weights > 0, hidden, -1e9).max(axis=1))
        return np.asarray((hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9))
