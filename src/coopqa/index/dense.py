"""The FAISS passage index: its type chosen by corpus size, built, read back, searched.

The type follows the measurements in docs/scaling.md §3.2 (realistic e5-small
vectors, one query at a time):

* below 50,000 passages, ``IndexFlatIP``: exact, ≤ 3 ms, nothing to tune;
* up to 500,000, ``IndexHNSWFlat`` M 32, efConstruction 200, efSearch 256:
  0.6 ms and recall@100 0.93 at 100k, where exact search takes 6 ms;
* above, ``IndexIVFScalarQuantizer`` (8 bits a dimension), nlist ≈ 4·√N,
  nprobe ≈ nlist / 32: recall@10 0.95 in 0.9 ms at 1M, a quarter of Flat's
  memory. HNSW stalled at recall@10 0.81 there.

Only candidate *selection* is approximate: retrieval scores every candidate
with the exact vectors of ``passage_vectors.npy``, never with the index's own
(lossy, for SQ8) copies. The type and its parameters are recorded in the
manifest (``"dense"``), so a reader applies the search parameters the build chose.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Search parameters a manifest must give for each index type.
DENSE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "flat": (),
    "hnsw": ("M", "efConstruction", "efSearch"),
    "ivf-sq8": ("nlist", "nprobe"),
}
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
#: coopqa asks for 100 candidates; efSearch below that would cap the list.
HNSW_EF_SEARCH = 256
#: k-means wants about 39 training points a centroid; FAISS warns below that.
IVF_POINTS_PER_LIST = 39
IVF_TRAINING_PER_LIST = 40
#: nlist / 32 probes a single list in a small IVF, which loses neighbours just across a boundary.
IVF_MIN_NPROBE = 8


@dataclass(frozen=True)
class DenseThresholds:
    """Passage counts where the index type changes; tests pass tiny ones to build HNSW and IVF quickly."""

    flat_below: int = 50_000
    hnsw_below: int = 500_000


DEFAULT_THRESHOLDS = DenseThresholds()


def choose_dense_index(passages: int, thresholds: DenseThresholds = DEFAULT_THRESHOLDS) -> dict[str, Any]:
    """The index type and parameters for ``passages`` vectors, as recorded in the manifest."""
    if passages < thresholds.flat_below:
        return {"type": "flat"}
    if passages < thresholds.hnsw_below:
        return {"type": "hnsw", "M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}
    nlist = max(1, min(round(4 * math.sqrt(passages)), passages // IVF_POINTS_PER_LIST))
    # nlist / 32, rounded up to a multiple of 8: at 1M that is the measured 128 (recall@10 0.950), not 125.
    nprobe = min(nlist, max(IVF_MIN_NPROBE, math.ceil(nlist / 32 / 8) * 8))
    return {"type": "ivf-sq8", "nlist": nlist, "nprobe": nprobe}


def build_dense_index(vectors: np.ndarray, params: dict[str, Any]) -> Any:
    """A FAISS inner-product index over ``vectors`` (unit length, float32), of the type ``params`` names."""
    import faiss

    dimension = vectors.shape[1]
    kind = params["type"]
    index: Any
    if kind == "flat":
        index = faiss.IndexFlatIP(dimension)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, params["M"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params["efConstruction"]
    elif kind == "ivf-sq8":
        quantizer = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, params["nlist"], faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        index.train(_training_sample(vectors, params["nlist"]))
    else:
        raise ValueError(f"unknown dense index type {kind!r}")
    index.add(vectors)
    set_search_parameters(index, params)
    return index


def _training_sample(vectors: np.ndarray, nlist: int) -> np.ndarray:
    """40 vectors a list, drawn with a fixed seed so that a rebuild of the same corpus gives the same index."""
    size = min(len(vectors), IVF_TRAINING_PER_LIST * nlist)
    rows = np.sort(np.random.default_rng(0).choice(len(vectors), size, replace=False))
    return np.ascontiguousarray(vectors[rows])


def set_search_parameters(index: Any, params: dict[str, Any]) -> None:
    """Apply the manifest's search-time settings: FAISS does not keep efSearch or nprobe in the file."""
    kind = params["type"]
    if kind == "hnsw":
        index.hnsw.efSearch = params["efSearch"]
    elif kind == "ivf-sq8":
        index.nprobe = params["nprobe"]


def check_dense_params(params: object) -> str | None:
    """Why ``params`` (a manifest's ``"dense"``) is unusable, or ``None``."""
    if not isinstance(params, dict) or params.get("type") not in DENSE_PARAMETERS:
        return "'dense' does not name an index type"
    for name in DENSE_PARAMETERS[params["type"]]:
        value = params.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return f"'dense.{name}' is not a positive whole number"
    return None


def read_dense_index(path: Path, params: dict[str, Any]) -> DenseIndex:
    """Read ``dense.faiss`` memory-mapped where FAISS can (Flat codes), so replicas on a host share the pages."""
    import faiss

    index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    set_search_parameters(index, params)
    return DenseIndex(index, params)


class DenseIndex:
    """A FAISS index that searches one question on one OpenMP thread.

    FAISS does not parallelise a single query: with 2 threads it was never
    faster, and 3–5× slower on a loaded machine (one thread waits for the
    other to be scheduled; docs/scaling.md §3.2). The OpenMP thread count is
    per calling thread, so it is set around each one-row search and restored:
    builds, batch searches and other threads keep theirs.
    """

    def __init__(self, index: Any, params: dict[str, Any]) -> None:
        self.index = index
        self.params = params

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def d(self) -> int:
        return int(self.index.d)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, ids)`` of the ``k`` nearest passages of each query row, ids ``-1`` when fewer are found."""
        if len(queries) != 1:
            return self.index.search(queries, k)
        with omp_threads(1):
            return self.index.search(queries, k)


@contextmanager
def omp_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` FAISS OpenMP threads in this thread, then restore the previous count."""
    import faiss

    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)
