"""The persisted index: FAISS vectors, BM25, passages, sentences and a manifest.

Layout of ``index_dir``::

    CURRENT            name of the live version folder (replaced atomically)
    .lock              held by whoever builds
    v-<time>-<id>/     one complete, immutable version
        manifest.json  model, chunking, per-document hashes, counts, versions,
                       dense index type, size and SHA-256 of every other file
        documents.jsonl, passages.jsonl, sentences.npy, sentence_vectors.npy,
        passage_vectors.npy, dense.faiss, bm25/ (passages), bm25_sentences/

A build writes a new version folder next to the live one and only then points
``CURRENT`` at it with :func:`os.replace`, so a crash at any moment leaves the
previous index usable. Documents whose content hash, model and chunking are
unchanged reuse their passages and vectors (no re-embedding), like
simonw/llm's content hashes. Older versions are kept for readers that may
still use them (see :mod:`coopqa.index.versions`), and every load verifies
every file's checksum (see :mod:`coopqa.index.files`).
"""

from __future__ import annotations

import bisect
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coopqa.config import Settings
from coopqa.documents import Document, Passage, Section, chunk_document, read_corpus, split_sentences
from coopqa.errors import IndexStoreError
from coopqa.index.dense import DEFAULT_THRESHOLDS, DenseIndex, DenseThresholds, build_dense_index, choose_dense_index, read_dense_index
from coopqa.index.files import seal, verify_files
from coopqa.index.late_chunking import sentence_places
from coopqa.index.lexical import LexicalIndex
from coopqa.index.manifest import FORMAT_VERSION as FORMAT_VERSION  # re-exported: callers import the index API from here
from coopqa.index.manifest import MANIFEST_FILE, RECORDED_PACKAGES, read_manifest, same_fingerprint, settings_fingerprint
from coopqa.index.manifest import check_compatible as check_compatible
from coopqa.index.versions import CURRENT_FILE, Lease, is_version_name, new_version_name, pointer_state, remove_unpublished
from coopqa.index.versions import remove_stale_versions as _remove_stale_versions
from coopqa.model import Embedder
from coopqa.versions import package_versions

_REBUILD = "run: coopqa index"
#: Files (and folders, ending in ``/``) a load reads: each must have a checksum in the manifest.
REQUIRED_FILES = (
    "documents.jsonl", "passages.jsonl", "sentences.npy", "sentence_vectors.npy", "passage_vectors.npy", "dense.faiss", "bm25/", "bm25_sentences/",
)
#: CURRENT holds one short folder name; anything longer is not a pointer.
_POINTER_MAX_BYTES = 256


@dataclass
class DocumentPart:
    """One document's share of the index, reusable while its hash is unchanged."""

    document: Document
    passages: list[Passage]
    passage_vectors: np.ndarray
    sentences: np.ndarray  # (n, 2) start, end
    sentence_vectors: np.ndarray


@dataclass
class _ReloadState:
    """Shared by the threads asking one loaded index whether ``CURRENT`` moved on."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    #: The ``CURRENT`` state last checked, and one whose version could not be used (not retried until it changes).
    seen: tuple[int, int, int] | None = None
    refused: tuple[int, int, int] | None = None


@dataclass
class IndexData:
    """A loaded index version, ready for retrieval."""

    folder: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    passages: list[Passage]
    dense: DenseIndex
    lexical: LexicalIndex
    sentence_lexical: LexicalIndex
    sentence_doc: np.ndarray  # (n,) document number, in the order of ``documents``
    sentences: np.ndarray  # (n, 2)
    sentence_vectors: np.ndarray  # (n, d), memory-mapped
    passage_vector_table: np.ndarray  # (passages, d), memory-mapped passage_vectors.npy
    #: Tells builders on this host not to delete the version while this object lives.
    lease: Lease | None = field(default=None, repr=False, compare=False)
    reload: _ReloadState = field(default_factory=_ReloadState, repr=False, compare=False)

    def passage_vectors(self) -> np.ndarray:
        """Exact passage vectors by passage number, whatever the FAISS index type (SQ8 codes are lossy)."""
        return self.passage_vector_table

    def sentences_of(self, number: int) -> Iterator[tuple[int, int, int]]:
        """``(sentence number, start, end)`` of the sentences overlapping passage ``number``, clipped to it."""
        passage = self.passages[number]
        lo, hi = self.passage_sentences[number]
        for sentence in range(int(lo), int(hi)):
            start = max(int(self.sentences[sentence, 0]), passage.start)
            end = min(int(self.sentences[sentence, 1]), passage.end)
            if end > start:
                yield sentence, start, end

    def __post_init__(self) -> None:
        self.passage_sentences = self._overlapping_sentences()

    def _overlapping_sentences(self) -> np.ndarray:
        """``[first, last)`` sentence numbers overlapping each passage, found with two vectorised searches.

        Sentences are stored by document, then by position, so ``document
        number × stride + offset`` orders them globally.
        """
        number = {doc_id: i for i, doc_id in enumerate(self.documents)}
        stride = np.int64(max((len(d.text) for d in self.documents.values()), default=0) + 1)
        passage_doc = np.array([number[p.doc_id] for p in self.passages], dtype=np.int64)
        passage_start = np.array([p.start for p in self.passages], dtype=np.int64)
        passage_end = np.array([p.end for p in self.passages], dtype=np.int64)
        sentence_doc = self.sentence_doc.astype(np.int64)
        first = np.searchsorted(sentence_doc * stride + self.sentences[:, 1], passage_doc * stride + passage_start, side="right")
        last = np.searchsorted(sentence_doc * stride + self.sentences[:, 0], passage_doc * stride + passage_end, side="left")
        return np.column_stack([first, np.maximum(first, last)]).astype(np.int64).reshape(-1, 2)


# --------------------------------------------------------------------------- reading


def current_version(index_dir: Path) -> Path | None:
    """The live version folder, or ``None`` when no index was ever built."""
    pointer = index_dir / CURRENT_FILE
    try:
        with pointer.open("rb") as handle:
            raw = handle.read(_POINTER_MAX_BYTES + 1)
        name = raw.decode("utf-8").strip()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise IndexStoreError(f"{pointer} is damaged (not UTF-8 text)", _REBUILD) from None
    except OSError as error:
        raise IndexStoreError(f"cannot read {pointer}: {error.strerror}", _REBUILD) from None
    if len(raw) > _POINTER_MAX_BYTES or not is_version_name(name):
        raise IndexStoreError(f"{pointer} is damaged: it does not name a version folder ({name[:60]!r})", _REBUILD)
    folder = index_dir / name
    if not folder.is_dir():
        raise IndexStoreError(f"{pointer} points to a missing version {name!r}", _REBUILD)
    return folder


def _document_from_record(record: dict[str, Any]) -> Document:
    sections = tuple(Section(int(s[0]), int(s[1]), tuple(s[2])) for s in record["sections"])
    return Document(record["doc_id"], record["text"], record["sha256"], record["title"], sections)


def load_index(index_dir: Path) -> IndexData:
    """Load the live version; any damage becomes a one-line :class:`IndexStoreError`.

    The version is leased (see :mod:`coopqa.index.versions`) before its
    manifest is read, so a build on this host never deletes it under the loader.
    """
    state = pointer_state(index_dir)  # before reading CURRENT: a change in between is seen by the next check
    folder = current_version(index_dir)
    if folder is None:
        raise IndexStoreError(f"there is no index in {index_dir}", _REBUILD)
    lease = Lease(folder)
    try:
        data = _load_version(folder, lease)
    except BaseException:
        lease.close()
        raise
    data.reload.seen = state
    return data


def _load_version(folder: Path, lease: Lease) -> IndexData:
    manifest = read_manifest(folder)
    verify_files(folder, manifest["files"], REQUIRED_FILES)
    try:
        documents, passages = _read_texts(folder)
        data = IndexData(
            folder, manifest, documents, passages,
            read_dense_index(folder / "dense.faiss", manifest["dense"]),
            LexicalIndex.load(folder / "bm25"),
            LexicalIndex.load(folder / "bm25_sentences"),
            *_read_sentences(folder),
            np.asarray(np.load(folder / "passage_vectors.npy", allow_pickle=False, mmap_mode="r")),
            lease,
        )
        _check_consistent(data)
    except (IndexStoreError, MemoryError):
        raise
    except Exception as error:
        # Files that passed their checksum can still be unreadable to a newer library (numpy reports a
        # garbled .npy header as tokenize.TokenError, bm25s its own errors): whatever the type, the index is unusable.
        detail = (str(error).splitlines() or [""])[0][:120]
        raise IndexStoreError(f"the index at {folder} is damaged ({type(error).__name__}: {detail})", _REBUILD) from None
    return data


def _read_texts(folder: Path) -> tuple[dict[str, Document], list[Passage]]:
    documents = {}
    with (folder / "documents.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            document = _document_from_record(json.loads(line))
            documents[document.doc_id] = document
    passages = []
    with (folder / "passages.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            text = documents[record["doc"]].text[record["start"] : record["end"]]
            passages.append(Passage(record["doc"], tuple(record["section"]), record["start"], record["end"], text))
    return documents, passages


def _read_sentences(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Document number, ``(start, end)`` offsets and memory-mapped vectors of every sentence."""
    table = np.load(folder / "sentences.npy", allow_pickle=False)
    if table.ndim != 2 or table.shape[1] != 3 or table.dtype.kind != "i":
        raise ValueError(f"sentences.npy holds a {table.dtype} array of shape {table.shape}, not (n, 3) integers")
    vectors = np.load(folder / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r")
    return table[:, 0], table[:, 1:], np.asarray(vectors)


def _check_consistent(data: IndexData) -> None:
    """Every count and shape agrees with the manifest: files each intact but from different builds are refused."""
    counts, dimension = data.manifest["counts"], data.manifest["model"]["dimension"]
    passages = len(data.passages)
    expected = {
        "vectors in dense.faiss": (data.dense.ntotal, passages),
        "passages in the manifest": (counts["passages"], passages),
        "documents in the manifest": (counts["documents"], len(data.documents)),
        "sentences in the manifest": (counts["sentences"], len(data.sentences)),
        "passage_vectors.npy shape": (data.passage_vector_table.shape, (passages, dimension)),
        "sentence_vectors.npy shape": (data.sentence_vectors.shape, (len(data.sentences), dimension)),
        "dense.faiss dimension": (data.dense.d, dimension),
    }
    for what, (found, wanted) in expected.items():
        if found != wanted:
            raise IndexStoreError(f"the index at {data.folder} is inconsistent: {what} is {found}, expected {wanted} for {passages} passages", _REBUILD)


def reload_index(data: IndexData, accept: Callable[[dict[str, Any]], None]) -> IndexData | None:
    """The version ``CURRENT`` names now, if it is not ``data``'s; ``None`` when nothing changed.

    Cheap enough to call for every request: one ``stat`` of ``CURRENT`` when
    it did not change. ``accept`` vets the new manifest (model, chunking)
    and raises :class:`IndexStoreError` to refuse it. A version that cannot
    be loaded or is refused is reported once on stderr and ``None`` is
    returned, so the caller keeps serving the version it has until
    ``CURRENT`` changes again. While one thread loads, others get ``None``
    (and keep the loaded version) instead of waiting.
    """
    index_dir = data.folder.parent
    state = pointer_state(index_dir)
    watch = data.reload
    if state is None or state in (watch.seen, watch.refused) or not watch.lock.acquire(blocking=False):
        return None
    try:
        if current_version(index_dir) == data.folder:
            watch.seen = state
            return None
        fresh = load_index(index_dir)
        accept(fresh.manifest)
    except IndexStoreError as error:
        watch.refused = state
        print(f"coopqa: warning: the new index version cannot be used ({error.one_line()}); still serving {data.folder.name}", file=sys.stderr, flush=True)
        return None
    finally:
        watch.lock.release()
    return fresh


# --------------------------------------------------------------------------- building


def _previous_parts(index_dir: Path, fingerprint: dict[str, Any], progress: bool) -> dict[str, DocumentPart]:
    """Reusable parts of the live index, by content hash.

    The previous version is only a way to skip embedding: when it is
    missing, built with other settings, or unreadable in any way, every
    document is embedded again and the build replaces it.
    """
    try:
        folder = current_version(index_dir)
        if folder is None:
            return {}
        manifest = read_manifest(folder)
        if not same_fingerprint(manifest, fingerprint):
            return {}
        data = load_index(index_dir)
    except IndexStoreError as error:
        if progress:
            print(f"coopqa: the previous index cannot be reused ({error.message}); embedding every document again", file=sys.stderr, flush=True)
        return {}
    vectors = data.passage_vectors()
    passage_rows: dict[str, list[int]] = {}
    for row, passage in enumerate(data.passages):
        passage_rows.setdefault(passage.doc_id, []).append(row)
    # Sentences are stored document by document: one boundary search finds each document's slice.
    bounds = np.searchsorted(data.sentence_doc, np.arange(len(data.documents) + 1), side="left")
    parts: dict[str, DocumentPart] = {}
    for number, (doc_id, document) in enumerate(data.documents.items()):
        rows = passage_rows.get(doc_id, [])
        lo, hi = int(bounds[number]), int(bounds[number + 1])
        parts[document.sha256] = DocumentPart(
            document,
            [data.passages[i] for i in rows],
            vectors[rows],
            data.sentences[lo:hi],
            np.asarray(data.sentence_vectors[lo:hi]),
        )
    return parts


def _new_part(document: Document, settings: Settings) -> DocumentPart:
    passages = chunk_document(document, settings.chunk_size, settings.chunk_overlap)
    spans = [span for section in document.sections for span in split_sentences(document.text, section.start, section.end)]
    sentences = np.array([(s.start, s.end) for s in spans], dtype=np.int64).reshape(-1, 2)
    empty = np.zeros((0, 0), dtype=np.float32)
    return DocumentPart(document, passages, empty, sentences, empty)


def sentence_lexical_texts(part: DocumentPart) -> list[str]:
    """Sentences as BM25 reads them: with their section path, like passages."""
    sections = part.document.sections
    section_starts = [s.start for s in sections]
    texts = []
    for start, end in part.sentences:
        # Sections are sorted and disjoint: the last one starting at or before the sentence holds it.
        at = bisect.bisect_right(section_starts, start) - 1
        section = sections[at] if at >= 0 and start < sections[at].end else None
        heading = " > ".join(section.path) if section else ""
        body = part.document.text[start:end]
        texts.append(f"{heading}\n{body}" if heading else body)
    return texts


def _embed_parts(parts: list[DocumentPart], embedder: Embedder, progress: bool, sentence_vectors: str = "separate") -> None:
    """Embed passages and sentences of ``parts``: in one encoder call of both (``separate``), or by late chunking (``late``)."""
    if not parts:
        return
    passage_texts = [p.embedding_text() for part in parts for p in part.passages]
    sentence_texts = [part.document.text[s:e] for part in parts for s, e in part.sentences]
    if progress:
        print(f"coopqa: embedding {len(passage_texts)} passages and {len(sentence_texts)} sentences…", file=sys.stderr, flush=True)
    if sentence_vectors == "late":
        passage_vectors, all_sentence_vectors = _embed_late(parts, embedder, passage_texts, sentence_texts, progress)
    else:
        vectors = embedder.encode_passages(passage_texts + sentence_texts, progress=progress)
        passage_vectors, all_sentence_vectors = vectors[: len(passage_texts)], vectors[len(passage_texts) :]
    for part in parts:
        part.passage_vectors, passage_vectors = passage_vectors[: len(part.passages)], passage_vectors[len(part.passages) :]
        part.sentence_vectors, all_sentence_vectors = all_sentence_vectors[: len(part.sentences)], all_sentence_vectors[len(part.sentences) :]


def _embed_late(
    parts: list[DocumentPart], embedder: Embedder, passage_texts: list[str], sentence_texts: list[str], progress: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Passage vectors and sentence vectors pooled from the passages' pass (:mod:`coopqa.index.late_chunking`); a
    sentence no passage holds, or cut off by the model's length limit, is encoded on its own."""
    spans: list[list[tuple[int, int]]] = []
    places: list[tuple[int, int] | None] = []
    for part in parts:
        found = sentence_places(part.passages, part.sentences)
        places += [None if place is None else (place[0] + len(spans), place[1]) for place in found.places]
        spans += found.spans
    passage_vectors, span_vectors = embedder.encode_passages_with_spans(passage_texts, spans, progress=progress)
    sentence_vectors = np.full((len(sentence_texts), embedder.dimension), np.nan, dtype=np.float32)
    for number, place in enumerate(places):
        if place is not None:
            sentence_vectors[number] = span_vectors[place[0]][place[1]]
    alone = np.flatnonzero(np.isnan(sentence_vectors).any(axis=1))
    if alone.size:
        sentence_vectors[alone] = embedder.encode_passages([sentence_texts[i] for i in alone])
    return passage_vectors, sentence_vectors


@dataclass(frozen=True)
class BuildReport:
    folder: Path
    documents: int
    reused_documents: int
    passages: int
    sentences: int
    seconds: float
    unchanged: bool


def build_index(
    settings: Settings,
    embedder: Embedder,
    progress: bool = True,
    documents: list[Document] | None = None,
    dense_thresholds: DenseThresholds = DEFAULT_THRESHOLDS,
) -> BuildReport:
    """Bring ``settings.index_dir`` up to date with the corpus; atomic and locked.

    ``dense_thresholds`` pick the FAISS index type by passage count (tests lower them).
    """
    from filelock import FileLock, Timeout

    began = time.perf_counter()
    documents = read_corpus(settings.corpus_dir) if documents is None else documents
    index_dir = settings.index_dir
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(index_dir / ".lock"), timeout=600)
        lock.acquire()
    except Timeout:
        raise IndexStoreError(f"another coopqa process has been building {index_dir} for 10 minutes", "wait for it or stop it") from None
    except OSError as error:
        raise IndexStoreError(f"cannot write the index folder {index_dir}: {error.strerror}", "pass --index DIR with a writable folder") from None
    try:
        remove_unpublished(index_dir, _readable_current(index_dir))
        fingerprint = settings_fingerprint(settings, embedder.model_id, embedder.dimension)
        previous = _previous_parts(index_dir, fingerprint, progress)
        live = current_version(index_dir) if previous else None
        if live is not None and _same_documents(read_manifest(live), documents):
            _remove_stale_versions(index_dir, live.name)
            return BuildReport(live, len(documents), len(documents), 0, 0, time.perf_counter() - began, unchanged=True)
        parts = [previous.get(d.sha256) or _new_part(d, settings) for d in documents]
        reused = sum(1 for d in documents if d.sha256 in previous)
        parts = [_rebase(part, document) for part, document in zip(parts, documents)]
        _embed_parts([p for p in parts if p.passage_vectors.size == 0 and p.passages], embedder, progress, settings.sentence_vectors)
        folder = _write_version(index_dir, parts, fingerprint, dense_thresholds)
        _publish(index_dir, folder)
        _remove_stale_versions(index_dir, folder.name)
    finally:
        lock.release()
    n_passages = sum(len(p.passages) for p in parts)
    n_sentences = sum(len(p.sentences) for p in parts)
    return BuildReport(folder, len(documents), reused, n_passages, n_sentences, time.perf_counter() - began, unchanged=False)


def _readable_current(index_dir: Path) -> str | None:
    """The live version's name, or ``None`` when ``CURRENT`` is missing or unreadable (then no version is removed)."""
    try:
        folder = current_version(index_dir)
    except IndexStoreError:
        return None
    return None if folder is None else folder.name


def _same_documents(manifest: dict[str, Any], documents: list[Document]) -> bool:
    return {d.doc_id: d.sha256 for d in documents} == {k: v["sha256"] for k, v in manifest["documents"].items()}


def _rebase(part: DocumentPart, document: Document) -> DocumentPart:
    """A reused part keeps its vectors but takes the document's current path (a renamed file)."""
    if part.document.doc_id == document.doc_id:
        return part
    passages = [Passage(document.doc_id, p.section, p.start, p.end, p.text) for p in part.passages]
    return DocumentPart(document, passages, part.passage_vectors, part.sentences, part.sentence_vectors)


def _write_version(index_dir: Path, parts: list[DocumentPart], fingerprint: dict[str, Any], thresholds: DenseThresholds) -> Path:
    import faiss

    name = new_version_name()
    staging = index_dir / f".build-{name}"
    staging.mkdir()
    passages = [p for part in parts for p in part.passages]
    dimension = fingerprint["model"]["dimension"]
    vectors = np.concatenate([part.passage_vectors.reshape(-1, dimension) for part in parts]).astype(np.float32)
    # Retrieval scores candidates with these exact vectors (memory-mapped), whatever the FAISS index type.
    np.save(staging / "passage_vectors.npy", vectors, allow_pickle=False)
    dense = choose_dense_index(len(vectors), thresholds)
    faiss.write_index(build_dense_index(vectors, dense), str(staging / "dense.faiss"))
    LexicalIndex.build([p.embedding_text() for p in passages]).save(staging / "bm25")
    LexicalIndex.build([text for part in parts for text in sentence_lexical_texts(part)]).save(staging / "bm25_sentences")
    sentence_table = np.concatenate(
        [np.column_stack([np.full(len(part.sentences), number), part.sentences]).astype(np.int64).reshape(-1, 3) for number, part in enumerate(parts)]
    )
    np.save(staging / "sentences.npy", sentence_table, allow_pickle=False)
    sentence_vectors = np.concatenate([part.sentence_vectors.reshape(-1, dimension) for part in parts]).astype(np.float32)
    np.save(staging / "sentence_vectors.npy", sentence_vectors, allow_pickle=False)
    _write_jsonl(staging / "documents.jsonl", (_document_record(part.document) for part in parts))
    _write_jsonl(staging / "passages.jsonl", ({"doc": p.doc_id, "section": list(p.section), "start": p.start, "end": p.end } for p in passages))
    manifest = dict(fingerprint)
    manifest.update(
        {
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "documents": {part.document.doc_id: {"sha256": part.document.sha256, "passages": len(part.passages)} for part in parts},
            "counts": {"documents": len(parts), "passages": len(passages), "sentences": len(sentence_table)},
            "versions": package_versions(RECORDED_PACKAGES),
            "dense": dense,
            "files": seal(staging, skip=MANIFEST_FILE),
        }
    )
    manifest_path = staging / MANIFEST_FILE
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    with manifest_path.open("rb") as handle:
        os.fsync(handle.fileno())
    folder = index_dir / name
    staging.rename(folder)
    return folder


def _document_record(document: Document) -> dict[str, Any]:
    sections = [[s.start, s.end, list(s.path)] for s in document.sections]
    return {"doc_id": document.doc_id, "sha256": document.sha256, "title": document.title, "sections": sections, "text": document.text}


def _write_jsonl(path: Path, records: Iterator[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _publish(index_dir: Path, folder: Path) -> None:
    """Point CURRENT at ``folder`` in one atomic rename."""
    pointer = index_dir / f".{CURRENT_FILE}.{uuid.uuid4().hex[:8]}"
    pointer.write_text(folder.name + "\n", encoding="utf-8")
    with pointer.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer, index_dir / CURRENT_FILE)
    directory = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
