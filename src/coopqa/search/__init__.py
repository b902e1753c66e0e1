"""Stage 4, search: a question in, its passages ranked and highlighted, and whether the corpus answers at all.

Retrieval (:mod:`~coopqa.search.retriever`): dense and BM25 candidates, score fusion
(:mod:`~coopqa.search.fusion`), the answering sentence, abstention; the question's language
(:mod:`~coopqa.search.language`), follow-ups (:mod:`~coopqa.search.conversation`), the years and
ordinals a question pins (:mod:`~coopqa.search.figures`) and the corpus's names in other languages
(:mod:`~coopqa.search.glossary`, data beside the corpus). The short answer is the next stage's
(:mod:`coopqa.reading`).
"""

from coopqa.search.conversation import MAX_HISTORY_TURNS, clean_history
from coopqa.search.language import CORPUS_LANGUAGE, RIGHT_TO_LEFT, LanguagePolicy, detect_language
from coopqa.search.questions import clean_question
from coopqa.search.retriever import Evidence, Hit, Ranking, Retriever

__all__ = [
    "CORPUS_LANGUAGE",
    "MAX_HISTORY_TURNS",
    "RIGHT_TO_LEFT",
    "Evidence",
    "Hit",
    "LanguagePolicy",
    "Ranking",
    "Retriever",
    "clean_history",
    "clean_question",
    "detect_language",
]
