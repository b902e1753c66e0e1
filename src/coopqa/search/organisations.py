"""The organisations an English or Arabic question names, in the form the French corpus writes them.

Why: English and Arabic questions are ranked by meaning alone (French BM25 cannot read them), and
multilingual-e5 confuses the corpus's organisations across languages: « متى تأسست منظمة العمل
الدولية؟ » (when was the ILO founded?) first finds « Fondée en 1951, l'OIM… ». The organisations the
corpus is about are few and have fixed names, so a question's « ILO » or « منظمة العمل الدولية » is
read as the corpus's « OIT » and, like a year or an ordinal (:mod:`coopqa.search.figures`), brings the
passage that names it first among the best few. A bilingual glossary is the oldest tool of
cross-language retrieval; this one holds only the organisations of the corpus's subject.
"""

from __future__ import annotations

import re
from functools import lru_cache

from coopqa.search.answer_type import fold

#: Per organisation: how an English question, an Arabic question and the French corpus name it (folded text).
_NAMES: dict[str, tuple[str, str, str]] = {
    "OIT": (
        r"\bilo\b|international labou?r organi[sz]ation",
        r"منظمة العمل الدولية",
        r"\boit\b|organisation internationale du travail",
    ),
    "OIM": (
        r"\biom\b|international organi[sz]ation for migration",
        r"المنظمة الدولية للهجرة",
        r"\boim\b|organisation internationale pour les migrations",
    ),
    "HCR": (
        r"\bunhcr\b|high commissioner for refugees|un refugee agency",
        r"المفوضية السامية|مفوضية الأمم المتحدة لشؤون اللاجئين",
        r"\bu?n?hcr\b|haut[- ]commissariat",
    ),
    "UA": (
        r"\bau\b|african union",
        r"الاتحاد (الإفريقي|الأفريقي|الافريقي)",
        r"\bua\b|union africaine",
    ),
    "LEA": (
        r"arab league|league of arab states",
        r"جامعة الدول العربية",
        r"ligue des etats arabes|ligue arabe",
    ),
}
_QUESTION_PATTERNS = {
    "en": {name: re.compile(forms[0]) for name, forms in _NAMES.items()},
    "ar": {name: re.compile(forms[1]) for name, forms in _NAMES.items()},
}
_CORPUS_PATTERNS = {name: re.compile(forms[2]) for name, forms in _NAMES.items()}


def asked_organisations(question: str, language: str) -> frozenset[str]:
    """The organisations an English or Arabic ``question`` names, as ``"org:OIT"``; none for other languages."""
    patterns = _QUESTION_PATTERNS.get(language)
    if patterns is None:
        return frozenset()
    folded = question.lower() if language == "ar" else fold(question)
    return frozenset(f"org:{name}" for name, pattern in patterns.items() if pattern.search(folded))


@lru_cache(maxsize=1024)
def named_organisations(passage: str) -> frozenset[str]:
    """The organisations a French passage names, as ``"org:OIT"``. Cached: the same passages come back."""
    folded = fold(passage)
    return frozenset(f"org:{name}" for name, pattern in _CORPUS_PATTERNS.items() if pattern.search(folded))
