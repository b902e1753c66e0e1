"""The quote shown around a short answer: its sentence, cut to whole clauses when longer than a quote should be.

A highlight of a whole long sentence buries the answer; one cut at arbitrary characters misquotes
the source. Cutting at the sentence's own clause marks keeps the quote short and still verbatim.
"""

from __future__ import annotations

#: The highlight around a short answer stays quotable: at most this many characters.
MAX_HIGHLIGHT_CHARS = 300
_CLAUSE_ENDS = ",;:—–()«»"


def clause_around(text: str, start: int, end: int, limit: int = MAX_HIGHLIGHT_CHARS) -> tuple[int, int]:
    """The widest run of whole clauses of ``text`` around ``text[start:end]`` that fits in ``limit`` characters.

    ``text`` is the answering sentence; a sentence that fits is kept whole. A longer one
    is cut at its clause marks (commas, semicolons, colons, dashes, brackets, guillemets),
    growing outwards from the answer on whichever side keeps it shortest, and, when even the
    answer's own clause is too long, at the spaces nearest to ``limit``.
    """
    if len(text) <= limit:
        return 0, len(text)
    marks = [index + 1 for index, character in enumerate(text) if character in _CLAUSE_ENDS]
    lefts = sorted({0, *(mark for mark in marks if mark <= start)}, reverse=True)
    rights = sorted({len(text), *(mark for mark in marks if mark >= end)})
    left, right = lefts.pop(0), rights.pop(0)
    if right - left > limit:
        return _words_around(text, start, end, limit)
    while lefts or rights:
        options = [(lefts[0], right)] if lefts else []
        options += [(left, rights[0])] if rights else []
        fitting = [option for option in options if option[1] - option[0] <= limit]
        if not fitting:
            break
        left, right = min(fitting, key=lambda option: option[1] - option[0])
        if lefts and lefts[0] == left:
            lefts.pop(0)
        if rights and rights[0] == right:
            rights.pop(0)
    while left < right and text[left].isspace():
        left += 1
    return left, right


def _words_around(text: str, start: int, end: int, limit: int) -> tuple[int, int]:
    spare = max(0, limit - (end - start))
    left = max(0, start - spare // 2)
    right = min(len(text), end + (limit - (end - left)))
    left = max(0, min(left, right - limit))
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    return left, right
