"""The reader's training pairs: what the negatives teach must really lack the answer, or the no-answer score learns noise."""

from __future__ import annotations

import importlib.util
import json
import re
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


@pytest.fixture(scope="module")
def reader_mix(train_reader: ModuleType) -> ModuleType:
    return sys.modules["reader_mix"]  # train_reader imports it from training/


def test_mix_weights_are_read_and_bad_ones_named(reader_mix: ModuleType) -> None:
    assert reader_mix.parse_mix("piaf=1.5, squad2-noans=0.6") == {"piaf": 1.5, "squad2-noans": 0.6}
    for bad, said in (("fquad=1", "unknown source 'fquad'"), ("piaf=lots", "'lots' is not a number"), ("arcd=-1", "negative")):
        with pytest.raises(ValueError, match=said):
            reader_mix.parse_mix(bad)


def test_a_weight_repeats_and_samples_the_same_way_for_one_seed(reader_mix: ModuleType) -> None:
    import random

    items = list(range(10))
    first = reader_mix.weighted(items, 2.3, random.Random(5))
    assert first[:20] == items * 2 and len(first) == 23 and set(first[20:]) <= set(items)
    assert first == reader_mix.weighted(items, 2.3, random.Random(5)), "a resumed run must see the same examples"


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ('{"data": [{"title": "A", "paragraphs": [{"context": "abc"}]}]}', "data[0].paragraphs[0]: 'qas' is missing"),
        ('{"data": [{"title": "A", "paragraphs": [{"context": "abc", "qas": [{"id": "q", "question": "?"}]}]}]}', "qas[0]: 'answers' is missing"),
        (
            '{"data": [{"title": "A", "paragraphs": [{"context": "abc", "qas": [{"id": "q", "question": "?", "answers": [{"text": "b"}]}]}]}]}',
            "answers[0]: 'answer_start' is missing",
        ),
        ('{"data": [{"title": 3, "paragraphs": []}]}', "data[0].title: expected str, found int"),
        ('{"data": [{"title": "A", "paragraphs": [{"context": "c", "qas": [{"id": [1], "question": "?"}]}]}]}', "qas[0].id: expected str or int, found list"),
        ('{"data": [', "line 1: not JSON"),
    ],
)
def test_a_malformed_training_file_is_named_with_its_field(reader_mix: ModuleType, tmp_path: Path, document: str, named: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(reader_mix.MixFileError, match=re.escape(named)) as raised:
        list(reader_mix.read_squad(path, Counter()))
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)


def test_an_answer_off_its_offset_is_counted_not_dropped_silently(reader_mix: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "off.json"
    qas = [
        {"id": "1", "question": "?", "answers": [{"text": "abc", "answer_start": 5}]},
        {"id": "2", "question": "?", "answers": [{"text": "xyz", "answer_start": 4}]},
    ]
    path.write_text(json.dumps({"data": [{"title": "A", "paragraphs": [{"context": "abc xyz", "qas": qas}]}]}), encoding="utf-8")
    skipped: Counter[str] = Counter()
    read = list(reader_mix.read_squad(path, skipped))
    assert [question.qid for question in read] == ["2"] and read[0].answer == (4, 7)
    assert skipped == Counter({"off.json: answer not at its answer_start": 1})


@pytest.mark.skipif(not (ROOT.parent / "shared" / "datasets" / "xquad").exists(), reason="XQuAD is in ../shared")
def test_arabic_questions_are_paired_with_the_english_paragraph_and_answer(reader_mix: ModuleType) -> None:
    pairs = reader_mix.arabic_over_english("train", Counter())
    assert pairs, "XQuAD's train articles give pairs"
    pair = pairs[0]
    assert any("\u0600" <= ch <= "\u06ff" for ch in pair.question), "the question stays Arabic"
    assert pair.answer is not None and pair.context[pair.answer[0] : pair.answer[1]] == pair.golds[0]
    assert pair.context.isascii() or not any("\u0600" <= ch <= "\u06ff" for ch in pair.context), "the paragraph is the English one"
