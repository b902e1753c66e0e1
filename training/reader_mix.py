"""The reader's training mix: PIAF's train articles with SQuAD, XQuAD and ARCD, each source weighted.

    --mix piaf=1.5,squad1=0.35,squad2-noans=0.6,xquad-ar-en=1,xquad-ar=0.5,arcd=1

Why these sources (``../shared/README.md`` gives their origin and licences):

* ``piaf``: the French target language, PIAF v1.0's train articles (with the negatives
  :func:`train_reader.read_examples` pairs them with).
* ``squad1``: SQuAD v1.1 dev, English answerable questions: volume for span finding.
* ``squad2-noans``: SQuAD v2.0 dev's unanswerable questions only (its answerable ones repeat v1.1's).
  They were written to look answerable from their own paragraph: the near-miss coopqa must refuse.
* ``xquad-ar-en``: XQuAD's Arabic question over the English paragraph (parallel by id), the way an
  Arabic-speaking user asks about a text in another language; ``xquad-ar``: Arabic over Arabic.
* ``arcd``: ARCD's train file, Arabic over Arabic Wikipedia.

SQuAD and XQuAD articles are split by :func:`coopqa.evaluation.splits.article_split` like PIAF (XQuAD's
paragraphs come from SQuAD v1.1 dev, so one title always falls in one split): only ``train`` articles are
read here, ``calibration`` ones serve the run's checks, ``test`` ones are never seen. ARCD's test file is
never read.

A weight ``w`` takes every question ``floor(w)`` times and a seeded share ``w - floor(w)`` of them once more,
so a mix is the same list in the same order for the same seed (what ``--resume`` relies on).

A malformed file stops the run with one line naming the file and the field (``data[3].paragraphs[0].qas[2]:
'answers' is missing``). A question whose answer is not found at its ``answer_start`` is counted and
reported in the run's card, never dropped silently.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from coopqa.evaluation.splits import Split, article_split

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
SOURCES = ("piaf", "squad1", "squad2-noans", "xquad-ar-en", "xquad-ar", "arcd")
T = TypeVar("T")
DEFAULT_MIX = "piaf=1.5,squad1=0.35,squad2-noans=0.6,xquad-ar-en=1,xquad-ar=0.5,arcd=1"


class MixFileError(ValueError):
    """A training file that does not hold what SQuAD JSON must: the message names the file and the field."""


@dataclass(frozen=True)
class Question:
    """One question of a SQuAD-style file, with its paragraph and, when it has one, the first answer's span."""

    qid: str
    title: str
    question: str
    context: str
    answer: tuple[int, int] | None  # character span in context; None for an unanswerable question
    golds: tuple[str, ...]


def parse_mix(text: str) -> dict[str, float]:
    """``name=weight,…`` into a dict, refusing unknown sources and negative weights with a one-line reason."""
    mix: dict[str, float] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, _sep, value = part.partition("=")
        if name not in SOURCES:
            raise ValueError(f"--mix: unknown source {name!r} (known: {', '.join(SOURCES)})")
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"--mix: {name}'s weight {value!r} is not a number") from None
        if weight < 0:
            raise ValueError(f"--mix: {name}'s weight {weight} is negative")
        mix[name] = weight
    return mix


def _field(record: Any, key: str, kind: type | tuple[type, ...], where: str, path: Path) -> Any:
    if not isinstance(record, dict) or key not in record:
        raise MixFileError(f"{path}: {where}: {key!r} is missing")
    value = record[key]
    if not isinstance(value, kind):
        expected = " or ".join(k.__name__ for k in kind) if isinstance(kind, tuple) else kind.__name__
        raise MixFileError(f"{path}: {where}.{key}: expected {expected}, found {type(value).__name__}")
    return value


def read_squad(path: Path, skipped: Counter[str]) -> Iterator[Question]:
    """Every question of a SQuAD v1.1/v2.0 JSON file, validated field by field.

    ``skipped`` counts, by reason, the questions that cannot become a training example (an answer not at
    its ``answer_start``), so that the run's card reports them.
    """
    try:
        whole = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise MixFileError(f"{path}: cannot be read ({error})") from None
    except json.JSONDecodeError as error:
        raise MixFileError(f"{path}: line {error.lineno}: not JSON ({error.msg})") from None
    for a, article in enumerate(_field(whole, "data", list, "top level", path)):
        title = _field(article, "title", str, f"data[{a}]", path)
        for p, paragraph in enumerate(_field(article, "paragraphs", list, f"data[{a}]", path)):
            where = f"data[{a}].paragraphs[{p}]"
            context = _field(paragraph, "context", str, where, path)
            for q, qa in enumerate(_field(paragraph, "qas", list, where, path)):
                here = f"{where}.qas[{q}]"
                question = _field(qa, "question", str, here, path)
                qid = str(_field(qa, "id", (str, int), here, path))
                answers = _field(qa, "answers", list, here, path)
                if qa.get("is_impossible", False):
                    yield Question(qid, title, question, context, None, ())
                    continue
                if not answers:
                    raise MixFileError(f"{path}: {here}.answers: empty for a question not marked is_impossible")
                golds = tuple(_field(answer, "text", str, f"{here}.answers[{n}]", path) for n, answer in enumerate(answers))
                start = _field(answers[0], "answer_start", int, f"{here}.answers[0]", path)
                end = start + len(golds[0])
                if context[start:end] != golds[0]:
                    skipped[f"{path.name}: answer not at its answer_start"] += 1
                    continue
                yield Question(qid, title, question, context, (start, end), golds)


def squad_split(path: Path, split: Split, skipped: Counter[str]) -> list[Question]:
    """The questions of ``path``'s ``split`` articles."""
    return [question for question in read_squad(path, skipped) if article_split(question.title) == split]


def arabic_over_english(split: Split, skipped: Counter[str]) -> list[Question]:
    """XQuAD's Arabic questions paired with the English paragraph and the English answer (same id)."""
    english = {question.qid: question for question in squad_split(DATASETS / "xquad" / "xquad.en.json", split, skipped)}
    pairs = []
    for arabic in squad_split(DATASETS / "xquad" / "xquad.ar.json", split, skipped):
        original = english.get(arabic.qid)
        if original is None:
            skipped["xquad: Arabic id without its English question"] += 1
            continue
        pairs.append(Question(arabic.qid, original.title, arabic.question, original.context, original.answer, original.golds))
    return pairs


def source_questions(name: str, split: Split, skipped: Counter[str]) -> list[Question]:
    """The questions of one non-PIAF source for ``split`` (ARCD: its train file for ``train``, its test file otherwise)."""
    if name == "squad1":
        return squad_split(DATASETS / "squad" / "squad-v1.1-dev.json", split, skipped)
    if name == "squad2-noans":
        return [question for question in squad_split(DATASETS / "squad" / "squad-v2.0-dev.json", split, skipped) if question.answer is None]
    if name == "xquad-ar-en":
        return arabic_over_english(split, skipped)
    if name == "xquad-ar":
        return squad_split(DATASETS / "xquad" / "xquad.ar.json", split, skipped)
    if name == "arcd":
        return list(read_squad(DATASETS / "arcd" / ("arcd-train.json" if split == "train" else "arcd-test.json"), skipped))
    raise ValueError(f"unknown source {name!r}")


def weighted(items: list[T], weight: float, rng: random.Random) -> list[T]:
    """``floor(weight)`` copies of ``items`` and a seeded share of them for the fraction left."""
    whole = int(weight)
    extra = rng.sample(items, round((weight - whole) * len(items))) if items else []
    return items * whole + extra
