"""Follow-up questions: what to search when a question leans on the conversation before it.

« Et la quatrième ? » or « Qui l'a signé ? » cannot be answered alone. When a
question looks like a follow-up, the text searched is the conversation's topic
(the latest earlier question that stands on its own, with the follow-ups asked
since) followed by the question; a question that stands on its own is searched
as it is, so an unrelated history cannot pull it off course.

The searched text goes to BM25 as it is. Its vector is the question's plus
the topic's (:class:`SearchVectors`): the topic is the text the previous turn
searched, so in a conversation its vector is already known and only the new
question is encoded.

Chosen by measurement on ``qa/coopqa-conversations.jsonl`` (67 follow-ups, 28
standalone questions after an unrelated history; ``qa/README.md``), hit@1:

* asked alone, follow-ups find their evidence first 37 % of the time;
* always prefixing the history: follow-ups 85 %, but standalone questions fall
  from 86 % to 43 %;
* this gate (rules for French ellipsis and pronouns, plus "at most
  :data:`MAX_ELLIPTICAL_TERMS` content words and no name of its own"), with
  the topic and question encoded as one text: follow-ups 0.839 on the fit half
  (``question_split``) / 0.917 on the test half, standalone unchanged (0.769 /
  0.933, as when asked alone); the limit 4 is the middle of the fit plateau 3-5;
* the same gate with the two vectors added (topic weight 1.0, the middle of
  the fit plateau 0.5-1.5): follow-ups 0.839 / 0.944, standalone unchanged,
  and a follow-up costs one short encoding, not a long one.

The rules are French, plus openers in Arabic (« و… ») and English (« And… »); the content-word test
also catches short English or Arabic follow-ups (« And the fourth? »). English and Arabic follow-ups are
measured on their own sets (docs/languages.md).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from coopqa.errors import InvalidHistoryError, InvalidQuestionError
from coopqa.index import analyse
from coopqa.search.questions import clean_question

#: Earlier turns a request may carry; only the latest few ever shape the search.
MAX_HISTORY_TURNS = 20
#: Content words (French analyser: stop words out, stemmed) at or below which a question with no name of its own is a follow-up.
MAX_ELLIPTICAL_TERMS = 4
#: A follow-up's vector is its question's plus this times its topic's (then unit length).
TOPIC_WEIGHT = 1.0
#: Searched texts whose vectors are kept for the next turn's topic (≈1.5 KB each).
VECTOR_CACHE_SIZE = 512

#: Opens on a link or a pronoun: « Et la quatrième ? », « Celle sur … », « C'était quand ? », « Elle a eu lieu quand ? ».
_LEADING = re.compile(r"^(?:et|mais|alors|puis|celle|celui|ceux|celles|il|elle|ils|elles|c['’]|ça|cela|lesquel\w*|laquelle|lequel)\b", re.IGNORECASE)
#: A demonstrative pointing back: « ce projet », « cette politique ».
_DEMONSTRATIVE = re.compile(r"\b(?:ce|cet|cette|ces)\s+(?!que\b|qui\b)[a-zàâäéèêëîïôöùûüç]")
#: The same opening in Arabic: the conjunction و glued to an interrogative or an article (« والرابع؟ », « وما هو موضوعها؟ »).
_LEADING_ARABIC = re.compile(r"^و(?:ما|من|متى|كم|أين|هل|كيف|لماذا|أي|في|ماذا|سنة|ال)")
#: English openers (« And who proposed it? », « What about Athens? »). Measured on the English conversation set's fit
#: half: before figures and names were pinned they lowered follow-ups' hit@1 (0.429 → 0.357); with them, 0.714 → 0.786
#: (held-out unchanged, 0.700). Pronouns (« it », « its ») gained the same on fit and lost held-out (0.700 → 0.600): not used.
_LEADING_ENGLISH = re.compile(r"^(?:and|but|so|also|then|what about|how about)\b", re.IGNORECASE)
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
    if _LEADING_ARABIC.search(question):
        return True
    if _LEADING_ENGLISH.search(question):
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


class SearchVectors:
    """The vector of each searched text: the question's, plus for a follow-up :data:`TOPIC_WEIGHT` times its topic's.

    Vectors of recently searched texts are kept (least recently used out), so
    in a conversation a follow-up's topic, which is the text the previous turn
    searched, is not encoded again. Shared by the threads of a server.
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray], size: int = VECTOR_CACHE_SIZE) -> None:
        self._encode = encode
        self._size = size
        self._known: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def vectors(self, resolved: Sequence[Resolved]) -> list[np.ndarray]:
        """One unit vector per resolved question; every text not already known is encoded in one batch."""
        with self._lock:
            known = {text: self._known[text] for r in resolved for text in (r.question, r.topic) if text is not None and text in self._known}
        missing = list(dict.fromkeys(text for r in resolved for text in (r.question, r.topic) if text is not None and text not in known))
        if missing:
            known.update(zip(missing, self._encode(missing)))
        result = []
        for r in resolved:
            vector = known[r.question]
            if r.topic is not None:
                combined = vector + TOPIC_WEIGHT * known[r.topic]
                vector = (combined / max(float(np.linalg.norm(combined)), 1e-12)).astype(vector.dtype)
            known[r.searched] = vector
            result.append(vector)
        with self._lock:
            for r in resolved:
                self._known[r.searched] = known[r.searched]
                self._known.move_to_end(r.searched)
            while len(self._known) > self._size:
                self._known.popitem(last=False)
        return result
