"""The reader's training pairs: what the negatives teach must really lack the answer, or the no-answer score learns noise."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIAF = ROOT.parent / "shared" / "datasets" / "piaf" / "piaf-v1.0.json"

PARAGRAPH = (
    "La cinquième édition du forum s'est déroulée en Suisse en 2011. "
    "Elle s'est tenue à Genève, sous la présidence suisse. "
    "Son thème portait sur les partenariats."
)


@pytest.fixture(scope="module")
def train_reader() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_reader", ROOT / "training" / "train_reader.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_reader"] = module
    spec.loader.exec_module(module)
    return module


def test_cut_paragraph_keeps_the_subject_and_drops_the_answer_sentence(train_reader: ModuleType) -> None:
    start = PARAGRAPH.index("Genève")
    cut = train_reader.without_answer_sentence(PARAGRAPH, start, start + len("Genève"))
    assert cut == "La cinquième édition du forum s'est déroulée en Suisse en 2011. Son thème portait sur les partenariats."


def test_answer_across_two_sentences_drops_both(train_reader: ModuleType) -> None:
    start = PARAGRAPH.index("2011")
    end = PARAGRAPH.index("Genève") + len("Genève")
    assert train_reader.without_answer_sentence(PARAGRAPH, start, end) == "Son thème portait sur les partenariats."


def test_nothing_left_gives_no_negative(train_reader: ModuleType) -> None:
    sentence = "Le forum a eu lieu à Genève."
    assert train_reader.without_answer_sentence(sentence, sentence.index("Genève"), len(sentence) - 1) is None


@pytest.mark.skipif(not PIAF.exists(), reason="PIAF v1.0 is in ../shared")
def test_piaf_negatives_never_hold_the_gold_answer(train_reader: ModuleType) -> None:
    examples, checks = train_reader.read_examples(PIAF, "train", 0.5, 17, hard=True, cut=0.5)
    asked = Counter(question for question, _context, _golds in checks)
    golds = {question: golds[0] for question, _context, golds in checks if asked[question] == 1}  # a few are asked twice, of two paragraphs
    negatives = [example for example in examples if example.answer is None and example.question in golds]
    assert len(negatives) > 0.4 * len(golds)
    assert all(golds[example.question].lower() not in example.context.lower() for example in negatives)
    positives = [example for example in examples if example.answer is not None and example.question in golds]
    assert all(example.context[example.answer[0] : example.answer[1]] == golds[example.question] for example in positives)
