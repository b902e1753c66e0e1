"""Stage 4, search: question in, answer out: retrieval, score fusion, the reader (short answer, reranking), abstention and the JSON answer contract.

This is the one API the front ends (evaluation, ui, cli) call: ``Retriever.open(settings).ask(question)``.
"""

from coopqa.search.answer import answer_to_json, answer_to_text, section_label
from coopqa.search.reader import MAX_HIGHLIGHT_CHARS, Reader
from coopqa.search.retriever import NO_ANSWER, Answer, Hit, Retriever, ShortAnswer, clean_question

__all__ = [
    "MAX_HIGHLIGHT_CHARS",
    "NO_ANSWER",
    "Answer",
    "Hit",
    "Reader",
    "Retriever",
    "ShortAnswer",
    "answer_to_json",
    "answer_to_text",
    "clean_question",
    "section_label",
]
