"""Stage 4, search: question in, answer out: retrieval, score fusion, the reader (short answer, reranking),
answer typing and acronyms, languages and follow-ups, abstention and the JSON answer contract.

This is the one API the front ends (evaluation, ui, cli) call: ``Retriever.open(settings).ask(question)``.
"""

from coopqa.search.answer import answer_to_json, answer_to_text, section_label
from coopqa.search.conversation import MAX_HISTORY_TURNS, clean_history
from coopqa.search.language import RIGHT_TO_LEFT, LanguagePolicy, detect_language
from coopqa.search.reader import MAX_HIGHLIGHT_CHARS, Reader
from coopqa.search.retriever import NO_ANSWER, Answer, Hit, Retriever, ShortAnswer, clean_question

__all__ = [
    "MAX_HIGHLIGHT_CHARS",
    "MAX_HISTORY_TURNS",
    "NO_ANSWER",
    "RIGHT_TO_LEFT",
    "Answer",
    "Hit",
    "LanguagePolicy",
    "Reader",
    "Retriever",
    "ShortAnswer",
    "answer_to_json",
    "answer_to_text",
    "clean_history",
    "clean_question",
    "detect_language",
    "section_label",
]
