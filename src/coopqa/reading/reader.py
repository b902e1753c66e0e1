"""The reader stage: read the question against the top passages, extract the short answer, rerank, abstain.

Retrieval scores a passage by similarity; only reading tells a passage that *holds*
the fact from its neighbour that merely talks about the same subject. The reader
reads the ``Settings.reader_passages`` best fused passages, and its span margin (how much
more it believes its best span than "no answer here", see :mod:`coopqa.reading.spans`)
decides three things: the passage holding the best-read answer goes first, that
span is the short answer, and when no margin clears ``Settings.reader_threshold``
the question is abstained even though a passage is on topic.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from coopqa.config import Settings
from coopqa.errors import ModelError
from coopqa.model import ReaderSession, open_reader, shipped_confidence_file
from coopqa.reading.confidence import Calibrator
from coopqa.reading.spans import Span, Window, batch_arrays, best_spans, make_windows


@dataclass(frozen=True)
class Reading:
    """What the reader found in each passage it read, in the order given (``None``: no span)."""

    spans: tuple[Span | None, ...]

    def best(self) -> Span | None:
        found = [span for span in self.spans if span is not None]
        return max(found, key=lambda span: span.margin) if found else None


@dataclass(frozen=True)
class Logits:
    """What the reader computed for one question and its passages: spans can be chosen from it more than once."""

    windows: list[Window]
    start: np.ndarray
    end: np.ndarray
    passages: Sequence[str]

    def peaks(self, pair: int) -> tuple[float, float]:
        """How sure the reader is of where an answer starts and ends in passage ``pair``: the highest softmax probability
        of a passage token as start, and as end, over its windows (near 1: one clear span; low: spread over many)."""
        starts = ends = 0.0
        for row, window in enumerate(self.windows):
            if window.pair != pair:
                continue
            length = len(window.ids)
            for logits, best in ((self.start[row, :length], "start"), (self.end[row, :length], "end")):
                shifted = np.exp(logits - logits.max())
                peak = float((shifted / shifted.sum())[window.context].max()) if window.context.any() else 0.0
                if best == "start":
                    starts = max(starts, peak)
                else:
                    ends = max(ends, peak)
        return starts, ends

    def reading(self, within: Sequence[tuple[int, int] | None] | None = None, accept: Callable[[int, int, int], bool] | None = None) -> Reading:
        """The best span of each passage, under :meth:`Reader.read`'s ``within`` and ``accept``."""
        return Reading(tuple(best_spans(self.windows, self.start, self.end, self.passages, within, accept)))

    def runner_up(self, best: Span, accept: Callable[[int, int, int], bool] | None = None) -> Span | None:
        """The reader's second choice in ``best``'s passage: its best span not overlapping ``best`` (and ``accept``-ed)."""

        def apart(pair: int, start: int, end: int) -> bool:
            return pair == best.pair and (end <= best.start or start >= best.end) and (accept is None or accept(pair, start, end))

        return self.reading(accept=apart).spans[best.pair]


class Reader:
    """Reads passages with the exported reader; one batch of windows per question."""

    def __init__(self, session: ReaderSession, calibrator: Calibrator | None = None) -> None:
        self.session = session
        #: Turns an answer's signals into the probability that it is right (:mod:`coopqa.reading.confidence`).
        self.calibrator = calibrator

    @classmethod
    def for_settings(cls, settings: Settings, progress: bool = True) -> Reader | None:
        """The reader the settings ask for (``None`` when ``reader = off``), exported first if needed, with its calibrator."""
        if settings.reader != "on":
            return None
        session = open_reader(settings, progress=progress)
        return cls(session, shipped_calibrator(session.weights_digest))

    def read(
        self,
        question: str,
        passages: Sequence[str],
        within: Sequence[tuple[int, int] | None] | None = None,
        accept: Callable[[int, int, int], bool] | None = None,
    ) -> Reading:
        """The best span of each passage; ``within[i]``: a character range of passage ``i`` its span must lie in;
        ``accept(i, start, end)``: whether a span of passage ``i`` may be the answer (the best accepted one is kept)."""
        return self.logits(question, passages).reading(within, accept)

    def logits(self, question: str, passages: Sequence[str]) -> Logits:
        """Run the model once over every window of ``passages`` behind ``question``."""
        if not passages:
            return Logits([], np.zeros((0, 0)), np.zeros((0, 0)), passages)
        windows = make_windows(self.session.tokenizer, question, passages)
        ids, mask = batch_arrays(windows, self.session.pad_id)
        start_logits, end_logits = self.session.logits(ids, mask)
        return Logits(windows, start_logits, end_logits, passages)


def shipped_calibrator(weights_digest: str) -> Calibrator | None:
    """The shipped calibrator when it was fitted for these reader weights; otherwise ``None`` (never confident), said once."""
    path = shipped_confidence_file()
    if not path.is_file():
        return None
    try:
        calibrator = Calibrator.load(path)
    except ModelError as error:
        print(f"coopqa: {error.one_line()}; short answers are shown as unverified", file=sys.stderr)
        return None
    if calibrator.reader_sha256 != weights_digest:
        print(f"coopqa: {path} was fitted for other reader weights; short answers are shown as unverified", file=sys.stderr)
        return None
    return calibrator
