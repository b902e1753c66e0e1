"""The pipeline: :class:`Assistant` composes search (:mod:`coopqa.search`) and reading (:mod:`coopqa.reading`).

The front ends (:mod:`coopqa.evaluation`, :mod:`coopqa.ui`, :mod:`coopqa.cli`) call only this package:
``Assistant.open(settings).ask(question, history=…)``, and present its :class:`Answer` with
:func:`answer_to_json` (the JSON contract) or :func:`answer_to_text`. An import-linter contract
(``pyproject.toml``) keeps them from reaching past it.
"""

from coopqa.pipeline.answer import NO_ANSWER, answer_to_json, answer_to_text, section_label
from coopqa.pipeline.assistant import Answer, Assistant, open_milvus
from coopqa.reading.highlight import MAX_HIGHLIGHT_CHARS
from coopqa.reading.reader import Reader
from coopqa.reading.short_answer import ShortAnswer
from coopqa.search.conversation import MAX_HISTORY_TURNS, clean_history
from coopqa.search.language import CORPUS_LANGUAGE, RIGHT_TO_LEFT
from coopqa.search.questions import clean_question
from coopqa.search.retriever import Hit

__all__ = [
    "CORPUS_LANGUAGE",
    "MAX_HIGHLIGHT_CHARS",
    "MAX_HISTORY_TURNS",
    "NO_ANSWER",
    "RIGHT_TO_LEFT",
    "Answer",
    "Assistant",
    "Hit",
    "Reader",
    "ShortAnswer",
    "answer_to_json",
    "answer_to_text",
    "clean_history",
    "clean_question",
    "open_milvus",
    "section_label",
]
