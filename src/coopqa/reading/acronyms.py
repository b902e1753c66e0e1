"""Acronyms the corpus defines, and questions asking what one stands for.

Why: « FED, ça veut dire quoi ? », « BRA c'est quoi ? », « What is PISERUMA short for? » are among the
shortest questions users ask, and the hardest for retrieval and the reader alike: the question is one
acronym, its cosine to every passage is low (« BRA c'est quoi ? » fell under the abstention threshold),
and the reader, asked what a word means, answers with the word or the sentence around it. Yet the text
answers them in a form that can be read without a model: « le Bureau des Réfugiés et des Apatrides
(BRA) », « AVRR (Aide au retour volontaire et à la réintégration) », « AMEM « Appui à la Migration
Equitable pour le Maghreb » ».

Definitions are found the way Schwartz and Hearst's algorithm finds them (« A simple algorithm for
identifying abbreviation definitions in biomedical text », PSB 2003): for « long form (SHORT) », each
letter of the acronym, from the last, is matched to a letter of the words before the bracket, the first
one at the start of a word, within ``min(len + 5, 2 × len)`` words; the shortest such long form is kept.
For « SHORT (long form) » and « SHORT « long form » » the bracketed text is the long form when it starts
with the acronym's first letter and its letters match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from coopqa.index import fold

#: An acronym as written in a question or after a long form: two to ten capitals or digits, starting with a capital.
_ACRONYM = r"[A-ZÀ-Ý][A-ZÀ-Ý0-9]{1,9}"
_SHORT_AFTER = re.compile(rf"\(\s*({_ACRONYM})\s*\)")
_LONG_AFTER = re.compile(rf"\b({_ACRONYM})\s*(?:\(\s*([^()]{{3,160}}?)\s*\)|«\s*([^«»]{{3,160}}?)\s*»)")
_QUESTION_ACRONYM = re.compile(rf"(?<![\w-])({_ACRONYM})(?![\w-])")
#: What a question asking what an acronym stands for says, in the calibrated languages (lower case, accents folded).
_CUES = re.compile(
    r"signifie|veut dire|sigle|acronyme|abreviation|c'est quoi|que designe|nom complet|en toutes lettres"
    r"|stand for|stands for|short for|acronym|abbreviation|\bmean\b|\bmeaning\b|full name|spelled out"
    r"|يعني|معنى|اختصار|الاسم الكامل"
)


@dataclass(frozen=True)
class Definition:
    """``text[start:end]`` is the long form of ``short``."""

    short: str
    start: int
    end: int


@lru_cache(maxsize=1024)
def definitions(text: str) -> tuple[Definition, ...]:
    """Every acronym definition of ``text``, in both orders. Cached: an acronym question scans the same passages again."""
    found = []
    for match in _SHORT_AFTER.finditer(text):
        short = match.group(1)
        long_start = _long_form_before(text, match.start(), short)
        if long_start is not None:
            end = match.start()
            while end > long_start and not text[end - 1].isalnum():
                end -= 1
            if not set("()«»") & set(text[long_start:end]):  # « Deutsche Ausrüstungswerke (en) (DAW) »: not a clean long form
                found.append(Definition(short, long_start, end))
    for match in _LONG_AFTER.finditer(text):
        short = match.group(1)
        group = 2 if match.group(2) is not None else 3
        long_text = match.group(group)
        if " " in long_text.strip() and not set("()«»") & set(long_text) and spells(short, long_text):
            found.append(Definition(short, match.start(group), match.end(group)))
    return tuple(found)


def asked_acronym(question: str) -> str | None:
    """The acronym a question asks the meaning of (« Que signifie AVRR ? »), or ``None``."""
    if not _CUES.search(fold(question)):
        return None
    acronyms = {match.group(1) for match in _QUESTION_ACRONYM.finditer(question) if sum(ch.isupper() for ch in match.group(1)) >= 2}
    return acronyms.pop() if len(acronyms) == 1 else None


def spells(acronym: str, text: str) -> bool:
    """Whether ``text`` could be ``acronym``'s long form: it starts with its first letter and holds its letters in order."""
    return _first_letter(text) == _fold(acronym[0]) and _letters_match(acronym, text)


def _long_form_before(text: str, bracket: int, short: str) -> int | None:
    """Where the long form ending before ``text[bracket]`` starts, or ``None``.

    First by word initials (« Association Marocaine d'Appui à la Promotion de la Petite Entreprise »: every
    word gives the next letter, or is a small word skipped), then as Schwartz and Hearst do (any letter of the
    words after the first: « … Réfugiés Urbains au Maroc (PISERUMA) »), which alone would take the shortest
    form, « à la Promotion de la Petite Entreprise ». A long form never starts with a small word.
    """
    letters = [ch for ch in _fold(short) if ch.isalnum()]
    most_words = min(len(letters) + 5, 2 * len(letters))
    window_start = bracket
    words = 0
    while window_start > 0 and words < most_words:  # back over at most ``most_words`` words
        window_start -= 1
        if not text[window_start].isspace() and (window_start == 0 or text[window_start - 1].isspace()):
            words += 1
    window = text[window_start:bracket]
    by_initials = _by_initials(window, letters)
    if by_initials is not None:
        return window_start + by_initials
    start = _schwartz_hearst(_fold(window), letters)
    if start is None or _fold(_WORD.findall(window[start:])[0]) in _SMALL_WORDS or len(window[start:].split()) > len(letters) + 2:
        return None  # the looser reading only for a long form about as long as the acronym (PIAF: « SPLA » is not « sein de l'Armée… »)
    return window_start + start


_WORD = re.compile(r"\w+")
#: Words an acronym usually skips (« Bureau des Réfugiés et des Apatrides », BRA).
_SMALL_WORDS = frozenset(
    ["a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "par", "pour", "sur", "dans", "of", "the", "and", "for", "on", "in", "to"]
)


def _by_initials(window: str, letters: list[str]) -> int | None:
    """Start of the words of ``window`` ending it whose initials spell ``letters``, small words skipped or not."""
    words = [(match.start(), _fold(match.group())) for match in _WORD.finditer(window)]

    def spell(letter: int, word: int) -> int | None:  # letters[:letter + 1] from words[:word + 1], the last one used
        if word < 0:
            return None
        start, folded = words[word]
        if folded[0] == letters[letter]:
            if letter == 0:
                if folded not in _SMALL_WORDS:
                    return start
            else:
                for before in range(word - 1, -1, -1):
                    found = spell(letter - 1, before)
                    if found is not None:
                        return found
                    if words[before][1] not in _SMALL_WORDS:
                        break
        return None

    return spell(len(letters) - 1, len(words) - 1) if words else None


def _schwartz_hearst(folded: str, letters: list[str]) -> int | None:
    """Start of the shortest end of ``folded`` spelling ``letters`` in order, the first at a word's start."""
    position = len(folded) - 1
    for index in range(len(letters) - 1, -1, -1):
        letter = letters[index]
        while position >= 0 and (folded[position] != letter or (index == 0 and position > 0 and folded[position - 1].isalnum())):
            position -= 1
        if position < 0:
            return None
        position -= 1
    start = position + 1
    return start if start < len(folded) else None


def _letters_match(short: str, long_text: str) -> bool:
    """Whether the acronym's letters appear in order in ``long_text``, the first at its start."""
    folded = _fold(long_text)
    position = 0
    for letter in (ch for ch in _fold(short) if ch.isalnum()):
        position = folded.find(letter, position)
        if position < 0:
            return False
        position += 1
    return True


def _first_letter(text: str) -> str:
    return next((ch for ch in _fold(text) if ch.isalnum()), "")


def _fold(text: str) -> str:
    """:func:`~coopqa.search.answer_type.fold`, one character for one, so positions map back to ``text``."""
    folded = fold(text)
    return folded if len(folded) == len(text) else text.lower()
