"""What a question must be before it is searched: text, with words, not too long.

Every front end passes the user's text through :func:`clean_question` first, so an empty, huge or
garbled question gets one clear :class:`~coopqa.errors.InvalidQuestionError` (with a ``reason`` code
the API returns), never a traceback from deeper down.
"""

from __future__ import annotations

import re
import unicodedata

from coopqa.errors import InvalidQuestionError


def clean_question(question: object, max_chars: int) -> str:
    """The question as it will be searched, or :class:`InvalidQuestionError`."""
    if not isinstance(question, str):
        raise InvalidQuestionError(f"the question must be text, got {type(question).__name__}", reason="not_text")
    cleaned = " ".join(unicodedata.normalize("NFC", question).split())
    cleaned = "".join(ch for ch in cleaned if unicodedata.category(ch) != "Cc")
    if not cleaned:
        raise InvalidQuestionError("the question is empty", "type a question in French", reason="empty")
    if len(cleaned) > max_chars:
        raise InvalidQuestionError(
            f"the question is {len(cleaned)} characters long, over the {max_chars}-character limit",
            "shorten it (or raise max_question_chars)",
            reason="too_long",
        )
    if any("\ud800" <= ch <= "\udfff" for ch in cleaned):  # JSON may escape a lone UTF-16 half
        raise InvalidQuestionError("the question holds an unpaired surrogate character", "send valid UTF-8 text", reason="bad_characters")
    if not re.search(r"\w", cleaned):
        raise InvalidQuestionError("the question has no words", "type a question in French", reason="no_words")
    return cleaned
