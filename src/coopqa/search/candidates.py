"""What retrieval and reading read of a question's candidate passages, whatever store holds the index.

Retrieval ranks and highlights candidates, and reading reads them, through a :class:`CandidateView`
carried by the question's :class:`~coopqa.search.retriever.Evidence`, never through the loaded index
itself. With the FAISS files store the view reads the memory-mapped index (:class:`LoadedIndexView`);
a store that serves from an engine (Milvus) gives a view over the rows it fetched for that question,
so an app replica needs no index of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from coopqa.documents import Passage
from coopqa.index import IndexData


class CandidateView(Protocol):
    """Passage and sentence data by passage number and sentence number."""

    def passage(self, number: int) -> Passage:
        """The passage ``number``."""
        ...

    def sentences_of(self, number: int) -> Sequence[tuple[int, int, int]]:
        """``(sentence number, start, end)`` of the sentences overlapping passage ``number``, clipped to it (document offsets)."""
        ...

    def sentence_vectors(self, ids: np.ndarray) -> np.ndarray:
        """The sentences' vectors, one row per id."""
        ...

    def sentence_lexical(self, ids: np.ndarray) -> np.ndarray:
        """The sentences' BM25 scores for this question (0 for a sentence the search did not score)."""
        ...


@dataclass(frozen=True)
class LoadedIndexView:
    """The view over an index loaded in this process (the FAISS files store), for one question."""

    data: IndexData
    #: The question's BM25 score of every sentence of the index.
    sentence_lexical_all: np.ndarray

    def passage(self, number: int) -> Passage:
        return self.data.passages[number]

    def sentences_of(self, number: int) -> Sequence[tuple[int, int, int]]:
        return list(self.data.sentences_of(number))

    def sentence_vectors(self, ids: np.ndarray) -> np.ndarray:
        return self.data.sentence_vectors[ids]

    def sentence_lexical(self, ids: np.ndarray) -> np.ndarray:
        return self.sentence_lexical_all[ids]
