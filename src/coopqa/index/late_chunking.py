"""Where each sentence lies in a passage's embedding text, so that its vector is pooled from the passage's own pass.

Without it, the build encodes every text twice: each passage, then each sentence again on its own. With
``sentence_vectors = "late"`` (late chunking, Günther et al. 2024), a sentence's vector is the mean of the
token states of the first passage that holds it whole, read once (:meth:`coopqa.model.Embedder.encode_passages_with_spans`).
This module only maps offsets: a sentence's document span to a span in that passage's
:meth:`~coopqa.documents.Passage.embedding_text` (the section path, a newline, then the passage's text).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coopqa.documents import Passage

#: Bumped whenever the pooling rule changes, so that indexes built with the old one are embedded again.
LATE_CHUNKING_VERSION = 1


@dataclass(frozen=True)
class SentencePlaces:
    """Per passage, the spans to pool in its embedding text; per sentence, ``(passage, position)`` in those lists."""

    spans: list[list[tuple[int, int]]]
    places: list[tuple[int, int] | None]


def sentence_places(passages: Sequence[Passage], sentences: np.ndarray) -> SentencePlaces:
    """Assign each sentence (document offsets ``(start, end)``) to the first passage that holds it whole.

    ``passages`` are one document's, in order (consecutive passages overlap by ``chunk_overlap``). A sentence that
    no passage holds whole (one the splitter cut, or none at all) gets ``None``: it is encoded on its own, as
    without late chunking.
    """
    starts = [passage.start for passage in passages]
    shifts = [len(passage.embedding_text()) - len(passage.text) for passage in passages]  # the section path and its newline come first
    spans: list[list[tuple[int, int]]] = [[] for _ in passages]
    places: list[tuple[int, int] | None] = []
    for start, end in np.asarray(sentences, dtype=np.int64).reshape(-1, 2).tolist():
        number = bisect.bisect_right(starts, start) - 1
        while number > 0 and passages[number - 1].end >= end:  # an earlier passage that also holds it (an overlap)
            number -= 1
        if number < 0 or passages[number].end < end:
            places.append(None)
            continue
        passage, shift = passages[number], shifts[number]
        places.append((number, len(spans[number])))
        spans[number].append((shift + start - passage.start, shift + end - passage.start))
    return SentencePlaces(spans, places)
