"""Read a question against passages: windows of tokens in, answer spans with character offsets out.

This is the model-independent half of the extractive reader, shared by training
(``training/train_reader.py``) and serving, so that a span is decoded the same way
where it is measured and where it is shown. A passage longer than one window is
read in overlapping windows (stride), never cut: every character of every passage
is seen by at least one window, and a span is mapped back to the passage through
the tokenizer's offsets, so ``passage[start:end]`` is exactly what was read.

Scores are SQuAD 2.0 style: a span scores its start plus end logit, the null
answer scores the ``<s>`` token's two logits, and a passage "holds an answer" by
how far its best span beats its most confident null (``margin``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from coopqa.model import ReaderTokenizer

#: Questions are cut to this many tokens: a window must keep room for the passage.
MAX_QUESTION_TOKENS = 64
#: The longest answer read, in tokens (a short list or a title in « » fits).
MAX_ANSWER_TOKENS = 40
#: Start and end positions considered per window.
TOP_POSITIONS = 20


@dataclass(frozen=True)
class Window:
    """One stretch of one passage, tokenised behind the question."""

    pair: int  # which passage of the batch
    ids: list[int]
    context: np.ndarray  # bool per token: a passage token
    offsets: list[tuple[int, int]]  # character span of each token in the passage


@dataclass(frozen=True)
class Span:
    """The best answer read in one passage, with the evidence for and against it."""

    pair: int
    start: int
    end: int
    score: float  # start + end logit of the span
    null_score: float  # the lowest no-answer score over the passage's windows

    @property
    def margin(self) -> float:
        """How much more the reader believes the span than "no answer here"."""
        return self.score - self.null_score


def make_windows(tokenizer: ReaderTokenizer, question: str, passages: Sequence[str]) -> list[Window]:
    """Tokenise ``question`` with every passage, in overlapping windows (``tokenizer`` sets their size and stride).

    A question longer than :data:`MAX_QUESTION_TOKENS` is cut there, so that every window keeps room for the passage.
    """
    question_ids = tokenizer.question(question)
    if len(question_ids.ids) > MAX_QUESTION_TOKENS:
        cut = question_ids.offsets[MAX_QUESTION_TOKENS - 1][1]
        question = question[:cut]
    encodings = tokenizer.windows([(question, passage) for passage in passages])
    windows: list[Window] = []
    for pair, encoding in enumerate(encodings):
        for part in [encoding, *encoding.overflowing]:
            context = np.array([sequence == 1 for sequence in part.sequence_ids], dtype=bool)
            windows.append(Window(pair, list(part.ids), context, list(part.offsets)))
    return windows


def batch_arrays(windows: Sequence[Window], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Pad windows to one ``input_ids`` / ``attention_mask`` pair of int64 arrays."""
    width = max(len(window.ids) for window in windows)
    ids = np.full((len(windows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(windows), width), dtype=np.int64)
    for row, window in enumerate(windows):
        ids[row, : len(window.ids)] = window.ids
        mask[row, : len(window.ids)] = 1
    return ids, mask


def best_spans(
    windows: Sequence[Window],
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    passages: Sequence[str],
    within: Sequence[tuple[int, int] | None] | None = None,
    accept: Callable[[int, int, int], bool] | None = None,
) -> list[Span | None]:
    """The best span of each passage (``None`` when no window offers one), from the windows' logits.

    ``within[pair]``, when given, is a character range of that passage the span must lie in (retrieval's
    answering sentence, for instance); the no-answer score is still the whole passage's. ``accept(pair, start,
    end)``, when given, vetoes spans (character offsets in the passage): the best span it accepts is kept.
    """
    best: list[Span | None] = [None] * len(passages)
    nulls = [np.inf] * len(passages)
    for row, window in enumerate(windows):
        length = len(window.ids)
        starts, ends = start_logits[row, :length], end_logits[row, :length]
        null = float(starts[0] + ends[0])
        nulls[window.pair] = min(nulls[window.pair], null)
        allowed = within[window.pair] if within is not None else None
        text = passages[window.pair]
        for score, first, last in _window_candidates(window, starts, ends, allowed):
            current = best[window.pair]
            if current is not None and score <= current.score:
                break
            start, end = _trim(text, *_whole_words(text, window.offsets[first][0], window.offsets[last][1]))
            if end <= start:
                break
            if accept is not None and not accept(window.pair, start, end):
                continue
            best[window.pair] = Span(window.pair, start, end, score, 0.0)
            break
    return [None if span is None else Span(span.pair, span.start, span.end, span.score, nulls[span.pair]) for span in best]


def _window_candidates(window: Window, starts: np.ndarray, ends: np.ndarray, allowed: tuple[int, int] | None = None) -> Iterator[tuple[float, int, int]]:
    """Start + end pairs inside the passage tokens (and the ``allowed`` characters), end after start, at most MAX_ANSWER_TOKENS long, best first."""
    usable = window.context
    if allowed is not None:
        offsets = np.array(window.offsets, dtype=np.int64).reshape(-1, 2)
        usable = usable & (offsets[:, 0] >= allowed[0]) & (offsets[:, 1] <= allowed[1])
    inside = np.flatnonzero(usable)
    if inside.size == 0:
        return
    top = min(TOP_POSITIONS, inside.size)
    start_candidates = inside[np.argsort(-starts[inside])[:top]]
    end_candidates = inside[np.argsort(-ends[inside])[:top]]
    pairs = (end_candidates[None, :] >= start_candidates[:, None]) & (end_candidates[None, :] - start_candidates[:, None] < MAX_ANSWER_TOKENS)
    scores = np.where(pairs, starts[start_candidates][:, None] + ends[end_candidates][None, :], -np.inf)
    flat = np.argsort(-scores, axis=None, kind="stable")
    for index in flat[: int(pairs.sum())]:
        first_index, last_index = np.unravel_index(int(index), scores.shape)
        yield float(scores[first_index, last_index]), int(start_candidates[first_index]), int(end_candidates[last_index])


_EDGE = " \t\n\r\u00a0,;:.!?()[]\"'’«»-–—"


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span that starts or ends inside a word to the whole word.

    The tokenizer cuts words into pieces (« Euros » is « ▁Euro » + « s »), and the reader may end a
    span on a piece: a quote must not cut a word in two. A number's separators join its digits, so
    « 2.400.000 » is not cut at « 2.400 » either.
    """
    while 0 < start < len(text) and _joined(text, start):
        start -= 1
    while 0 < end < len(text) and _joined(text, end):
        end += 1
    return start, end


def _joined(text: str, at: int) -> bool:
    """Whether ``text[at - 1]`` and ``text[at]`` belong to one word (letters and digits, or a number's inner ``.``/``,``)."""
    before, after = text[at - 1], text[at]
    if before.isalnum() and after.isalnum():
        return True
    if after in ".," and before.isdigit():
        return at + 1 < len(text) and text[at + 1].isdigit()
    return before in ".," and after.isdigit() and at >= 2 and text[at - 2].isdigit()


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop the spaces and punctuation a token brings at either edge (« ▁2.400 » starts with its space).

    A closing bracket, quote or full stop that belongs to the span (« … » or « U.E. ») is kept when its
    opening partner is inside it.
    """
    while start < end and text[start] in _EDGE and not (text[start] in '«("' and _closes(text, start, end)):
        start += 1
    while end > start and text[end - 1] in _EDGE and not _keeps_end(text, start, end):
        end -= 1
    return start, end


def _closes(text: str, start: int, end: int) -> bool:
    partner = {"«": "»", "(": ")", '"': '"'}[text[start]]
    return partner in text[start + 1 : end]


def _keeps_end(text: str, start: int, end: int) -> bool:
    last = text[end - 1]
    opening = {"»": "«", ")": "(", '"': '"'}.get(last)
    if opening is not None:
        return opening in text[start : end - 1]
    # an abbreviation's final dot (« U.E. ») stays
    return last == "." and end - start >= 3 and text[end - 3] == "."
