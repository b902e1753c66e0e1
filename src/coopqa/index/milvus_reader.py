"""Reading a published Milvus index: what one question needs of it, fetched from the engine per question.

An app replica holds a client and the manifest, not the index: dense and BM25 candidates, their passages,
their sentences and the cited documents come from the engine at each question
(:mod:`coopqa.search.milvus_candidates` asks for them). :meth:`MilvusIndex.refreshed` follows the alias, so
replicas move to a newly published version between two questions; a version is kept after it stops being
published (:data:`coopqa.index.milvus_store.KEPT_VERSIONS`), so a question in flight finishes on it.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coopqa.config import Settings
from coopqa.documents import Document, Passage
from coopqa.errors import IndexStoreError
from coopqa.index.milvus_store import (
    EMPTY_TERMS,
    MilvusIndexRef,
    _first_line,
    connect,
    milvus_ref,
    published_version,
    read_documents,
    read_milvus_manifest,
)

_PASSAGE_FIELDS = ["id", "doc", "section", "start", "end", "text", "dense"]
_SENTENCE_FIELDS = ["id", "start", "end", "passages", "dense"]
#: What a search returns: ids and scores. Without it Milvus Lite returns every field, sparse vectors included, and
#: decoding them took a quarter of a warm question's time.
_IDS_ONLY = ["id"]


#: Passages (and their sentence lists) a replica keeps per version, least recently used out first.
CACHED_PASSAGES = 20_000


def _remember(cache: OrderedDict[int, Any], key: int, value: Any) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > CACHED_PASSAGES:
        cache.popitem(last=False)


@dataclass(frozen=True)
class SentenceRow:
    number: int
    start: int
    end: int
    passages: tuple[int, ...]
    vector: np.ndarray


class _Documents(Mapping[str, Document]):
    """The version's documents, fetched when first cited and kept (a chat cites the same few)."""

    def __init__(self, index: MilvusIndex) -> None:
        self._index = index
        self._cache: dict[str, Document] = {}

    def __getitem__(self, doc_id: str) -> Document:
        if doc_id not in self._cache:
            self._cache.update(self._index.call(lambda: read_documents(self._index.client, self._index.ref, self._index.version, [doc_id])))
        return self._cache[doc_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.manifest["documents"])

    def __len__(self) -> int:
        return len(self._index.manifest["documents"])


@dataclass
class MilvusIndex:
    """The published version of a Milvus index, read through one client."""

    ref: MilvusIndexRef
    client: Any
    version: int
    manifest: dict[str, Any]
    documents: Mapping[str, Document] = field(init=False)
    #: Published versions found unusable (other settings): :meth:`refreshed` skips them instead of reading them again
    #: (a newer publish is read: versions only grow).
    refused: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.documents = _Documents(self)
        passages, sentences, _ = self.ref.collections(self.version)
        self._passages, self._sentences = passages, sentences
        # A version never changes once published, so rows fetched for one question serve the next ones: a chat asks
        # about the same few passages. Bounded, least recently used first out.
        self._passage_rows: OrderedDict[int, tuple[Passage, np.ndarray]] = OrderedDict()
        self._sentence_rows: OrderedDict[int, list[SentenceRow]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings) -> MilvusIndex | None:
        """The published version, or ``None`` when nothing is published yet."""
        ref = milvus_ref(settings)
        client = connect(ref)
        version = published_version(client, ref)
        if version is None:
            client.close()
            return None
        return cls(ref, client, version, read_milvus_manifest(client, ref, version))

    def refreshed(self) -> MilvusIndex | None:
        """A reader over the version the alias names now, or ``None`` when it is still this one (one engine call)."""
        version = published_version(self.client, self.ref)
        with self._lock:
            if version is None or version == self.version or version in self.refused:
                return None
        return MilvusIndex(self.ref, self.client, version, read_milvus_manifest(self.client, self.ref, version), refused=self.refused)

    def refuse(self, version: int) -> bool:
        """Remember that ``version`` cannot be served; ``True`` the first time (to report it once, whatever the threads)."""
        with self._lock:
            first = version not in self.refused
            self.refused.add(version)
            return first

    def call(self, action: Any) -> Any:
        """Run one engine call; its failure is one line naming the URI (the question fails, the app goes on)."""
        try:
            return action()
        except IndexStoreError:
            raise
        except Exception as error:
            raise IndexStoreError(f"the Milvus engine at {self.ref.uri} did not answer: {_first_line(error)}", "check that it runs") from None

    @property
    def passage_count(self) -> int:
        return int(self.manifest["counts"]["passages"])

    def dense_passages(self, vector: np.ndarray, limit: int) -> dict[int, float]:
        """Passage number → cosine of the ``limit`` closest passages."""
        query = [vector.astype(np.float32).tolist()]
        found = self.call(lambda: self.client.search(self._passages, data=query, anns_field="dense", limit=limit, output_fields=_IDS_ONLY))
        return {int(hit["id"]): float(hit["distance"]) for hit in found[0]}

    def lexical(self, terms: str, limit: int, sentences: bool = False) -> dict[int, float]:
        """Number → BM25 score of the ``limit`` best passages (or sentences) for a question's ``terms`` (:func:`terms_of`)."""
        if terms == EMPTY_TERMS:
            return {}
        collection = self._sentences if sentences else self._passages
        bm25 = {"metric_type": "BM25"}
        found = self.call(lambda: self.client.search(collection, data=[terms], anns_field="sparse", limit=limit, search_params=bm25, output_fields=_IDS_ONLY))
        # Milvus Lite reports BM25 as a distance (the score negated), a server as the score: both are ordered best first.
        return {int(hit["id"]): abs(float(hit["distance"])) for hit in found[0]}

    def engine_fused(self, vector: np.ndarray, terms: str, limit: int, ranker: str) -> dict[int, float]:
        """Passage number → the engine's own fused score (``rrf`` or ``weighted``) over its dense and BM25 searches."""
        from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

        requests = [AnnSearchRequest(data=[vector.astype(np.float32).tolist()], anns_field="dense", param={"metric_type": "IP"}, limit=limit)]
        if terms != EMPTY_TERMS:
            requests.append(AnnSearchRequest(data=[terms], anns_field="sparse", param={"metric_type": "BM25"}, limit=limit))
        chosen = RRFRanker(60) if ranker == "rrf" else WeightedRanker(*([0.5] * len(requests)))
        found = self.call(lambda: self.client.hybrid_search(self._passages, requests, ranker=chosen, limit=limit, output_fields=_IDS_ONLY))
        return {int(hit["id"]): float(hit["distance"]) for hit in found[0]}

    def passages(self, numbers: Sequence[int]) -> tuple[dict[int, Passage], dict[int, np.ndarray]]:
        """The passages ``numbers`` and their vectors (fetched once per version, then from the cache)."""
        missing = [int(n) for n in numbers if int(n) not in self._passage_rows]
        rows: list[dict[str, Any]] = []
        if missing:
            expression = f"id in {json.dumps(missing)}"
            rows = self.call(lambda: self.client.query(self._passages, filter=expression, output_fields=_PASSAGE_FIELDS))
        fetched = {}
        if missing:
            for r in rows:
                passage = Passage(r["doc"], tuple(json.loads(r["section"])), int(r["start"]), int(r["end"]), r["text"])
                fetched[int(r["id"])] = (passage, np.asarray(r["dense"], dtype=np.float32))
        with self._lock:  # read and refresh in one step: another thread may evict meanwhile
            found = {}
            for number in map(int, numbers):
                row = fetched.get(number) or self._passage_rows.get(number)
                if row is not None:
                    _remember(self._passage_rows, number, row)
                    found[number] = row
        return {n: row[0] for n, row in found.items()}, {n: row[1] for n, row in found.items()}

    def sentences_of(self, numbers: Sequence[int]) -> dict[int, list[SentenceRow]]:
        """Passage number → the sentences overlapping it, with their vectors (fetched once per version, then cached)."""
        missing = [int(n) for n in numbers if int(n) not in self._sentence_rows]
        if missing:
            expression = f"array_contains_any(passages, {json.dumps(missing)})"
            rows = self.call(lambda: self.client.query(self._sentences, filter=expression, output_fields=_SENTENCE_FIELDS))
            fetched: dict[int, list[SentenceRow]] = {number: [] for number in missing}
            for r in rows:
                row = SentenceRow(int(r["id"]), int(r["start"]), int(r["end"]), tuple(int(p) for p in r["passages"]), np.asarray(r["dense"], dtype=np.float32))
                for number in row.passages:
                    if number in fetched:
                        fetched[number].append(row)
        else:
            fetched = {}
        with self._lock:  # read and refresh in one step: another thread may evict meanwhile
            result = {}
            for number in map(int, numbers):
                sentences = fetched[number] if number in fetched else self._sentence_rows.get(number, [])
                _remember(self._sentence_rows, number, sentences)
                result[number] = sentences
        return result
