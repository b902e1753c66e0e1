"""Where each sentence lies in a passage's embedding text, so that its vector is pooled from the passage's own pass.

Without it, the build encodes every text twice: each passage, then each sentence again on its own. With
``sentence_vectors = "late"`` (late chunking, Günther et al. 2024), a sentence's vector is the mean of the
token states of the passage that holds most of it, read once (:meth:`coopqa.model.Embedder.encode_passages_with_spans`).
This module only maps offsets: a sentence's document span to a span in that passage's
:meth:`~coopqa.documents.Passage.embedding_text` (the section path, a newline, then the passage's text).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coopqa.documents import Passage


@dataclass(frozen=True)
class SentencePlaces:
    """Per passage, the spans to pool in its embedding text; per sentence, ``(passage, position)`` in those lists."""

    spans: list[list[tuple[int, int]]]
    places: list[tuple[int, int] | None]


def sentence_places(passages: Sequence[Passage], sentences: np.ndarray) -> SentencePlaces:
    """Assign each sentence (document offsets ``(start, end)``) to the passage overlapping it most, the first on a tie.

    ``passages`` are one document's, in order; a sentence that no passage overlaps gets ``None`` (encode it on its
    own). A sentence longer than its passage is pooled over the part the passage holds.
    """
    starts = [passage.start for passage in passages]
    spans: list[list[tuple[int, int]]] = [[] for _ in passages]
    places: list[tuple[int, int] | None] = []
    for start, end in np.asarray(sentences, dtype=np.int64).reshape(-1, 2).tolist():
        first = max(bisect.bisect_right(starts, start) - 1, 0)
        best, best_overlap = -1, 0
        for number in range(first, len(passages)):
            passage = passages[number]
            if passage.start >= end:
                break
            overlap = min(end, passage.end) - max(start, passage.start)
            if overlap > best_overlap:
                best, best_overlap = number, overlap
        if best < 0:
            places.append(None)
            continue
        passage = passages[best]
        heading = " > ".join(passage.section)
        shift = len(heading) + 1 if heading else 0
        places.append((best, len(spans[best])))
        spans[best].append((shift + max(start, passage.start) - passage.start, shift + min(end, passage.end) - passage.start))
    return SentencePlaces(spans, places)
