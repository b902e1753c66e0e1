"""The index in Milvus: for a corpus that outgrows one machine, served to many app replicas that hold no index.

The same ``pymilvus`` client reaches Milvus Lite (a local file, ``milvus_uri = "./milvus.db"``: tests and
laptops), Milvus Standalone and a Milvus cluster (``http://host:19530``). The token, when the engine needs
one, comes from ``COOPQA_MILVUS_TOKEN`` and is never written to a manifest, a log or a message.

Layout, for a collection name ``P`` (``Settings.milvus_collection``) and a version ``N``::

    P_v<N>_passages    one row per passage: doc, section path, exact offsets, the file's SHA-256, the dense
                       vector from coopqa's encoder, the BM25 terms and their sparse vector (Milvus's BM25 function)
    P_v<N>_sentences   one row per sentence, the same, with the numbers of the passages it overlaps
    P_v<N>_documents   the documents' text and sections (cited context), and the version's manifest
    alias P            → P_v<N>_passages: the published version

Publishing is the alias switch (``alter_alias``), one atomic step: a build writes a whole new version and
only then moves the alias, so a build killed at any point leaves the alias on the old version, which goes
on serving. The two previous versions are kept (a reader still on one finishes its question) and older ones
dropped. A build reuses the vectors of every document whose SHA-256, model and chunking are unchanged.

BM25 runs inside the engine over the terms coopqa's own French analysis gives (:func:`coopqa.index.analyse`:
accent folding, stop words, Snowball stemming), written space-separated and read by Milvus's ``standard``
tokenizer, so the lexical stage matches the FAISS store's term for term; Milvus computes the statistics.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coopqa.config import Settings
from coopqa.documents import Document, Section, read_corpus
from coopqa.errors import CoopqaError, IndexStoreError
from coopqa.index.lexical import BM25_B, BM25_K1, BM25_PARAMETERS, analyse
from coopqa.index.manifest import RECORDED_PACKAGES, same_fingerprint, settings_fingerprint
from coopqa.index.store import DocumentPart, _embed_parts, _new_part, sentence_lexical_texts
from coopqa.model import Embedder
from coopqa.versions import package_versions

TOKEN_VARIABLE = "COOPQA_MILVUS_TOKEN"
#: Versions kept besides the published one.
KEPT_VERSIONS = 2
#: Milvus's longest VARCHAR (bytes); longer document texts are stored in pieces.
_VARCHAR_MAX = 65_535
_TEXT_PIECE = 16_000  # characters: at most 4 bytes each in UTF-8
_SECTION_SEPARATOR = " > "
#: The terms of a text with none (all stop words): a placeholder that matches no question.
EMPTY_TERMS = "\u2205"
_BATCH = 500
_VERSION = re.compile(r"_v(\d+)_passages$")


@dataclass(frozen=True)
class MilvusIndexRef:
    """Where a Milvus index lives: URI (never the token) and collection name."""

    uri: str
    name: str

    def collections(self, version: int) -> tuple[str, str, str]:
        prefix = f"{self.name}_v{version}"
        return f"{prefix}_passages", f"{prefix}_sentences", f"{prefix}_documents"


def milvus_ref(settings: Settings) -> MilvusIndexRef:
    uri = settings.milvus_uri or str(settings.index_dir / "milvus.db")
    return MilvusIndexRef(uri, settings.milvus_collection)


def connect(ref: MilvusIndexRef) -> Any:
    """A client for ``ref.uri``; an unreachable engine or a refused token is one line naming the URI, never the token."""
    try:
        from pymilvus import MilvusClient
        # pymilvus logs every failed call with its traceback; coopqa reports failures itself, in one line
        logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    except ImportError:
        raise IndexStoreError("the Milvus store needs pymilvus", "install it: pip install 'coopqa[milvus]'") from None
    if "://" not in ref.uri:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(ref.uri)), exist_ok=True)
        except OSError as error:
            raise IndexStoreError(f"cannot create the folder of the Milvus Lite file {ref.uri}: {error.strerror}") from None
    try:
        return MilvusClient(uri=ref.uri, token=os.environ.get(TOKEN_VARIABLE, ""), timeout=30)
    except Exception as error:  # pymilvus raises its own and grpc's types: all mean "no engine there"
        reason = _first_line(error)
        raise IndexStoreError(f"cannot reach the Milvus engine at {ref.uri}: {reason}", f"check milvus_uri and {TOKEN_VARIABLE}") from None


def _first_line(error: BaseException) -> str:
    text = str(error)
    token = os.environ.get(TOKEN_VARIABLE)
    if token:
        text = text.replace(token, "***")
    return (text.splitlines() or [type(error).__name__])[0][:200]


def _schema(client: Any, dimension: int, with_passages: bool) -> tuple[Any, Any]:
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("doc", DataType.VARCHAR, max_length=4096)
    schema.add_field("doc_sha256", DataType.VARCHAR, max_length=64)
    schema.add_field("section", DataType.VARCHAR, max_length=_VARCHAR_MAX)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("terms", DataType.VARCHAR, max_length=_VARCHAR_MAX, enable_analyzer=True, analyzer_params={"tokenizer": "standard"})
    if not with_passages:  # a passage's own text: what the reader reads and the answer cites
        schema.add_field("text", DataType.VARCHAR, max_length=_VARCHAR_MAX)
    if with_passages:
        schema.add_field("passages", DataType.ARRAY, element_type=DataType.INT64, max_capacity=256)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"], output_field_names=["sparse"]))
    index = client.prepare_index_params()
    index.add_index("dense", index_type="FLAT", metric_type="IP")
    bm25 = {"bm25_k1": BM25_K1, "bm25_b": BM25_B}
    # A server reads the parameters flattened, as pymilvus sends them; Milvus Lite reads only a JSON "params" entry
    # (without it Lite silently used its default k1 = 1.5). A server merges that entry into the same keys.
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={**bm25, "params": bm25})
    return schema, index


def _documents_schema(client: Any) -> tuple[Any, Any]:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("kind", DataType.VARCHAR, max_length=16)  # "manifest" or "document"
    schema.add_field("doc", DataType.VARCHAR, max_length=4096)
    schema.add_field("piece", DataType.INT64)
    schema.add_field("body", DataType.VARCHAR, max_length=_VARCHAR_MAX)
    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
    index = client.prepare_index_params()
    index.add_index("unused", index_type="FLAT", metric_type="L2")
    return schema, index


def terms_of(text: str) -> str:
    """What BM25 reads of ``text`` in Milvus: coopqa's analysed French terms, space-separated (cut to fit one row)."""
    terms = " ".join(analyse(text)) or EMPTY_TERMS
    return terms if len(terms) <= _TEXT_PIECE else terms[:_TEXT_PIECE].rsplit(" ", 1)[0]


def published_version(client: Any, ref: MilvusIndexRef) -> int | None:
    """The version the alias names, or ``None`` before the first publish."""
    try:
        if ref.name not in client.list_aliases().get("aliases", []):
            return None
        target = client.describe_alias(ref.name)["collection_name"]
    except Exception as error:
        raise IndexStoreError(f"cannot read the Milvus alias {ref.name!r} at {ref.uri}: {_first_line(error)}") from None
    found = _VERSION.search(target)
    if found is None:
        raise IndexStoreError(f"the Milvus alias {ref.name!r} names {target!r}, which is no coopqa index version", "run: coopqa index")
    return int(found.group(1))


def versions_present(client: Any, ref: MilvusIndexRef) -> list[int]:
    pattern = re.compile(rf"^{re.escape(ref.name)}_v(\d+)_passages$")
    return sorted(int(m.group(1)) for name in client.list_collections() if (m := pattern.match(name)))


@dataclass
class MilvusBuildReport:
    version: int
    documents: int
    reused_documents: int
    passages: int
    sentences: int
    seconds: float
    unchanged: bool
    uri: str = field(default="")


def build_milvus_index(settings: Settings, embedder: Embedder, progress: bool = True, documents: list[Document] | None = None) -> MilvusBuildReport:
    """Bring the Milvus index up to date with the corpus: a new version, then the alias switch (atomic)."""
    began = time.perf_counter()
    documents = read_corpus(settings.corpus_dir) if documents is None else documents
    ref = milvus_ref(settings)
    with _engine(ref, "the build") as client:
        fingerprint = milvus_fingerprint(settings, embedder)
        live = published_version(client, ref)
        previous = _previous_manifest(client, ref, live)
        if previous is not None and same_fingerprint(previous, fingerprint) and _same_documents(previous, documents):
            _drop_old_versions(client, ref, live)
            return MilvusBuildReport(live or 0, len(documents), len(documents), 0, 0, time.perf_counter() - began, True, ref.uri)
        parts, reused = _embedded_parts(client, ref, live, previous, fingerprint, documents, settings, embedder, progress)
        version = max([*versions_present(client, ref), live or 0]) + 1
        _create_version(client, ref, version, embedder.dimension, fresh=True)
        passage_rows, sentence_rows = _insert_parts(client, ref, version, parts, 0)
        manifest = _manifest(fingerprint, {part.document.doc_id: _document_entry(part) for part in parts}, passage_rows, sentence_rows)
        _write_manifest(client, ref, version, manifest)
        _publish(client, ref, version)
        _drop_old_versions(client, ref, version)
    return MilvusBuildReport(version, len(documents), reused, passage_rows, sentence_rows, time.perf_counter() - began, False, ref.uri)


#: Row ids of shard ``I`` start at ``(I + 1) × SHARD_SPAN``; a whole build's start at 0.
SHARD_SPAN = 10**12


def shard_of(doc_id: str, shards: int) -> int:
    """The shard a file belongs to: a hash of its path, so every worker agrees without talking to the others."""
    return int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest()[:8], "big") % shards


def build_milvus_shard(
    settings: Settings, embedder: Embedder, shard: int, shards: int, progress: bool = True, documents: list[Document] | None = None
) -> MilvusBuildReport:
    """Embed shard ``shard`` of ``shards`` (the files :func:`shard_of` gives it) into the pending version, unpublished.

    N workers on N machines each run one shard against the same engine; :func:`publish_milvus_shards` publishes
    once every shard has finished. A shard run again replaces its own rows; the published version serves throughout.
    """
    if not 0 <= shard < shards:
        raise IndexStoreError(f"shard {shard}/{shards} does not exist: shards are numbered 0 to {shards - 1}", "pass --shard I/N with 0 <= I < N")
    began = time.perf_counter()
    every = read_corpus(settings.corpus_dir) if documents is None else documents
    mine = [document for document in every if shard_of(document.doc_id, shards) == shard]
    ref = milvus_ref(settings)
    with _engine(ref, f"shard {shard}/{shards}") as client:
        fingerprint = milvus_fingerprint(settings, embedder)
        live = published_version(client, ref)
        previous = _previous_manifest(client, ref, live)
        parts, reused = _embedded_parts(client, ref, live, previous, fingerprint, mine, settings, embedder, progress)
        version = max([*versions_present(client, ref), live or 0])
        version = version if version > (live or 0) else version + 1
        _create_version(client, ref, version, embedder.dimension, fresh=False)
        base = (shard + 1) * SHARD_SPAN
        for name in ref.collections(version):
            client.delete(name, filter=f"id >= {base} and id < {base + SHARD_SPAN}")  # this shard's earlier attempt
        passage_rows, sentence_rows = _insert_parts(client, ref, version, parts, base)
        done = {
            "shard": shard,
            "shards": shards,
            "fingerprint": fingerprint,
            "documents": {part.document.doc_id: _document_entry(part) for part in parts},
            "counts": {"passages": passage_rows, "sentences": sentence_rows},
        }
        _, _, documents_name = ref.collections(version)
        pieces = _pieces(json.dumps(done, ensure_ascii=False))
        rows = [_document_row(base + SHARD_SPAN - 1 - n, "shard", f"{shard}/{shards}", n, piece) for n, piece in enumerate(pieces)]
        client.insert(documents_name, rows)
        client.flush(documents_name)
    return MilvusBuildReport(version, len(mine), reused, passage_rows, sentence_rows, time.perf_counter() - began, False, ref.uri)


def publish_milvus_shards(settings: Settings) -> MilvusBuildReport:
    """Publish the pending version once every shard has finished; before that, refuse and name the missing shards."""
    began = time.perf_counter()
    ref = milvus_ref(settings)
    with _engine(ref, "the publish") as client:
        live = published_version(client, ref)
        pending = max([*versions_present(client, ref), live or 0])
        if pending <= (live or 0):
            raise IndexStoreError(f"no shard build is pending in Milvus at {ref.uri}", "run coopqa index --shard I/N on each worker first")
        _, _, documents_name = ref.collections(pending)
        load_version(client, ref, pending)
        rows = client.query(documents_name, filter='kind == "shard"', output_fields=["doc", "piece", "body"])
        done = [json.loads("".join(bodies)) for bodies in _bodies_by_doc(rows).values()]
        if not done:
            raise IndexStoreError(f"no shard has finished in pending version {pending} at {ref.uri}", "run coopqa index --shard I/N on each worker first")
        counts = {entry["shards"] for entry in done}
        if len(counts) != 1:
            raise IndexStoreError(f"the pending version holds shards of different splits ({sorted(counts)})", "run every shard again with the same N")
        shards = counts.pop()
        missing = sorted(set(range(shards)) - {entry["shard"] for entry in done})
        if missing:
            raise IndexStoreError(
                f"not published: shard(s) {', '.join(f'{i}/{shards}' for i in missing)} have not finished", "run them, then coopqa index --publish"
            )
        fingerprints = {json.dumps(entry["fingerprint"], sort_keys=True) for entry in done}
        if len(fingerprints) != 1:
            raise IndexStoreError("the shards were built with different models or settings", "run every shard again with the same settings")
        for name in ref.collections(pending):
            client.delete(name, filter=f"id < {SHARD_SPAN}")  # rows of a whole build killed before it published
        documents = {doc: entry for shard in done for doc, entry in shard["documents"].items()}
        passages = sum(entry["counts"]["passages"] for entry in done)
        sentences = sum(entry["counts"]["sentences"] for entry in done)
        _write_manifest(client, ref, pending, _manifest(done[0]["fingerprint"], documents, passages, sentences))
        _publish(client, ref, pending)
        _drop_old_versions(client, ref, pending)
    return MilvusBuildReport(pending, len(documents), 0, passages, sentences, time.perf_counter() - began, False, ref.uri)


def milvus_fingerprint(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    return settings_fingerprint(settings, embedder.model_id, embedder.dimension) | {"store": "milvus", "bm25": BM25_PARAMETERS}


def _document_entry(part: DocumentPart) -> dict[str, Any]:
    return {"sha256": part.document.sha256, "passages": len(part.passages)}


@contextlib.contextmanager
def _engine(ref: MilvusIndexRef, what: str) -> Iterator[Any]:
    """A client for one build step; the engine's own errors become one line naming the URI, nothing half-published."""
    client = connect(ref)
    try:
        yield client
    except CoopqaError:  # already one line (the engine's, the encoder's)
        raise
    except Exception as error:
        raise IndexStoreError(f"the Milvus engine at {ref.uri} failed during {what}: {_first_line(error)}", "the published version is unchanged") from None
    finally:
        client.close()


def _embedded_parts(
    client: Any,
    ref: MilvusIndexRef,
    live: int | None,
    previous: dict[str, Any] | None,
    fingerprint: dict[str, Any],
    documents: list[Document],
    settings: Settings,
    embedder: Embedder,
    progress: bool,
) -> tuple[list[DocumentPart], int]:
    """The documents chunked, with the published version's vectors where unchanged and the encoder's elsewhere."""
    same = previous is not None and same_fingerprint(previous, fingerprint)
    reusable = _previous_vectors(client, ref, live, previous, {document.sha256 for document in documents}) if same else {}
    parts = [_new_part(document, settings) for document in documents]
    reused = _lay_previous_vectors(parts, reusable, embedder.dimension)
    _embed_parts([part for part in parts if part.passage_vectors.size == 0 and part.passages], embedder, progress, settings.sentence_vectors)
    return parts, reused


def _same_documents(manifest: dict[str, Any], documents: list[Document]) -> bool:
    return {d.doc_id: d.sha256 for d in documents} == {k: v["sha256"] for k, v in manifest.get("documents", {}).items()}


def _previous_manifest(client: Any, ref: MilvusIndexRef, live: int | None) -> dict[str, Any] | None:
    if live is None:
        return None
    return read_milvus_manifest(client, ref, live)


def read_milvus_manifest(client: Any, ref: MilvusIndexRef, version: int) -> dict[str, Any]:
    _, _, documents = ref.collections(version)
    try:
        load_version(client, ref, version)
        rows = client.query(documents, filter='kind == "manifest"', output_fields=["piece", "body"])
    except Exception as error:
        raise IndexStoreError(f"cannot read the manifest of {documents} at {ref.uri}: {_first_line(error)}", "run: coopqa index") from None
    if not rows:
        raise IndexStoreError(f"the Milvus index version {documents} has no manifest", "run: coopqa index")
    text = "".join(row["body"] for row in sorted(rows, key=lambda row: row["piece"]))
    try:
        manifest: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError:
        raise IndexStoreError(f"the manifest of {documents} at {ref.uri} is not JSON", "run: coopqa index") from None
    return manifest


def _previous_vectors(
    client: Any, ref: MilvusIndexRef, live: int | None, manifest: dict[str, Any] | None, shas: set[str]
) -> dict[tuple[str, str, int, int], np.ndarray]:
    """Vectors of the published version for the documents ``shas`` names, by (file SHA-256, kind, start, end)."""
    previous = {entry["sha256"] for entry in (manifest or {}).get("documents", {}).values()}
    shas = shas & previous
    if live is None or manifest is None or not shas:
        return {}
    found: dict[tuple[str, str, int, int], np.ndarray] = {}
    wanted = sorted(shas)
    for kind, collection in zip(("passage", "sentence"), ref.collections(live)[:2]):
        for first in range(0, len(wanted), 500):  # only this build's documents, never the whole corpus in memory
            expression = f"doc_sha256 in {json.dumps(wanted[first : first + 500])}"
            for row in _query_all(client, collection, expression, ["doc_sha256", "start", "end", "dense"]):
                found[(row["doc_sha256"], kind, int(row["start"]), int(row["end"]))] = np.asarray(row["dense"], dtype=np.float32)
    return found


def _lay_previous_vectors(parts: list[DocumentPart], reusable: dict[tuple[str, str, int, int], np.ndarray], dimension: int) -> int:
    """Give each part whose every passage and sentence has a previous vector those vectors; returns how many parts."""
    reused = 0
    for part in parts:
        sha = part.document.sha256
        passages = [reusable.get((sha, "passage", p.start, p.end)) for p in part.passages]
        sentences = [reusable.get((sha, "sentence", int(s), int(e))) for s, e in part.sentences]
        if part.passages and all(v is not None for v in passages) and all(v is not None for v in sentences):
            part.passage_vectors = np.stack(passages).astype(np.float32)  # type: ignore[arg-type]
            part.sentence_vectors = np.stack(sentences).astype(np.float32) if sentences else np.zeros((0, dimension), np.float32)  # type: ignore[arg-type]
            reused += 1
    return reused


def _query_all(client: Any, collection: str, expression: str, fields: list[str]) -> Iterator[dict[str, Any]]:
    iterator = client.query_iterator(collection, batch_size=1000, filter=expression, output_fields=fields)
    try:
        while True:
            batch = iterator.next()
            if not batch:
                return
            yield from batch
    finally:
        iterator.close()


def _create_version(client: Any, ref: MilvusIndexRef, version: int, dimension: int, fresh: bool) -> None:
    """The version's three collections. ``fresh`` (a whole build, always on a new version number) refuses a version another
    build is writing; shard workers share the pending version and create what is missing."""
    builders = ((False, dimension), (True, dimension), None)
    if fresh and client.has_collection(ref.collections(version)[0]):
        raise IndexStoreError(f"another build is writing version {version} in Milvus at {ref.uri}", "wait for it to publish, then run coopqa index again")
    for name, shape in zip(ref.collections(version), builders):
        if client.has_collection(name):
            if not fresh:
                continue
            client.drop_collection(name)
        schema, index = _documents_schema(client) if shape is None else _schema(client, shape[1], with_passages=shape[0])
        try:
            client.create_collection(name, schema=schema, index_params=index)
        except Exception:
            if fresh or not client.has_collection(name):  # for a shard worker, another one created it meanwhile: fine
                raise IndexStoreError(f"another build is writing version {version} in Milvus at {ref.uri}", "wait, then run coopqa index again") from None


def _insert_parts(client: Any, ref: MilvusIndexRef, version: int, parts: list[DocumentPart], base: int) -> tuple[int, int]:
    """Insert the parts' passages, sentences and documents with ids from ``base``; returns the passage and sentence counts."""
    passage_rows, sentence_rows, document_rows = _rows(parts, base)
    for name, rows in zip(ref.collections(version), (passage_rows, sentence_rows, document_rows)):
        for first in range(0, len(rows), _BATCH):
            client.insert(name, rows[first : first + _BATCH])
        client.flush(name)
    return len(passage_rows), len(sentence_rows)


def _manifest(fingerprint: dict[str, Any], documents: dict[str, Any], passages: int, sentences: int) -> dict[str, Any]:
    manifest = dict(fingerprint)
    manifest.update(
        {
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "documents": documents,
            "counts": {"documents": len(documents), "passages": passages, "sentences": sentences},
            "versions": package_versions(RECORDED_PACKAGES),
            "dense": {"type": "milvus-flat"},
        }
    )
    return manifest


def _write_manifest(client: Any, ref: MilvusIndexRef, version: int, manifest: dict[str, Any]) -> None:
    _, _, documents_name = ref.collections(version)
    client.delete(documents_name, filter='kind == "manifest"')
    pieces = _pieces(json.dumps(manifest, ensure_ascii=False)) or [""]
    base = SHARD_SPAN // 2  # between a whole build's ids and shard 0's
    client.insert(documents_name, [_document_row(base + n, "manifest", "", n, piece) for n, piece in enumerate(pieces)])
    client.flush(documents_name)


def _pieces(text: str) -> list[str]:
    """``text`` cut into rows of at most :data:`_TEXT_PIECE` characters (none for an empty text)."""
    return [text[i : i + _TEXT_PIECE] for i in range(0, len(text), _TEXT_PIECE)]


def _bodies_by_doc(rows: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """Rows of the documents collection regrouped: each ``doc``'s bodies in ``piece`` order, as :func:`_pieces` cut them."""
    found: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        found.setdefault(row["doc"], []).append((int(row["piece"]), row["body"]))
    return {doc: [body for _, body in sorted(pieces)] for doc, pieces in found.items()}


def _document_row(row_id: int, kind: str, doc: str, piece: int, body: str) -> dict[str, Any]:
    return {"id": row_id, "kind": kind, "doc": doc, "piece": piece, "body": body, "unused": [0.0, 0.0]}


def _rows(parts: list[DocumentPart], base: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of the three collections, numbered from ``base`` (a shard's own range)."""
    passage_rows: list[dict[str, Any]] = []
    sentence_rows: list[dict[str, Any]] = []
    document_rows: list[dict[str, Any]] = []
    for part in parts:
        document = part.document
        first = base + len(passage_rows)
        for passage, vector in zip(part.passages, part.passage_vectors):
            row = _unit_row(base + len(passage_rows), document, passage.section, passage.start, passage.end, passage.embedding_text(), vector)
            row["text"] = passage.text
            passage_rows.append(row)
        numbers = range(first, base + len(passage_rows))
        for (start, end), vector, text in zip(part.sentences, part.sentence_vectors, sentence_lexical_texts(part)):
            overlapping = [n for n, p in zip(numbers, part.passages) if p.start < end and start < p.end]
            section = _section_at(document, int(start))
            row = _unit_row(base + len(sentence_rows), document, section, int(start), int(end), text, vector)
            row["passages"] = overlapping[:256]
            sentence_rows.append(row)
        body = json.dumps(
            {"title": document.title, "sha256": document.sha256, "sections": [[s.start, s.end, list(s.path)] for s in document.sections]}, ensure_ascii=False
        )
        if len(body.encode("utf-8")) > _VARCHAR_MAX:
            raise IndexStoreError(f"{document.doc_id}: its {len(document.sections)} section headings do not fit one Milvus row", "split the file")
        text = document.text
        pieces = [body, *_pieces(text)]
        for number, piece in enumerate(pieces):
            document_rows.append(_document_row(base + len(document_rows), "document", document.doc_id, number, piece))
    return passage_rows, sentence_rows, document_rows


def _section_at(document: Document, start: int) -> tuple[str, ...]:
    for section in document.sections:
        if section.start <= start < section.end:
            return tuple(section.path)
    return ()


def _unit_row(row_id: int, document: Document, section: Sequence[str], start: int, end: int, lexical_text: str, vector: np.ndarray) -> dict[str, Any]:
    return {
        "id": row_id,
        "doc": document.doc_id,
        "doc_sha256": document.sha256,
        "section": json.dumps(list(section), ensure_ascii=False),
        "start": start,
        "end": end,
        "terms": terms_of(lexical_text),
        "dense": np.asarray(vector, dtype=np.float32).tolist(),
    }


def load_version(client: Any, ref: MilvusIndexRef, version: int) -> None:
    """Make ``version``'s collections searchable (idempotent; a Milvus Lite file reopened starts with them released)."""
    for name in ref.collections(version):
        client.load_collection(name)


def _publish(client: Any, ref: MilvusIndexRef, version: int) -> None:
    """Point the alias at ``version``: the one atomic step of a build."""
    passages, _, _ = ref.collections(version)
    load_version(client, ref, version)
    if ref.name in client.list_aliases().get("aliases", []):
        client.alter_alias(passages, ref.name)
    else:
        client.create_alias(passages, ref.name)


def _drop_old_versions(client: Any, ref: MilvusIndexRef, live: int | None) -> None:
    """Keep the published version and the :data:`KEPT_VERSIONS` before it (an abandoned, never published one counts); drop older ones."""
    if live is None:
        return
    present = versions_present(client, ref)
    older = [version for version in present if version < live]
    for version in older[: max(0, len(older) - KEPT_VERSIONS)]:
        for name in ref.collections(version):
            if client.has_collection(name):
                client.drop_collection(name)


def read_documents(client: Any, ref: MilvusIndexRef, version: int, doc_ids: Sequence[str] | None = None) -> dict[str, Document]:
    """The documents of ``version`` (all, or those named), with their text and sections, for citing context."""
    _, _, collection = ref.collections(version)
    expression = 'kind == "document"'
    if doc_ids is not None:
        expression += " and doc in " + json.dumps(list(doc_ids), ensure_ascii=False)
    documents = {}
    for doc_id, bodies in _bodies_by_doc(_query_all(client, collection, expression, ["doc", "piece", "body"])).items():
        head = json.loads(bodies[0])
        text = "".join(bodies[1:])
        sections = tuple(Section(int(start), int(end), tuple(path)) for start, end, path in head["sections"])
        documents[doc_id] = Document(doc_id, text, head["sha256"], head["title"], sections)
    return documents
