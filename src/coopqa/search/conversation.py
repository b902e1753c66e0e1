"""Follow-up questions: what to search when a question leans on the conversation before it.

« Et la quatrième ? » or « Qui l'a signé ? » cannot be answered alone. When a
question looks like a follow-up, the text searched is the conversation's topic
(the latest earlier question that stands on its own, with the follow-ups asked
since) followed by the question; a question that stands on its own is searched
as it is, so an unrelated history cannot pull it off course.

Chosen by measurement on ``qa/coopqa-conversations.jsonl`` (67 follow-ups, 28
standalone questions after an unrelated history; ``qa/README.md``):

* asked alone, follow-ups find their evidence first 37 % of the time;
* always prefixing the history: follow-ups 85 %, but standalone questions fall
  from 86 % to 43 %;
* this gate (rules for French ellipsis and pronouns, plus "too few content
  words and no name of its own"): follow-ups 87 %, standalone unchanged.

The rules are French; the content-word test also catches short English or
Arabic follow-ups (« And the fourth? »), not measured.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from coopqa.errors import InvalidHistoryError, InvalidQuestionError
from coopqa.index import analyse

#: Earlier turns a request may carry; only the latest few ever shape the search.
MAX_HISTORY_TURNS = 20
#: Content words (French analyser: stop words out, stemmed) at or below which a question with no name of its own is a follow-up.
MAX_ELLIPTICAL_TERMS = 4

#: Opens on a link or a pronoun: « Et la quatrième ? », « Celle sur … », « C'était quand ? », « Elle a eu lieu quand ? ».
_LEADING = re.compile(r"^(?:et|mais|alors|puis|celle|celui|ceux|celles|il|elle|ils|elles|c['’]|ça|cela|lesquel\w*|laquelle|lequel)\b", re.IGNORECASE)
#: A demonstrative pointing back: « ce projet », « cette politique ».
_DEMONSTRATIVE = re.compile(r"\b(?:ce|cet|cette|ces)\s+(?!que\b|qui\b)[a-zàâäéèêëîïôöùûüç]")
#: An object pronoun before a verb: « Qui l'a signé ? », « … l'ont rejoint ».
_OBJECT = re.compile(r"\b\w+\s+l['’](?:a|ont|avait|avaient|exécute|exécutent|finance|financent|met|mettent|dirige|préside)\b", re.IGNORECASE)
#: A possessive or an inverted subject pronoun, a follow-up only when the question names nothing itself.
_POSSESSIVE_OR_INVERTED = re.compile(r"\b(?:son|sa|ses|leur|leurs)\b|-t?-(?:il|elle|ils|elles)\b")
_WORD = re.compile(r"\w+")
_ACRONYM = re.compile(r"[A-ZÀ-Ý][A-ZÀ-Ý0-9]+")


@dataclass(frozen=True)
class Resolved:
    """What to search for one question: ``searched`` is the question itself unless it is a follow-up."""

    question: str
    searched: str
    #: The conversation's topic the question was searched with (``None`` for a question searched alone).
    topic: str | None = None

    @property
    def parts(self) -> tuple[str, ...]:
        """What the search was made of: the topic (if any) and the question, for the abstention rule."""
        return (self.question,) if self.topic is None else (self.topic, self.question)


def names_something(question: str) -> bool:
    """An acronym, a number, or a capitalised word after the first: the question has a subject of its own."""
    words = _WORD.findall(question)
    return any(_ACRONYM.fullmatch(word) or word[0].isdigit() for word in words) or any(word[:1].isupper() for word in words[1:])


def is_follow_up(question: str) -> bool:
    """Whether ``question`` leans on what came before (see the module's measurements)."""
    if _LEADING.search(question) or _DEMONSTRATIVE.search(question) or _OBJECT.search(question):
        return True
    if names_something(question):
        return False
    return bool(_POSSESSIVE_OR_INVERTED.search(question)) or len(set(analyse(question))) <= MAX_ELLIPTICAL_TERMS


def topic(history: Sequence[str]) -> str | None:
    """The conversation's current topic: the latest standalone question and the follow-ups asked after it."""
    current: str | None = None
    for earlier in history:
        current = f"{current} {earlier}" if current is not None and is_follow_up(earlier) else earlier
    return current


def resolve(question: str, history: Sequence[str]) -> Resolved:
    """The text to search for ``question`` asked after ``history`` (oldest first)."""
    if history and is_follow_up(question):
        about = topic(history)
        if about is not None:
            return Resolved(question, f"{about} {question}", about)
    return Resolved(question, question)


def clean_history(history: object, max_chars: int) -> tuple[str, ...]:
    """The earlier questions, each cleaned like a question, or :class:`InvalidHistoryError` naming the field."""
    from coopqa.search.retriever import clean_question

    if history is None:
        return ()
    if isinstance(history, str) or not isinstance(history, list | tuple):
        raise InvalidHistoryError(f'"history" must be a list of earlier questions (strings), got {type(history).__name__}', reason="not_list")
    if len(history) > MAX_HISTORY_TURNS:
        raise InvalidHistoryError(
            f'"history" holds {len(history)} turns, over the {MAX_HISTORY_TURNS}-turn limit', "send only the latest turns", reason="too_long"
        )
    cleaned = []
    for number, earlier in enumerate(history):
        try:
            cleaned.append(clean_question(earlier, max_chars))
        except InvalidQuestionError as error:
            reason = "too_long" if error.reason == "too_long" else "bad_characters" if error.reason == "bad_characters" else "invalid"
            raise InvalidHistoryError(f'"history"[{number}]: {error.message}', error.hint, reason=reason) from None
    return tuple(cleaned)
