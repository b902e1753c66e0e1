"""The SentencePiece tokenizer on the query path gives the tokens and offsets of e5's ``tokenizer.json``.

Any difference would shift vectors away from the index built with the other one, and move the
reader's answer spans; so the comparison runs on real text: every PIAF paragraph and question,
the shipped corpus, the QA sets in three languages, and the whitespace cases users paste.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from coopqa.config import Settings
from coopqa.model.embedder import resolve_model
from coopqa.model.pieces import PIECE_MODEL_FILE, PieceTokenizer, write_piece_model
from coopqa.model.reader_model import ReaderTokenizer

from .conftest import CORPUS, PIAF, ROOT

WHITESPACE_CASES = [
    "",
    " ",
    "\n",
    " abc",
    "  abc",
    "abc ",
    "abc  ",
    "a  b",
    "a\tb",
    "  • Migration",
    "a\x01b",
    "a\x01 b",
    " \x01 x",
    "x \u200b y",
    "x \u200d y",
    "a \u00a0 b",
    "\u00a0x\u00a0",
    "l’OIM — «Ilo» ﬁ ①",
    "Toutes",
    "ما هي ميزانية مشروع AMEM؟ ",
]


@pytest.fixture(scope="module")
def tokenizer_json(settings: Settings) -> Path:
    folder, _model_id = resolve_model(settings)
    return Path(folder) / "tokenizer.json"


@pytest.fixture(scope="module")
def both(tokenizer_json: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Tokenizer, PieceTokenizer]:
    folder = tmp_path_factory.mktemp("pieces")
    (folder / "tokenizer.json").write_bytes(tokenizer_json.read_bytes())
    write_piece_model(folder / "tokenizer.json", folder / PIECE_MODEL_FILE)
    reference = Tokenizer.from_file(str(tokenizer_json))
    reference.no_padding()
    return reference, PieceTokenizer(folder / "tokenizer.json")


def real_texts() -> tuple[list[str], list[tuple[str, str]]]:
    texts: list[str] = []
    pairs: list[tuple[str, str]] = []
    for article in json.loads(PIAF.read_text(encoding="utf-8"))["data"]:
        for paragraph in article["paragraphs"]:
            questions = [qa["question"] for qa in paragraph["qas"]]
            texts += [paragraph["context"], *questions]
            pairs.append((questions[0], paragraph["context"]))
    for path in sorted(CORPUS.glob("*.txt")):
        texts += path.read_text(encoding="utf-8").splitlines()
    for path in sorted((ROOT / "qa").glob("coopqa-*.jsonl")):
        texts += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts + WHITESPACE_CASES, pairs


@pytest.mark.slow
def test_same_tokens_and_offsets_as_tokenizer_json_on_real_text(both: tuple[Tokenizer, PieceTokenizer]) -> None:
    reference, pieces = both
    texts, pairs = real_texts()
    expected = reference.encode_batch(texts, add_special_tokens=False)
    got = pieces.encode_batch(texts, None, add_special_tokens=False)
    differing = [text for text, want, have in zip(texts, expected, got) if want.ids != have.ids or [tuple(o) for o in want.offsets] != have.offsets]
    assert differing == []
    # the encoder's truncated single texts, with <s> … </s>
    reference.enable_truncation(max_length=64)
    for want, have in zip(reference.encode_batch(texts[:500]), pieces.encode_batch(texts[:500], {"max_length": 64})):
        assert (want.ids, want.sequence_ids) == (have.ids, have.sequence_ids)
    # the reader's (question, passage) windows with their stride
    reference.enable_truncation(**ReaderTokenizer.WINDOWS)
    for want, have in zip(reference.encode_batch(pairs), pieces.encode_batch(pairs, ReaderTokenizer.WINDOWS)):
        want_windows, have_windows = [want, *want.overflowing], [have, *have.overflowing]
        assert len(want_windows) == len(have_windows)
        for a, b in zip(want_windows, have_windows):
            assert (a.ids, [tuple(o) for o in a.offsets], a.sequence_ids) == (b.ids, b.offsets, b.sequence_ids)


def test_whitespace_and_control_characters_match(both: tuple[Tokenizer, PieceTokenizer]) -> None:
    reference, pieces = both
    for text in WHITESPACE_CASES:
        want = reference.encode(text, add_special_tokens=False)
        have = pieces.tokens(text)
        assert (want.ids, [tuple(o) for o in want.offsets]) == have, text


def test_ids_differ_only_on_a_few_code_points_unicode_changed(both: tuple[Tokenizer, PieceTokenizer]) -> None:
    """Every BMP character between two letters: the two libraries' Unicode tables disagree on a handful (« ꟲ », U+061C)."""
    reference, pieces = both
    texts = [f"a{chr(code)}b" for code in range(1, 0x10000) if not 0xD800 <= code < 0xE000]
    expected = reference.encode_batch(texts, add_special_tokens=False)
    differing = [text for text, want in zip(texts, expected) if want.ids != pieces.tokens(text)[0]]
    assert len(differing) <= 8, [hex(ord(text[1])) for text in differing]


def test_a_window_too_small_for_the_question_is_refused(both: tuple[Tokenizer, PieceTokenizer]) -> None:
    _reference, pieces = both
    with pytest.raises(ValueError, match="no room"):
        pieces.encode_batch([("mot " * 40, "un passage")], {"max_length": 32, "stride": 8})
