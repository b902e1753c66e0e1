"""e5's tokenizer run by SentencePiece, giving the same tokens and offsets as its ``tokenizer.json``.

Why: loading the 250k-piece ``tokenizer.json`` with the ``tokenizers`` library costs about 300 MB of
peak memory and a second; the same Unigram vocabulary in SentencePiece's own format loads in a
tenth of the memory (measured in ``benchmarks/tokenizer_memory.py``). That was the largest share of
the query path's memory once PyTorch was gone.

The pieces, their scores and the ids are copied from ``tokenizer.json``; the text normalisation is
SentencePiece's built-in ``nmt_nfkc`` rule, which is what e5's (XLM-R's) tokenizer was trained with
and what the JSON file spells out as regular expressions. Two conventions of the ``tokenizers``
library are then reproduced, so that ids and character offsets are identical (the tests compare
both on every PIAF paragraph and question, the corpus and the QA sets):

- trailing whitespace becomes a last ``▁`` piece (SentencePiece drops it);
- a run of spaces before a word belongs to that word's ``▁`` through its last character only.

Pairs are laid out and cut into overlapping windows as ``tokenizers`` does for XLM-R:
``<s> A </s></s> B </s>``, the second text truncated in windows of a fixed size with ``stride``
tokens shared by neighbours.
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

#: The SentencePiece model written beside ``tokenizer.json`` by the exports.
PIECE_MODEL_FILE = "tokenizer.model"
#: Characters the ``nmt_nfkc`` rule deletes (control characters).
_REMOVED = frozenset(chr(code) for code in [*range(1, 9), 0x0B, *range(0x0E, 0x20), 0x7F, 0x8F, 0x9F])
#: Characters the ``nmt_nfkc`` rule turns into a space before NFKC.
_SPACED = frozenset("\t\n\x0c\r\u1680\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u2581\ufeff\ufffd")


@lru_cache(maxsize=4096)
def _normalised(character: str) -> str:
    if character in _REMOVED:
        return ""
    if character in _SPACED:
        return " "
    return unicodedata.normalize("NFKC", character)


def _one_for_one(text: str) -> str:
    """``text`` with each character that normalises to exactly one other character replaced by it.

    SentencePiece's ``nmt_nfkc`` table is from an older Unicode than Python's NFKC (« ～ », « ꟲ ») and
    keeps U+200D, which ``tokenizer.json`` turns into a space; doing these one-for-one replacements
    first keeps every character position, so offsets stay those of the original text.
    """
    return "".join(normalised if len(normalised := _normalised(character)) == 1 else character for character in text)


def _is_blank(character: str) -> bool:
    """Whether the character normalises to nothing or to spaces only."""
    return _normalised(character).strip(" ") == ""


def _is_space(character: str) -> bool:
    normalised = _normalised(character)
    return bool(normalised) and normalised.strip(" ") == ""


@dataclass
class Encoding:
    """What callers read of a ``tokenizers.Encoding``: ids, character offsets, which text each token is from, the following windows."""

    ids: list[int]
    offsets: list[tuple[int, int]]
    sequence_ids: list[int | None]
    overflowing: list[Encoding] = field(default_factory=list)


def piece_model_bytes(tokenizer_json: Path) -> bytes:
    """A SentencePiece model holding ``tokenizer_json``'s Unigram pieces, in its id order, with the ``nmt_nfkc`` normaliser.

    Needs ``protobuf`` (SentencePiece's model format); run once by the exports, never per question.
    """
    import sentencepiece
    from sentencepiece import sentencepiece_model_pb2

    model_pb2: Any = sentencepiece_model_pb2  # generated protobuf classes: no type information

    spec = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    model = spec["model"]
    if model.get("type") != "Unigram":
        raise ValueError(f"{tokenizer_json} holds a {model.get('type')} tokenizer, not a Unigram one")
    # SentencePiece compiles its named normalisation rules only when it trains: train a tiny model for the rule's table.
    tiny = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(["une phrase pour le tableau de normalisation"] * 20),
        model_writer=tiny,
        vocab_size=40,
        hard_vocab_limit=False,
        normalization_rule_name="nmt_nfkc",
        minloglevel=2,
    )
    trained = model_pb2.ModelProto()
    trained.ParseFromString(tiny.getvalue())
    proto = model_pb2.ModelProto()
    proto.normalizer_spec.CopyFrom(trained.normalizer_spec)
    proto.trainer_spec.model_type = model_pb2.TrainerSpec.UNIGRAM
    specials = {token["content"] for token in spec.get("added_tokens", []) if token.get("special")}
    unknown = model["vocab"][int(model["unk_id"])][0]
    proto.trainer_spec.unk_id = int(model["unk_id"])
    kinds = model_pb2.ModelProto.SentencePiece
    for piece, score in model["vocab"]:
        entry = proto.pieces.add()
        entry.piece = piece
        entry.score = float(score)
        entry.type = kinds.UNKNOWN if piece == unknown else kinds.CONTROL if piece in specials else kinds.NORMAL
    return bytes(proto.SerializeToString())


def write_piece_model(tokenizer_json: Path, destination: Path) -> None:
    destination.write_bytes(piece_model_bytes(tokenizer_json))


class PieceTokenizer:
    """``tokenizer.json``'s tokenisation through SentencePiece (see the module's docstring)."""

    def __init__(self, tokenizer_json: Path, serialized: bytes | None = None) -> None:
        """``serialized``: the SentencePiece model, when the caller has read it; else the file beside
        ``tokenizer_json``, or one built from it (the exports write that file, so only other folders pay this)."""
        import sentencepiece

        if serialized is None:
            model_file = tokenizer_json.with_name(PIECE_MODEL_FILE)
            serialized = model_file.read_bytes() if model_file.is_file() else piece_model_bytes(tokenizer_json)
        self._processor = sentencepiece.SentencePieceProcessor(model_proto=serialized)
        self._space_id = self._required("▁")
        self.cls_id = self._required("<s>")
        self.sep_id = self._required("</s>")

    def _required(self, piece: str) -> int:
        found = self.token_to_id(piece)
        if found is None:
            raise ValueError(f"the tokenizer has no {piece!r} piece")
        return found

    def token_to_id(self, token: str) -> int | None:
        found = int(self._processor.piece_to_id(token))
        return found if self._processor.id_to_piece(found) == token else None

    def tokens(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Ids and character offsets of ``text``'s pieces, without special tokens."""
        replaced = _one_for_one(text)
        proto = self._processor.encode(replaced, out_type="proto")
        return self._aligned(text, _byte_to_character(replaced), proto.pieces)

    def _aligned(self, text: str, character_at: list[int], pieces: Any) -> tuple[list[int], list[tuple[int, int]]]:
        ids: list[int] = []
        offsets: list[tuple[int, int]] = []
        for piece in pieces:
            begin, end = character_at[piece.begin], character_at[piece.end]
            if piece.piece == "▁" and begin == end < len(text):
                end = begin + 1  # the word's own "▁", which tokenizers aligns to the word's first character
            elif piece.piece.startswith("▁"):
                # the blanks before the word (SentencePiece leaves a text's leading ones out): tokenizers keeps the last space
                run_start, run_end = begin, begin
                while run_start > 0 and _is_blank(text[run_start - 1]):
                    run_start -= 1
                while run_end < end and _is_blank(text[run_end]):
                    run_end += 1
                spaces = [position for position in range(run_start, run_end) if _is_space(text[position])]
                begin = spaces[-1] if spaces else begin
            while end - 1 > begin and _normalised(text[end - 1]) == "":
                end -= 1  # a deleted character ends no piece in tokenizers' alignment
            end = _through_expanded(text, begin, end, len(piece.piece.lstrip("▁")))
            ids.append(int(piece.id))
            offsets.append((begin, end))
        trailing = len(text)
        while trailing > 0 and _is_blank(text[trailing - 1]):
            trailing -= 1
        spaces = [position for position in range(trailing, len(text)) if _is_space(text[position])]
        if spaces:
            ids.append(self._space_id)
            offsets.append((spaces[-1], spaces[-1] + 1))
        return ids, offsets

    def encode_batch(self, inputs: Sequence[Any], truncation: dict[str, Any] | None = None, add_special_tokens: bool = True) -> list[Encoding]:
        """Like ``tokenizers.Tokenizer.encode_batch`` for texts or (question, passage) pairs.

        ``truncation``: ``max_length``, and for pairs ``stride`` with the second text cut into windows.
        """
        return [self._encode(item, truncation, add_special_tokens) for item in inputs]

    def _encode(self, item: Any, truncation: dict[str, Any] | None, add_special_tokens: bool) -> Encoding:
        if isinstance(item, str):
            ids, offsets = self.tokens(item)
            if truncation is not None:
                room = int(truncation["max_length"]) - (2 if add_special_tokens else 0)
                ids, offsets = ids[: max(room, 0)], offsets[: max(room, 0)]
            if not add_special_tokens:
                return Encoding(ids, offsets, [0] * len(ids))
            return Encoding([self.cls_id, *ids, self.sep_id], [(0, 0), *offsets, (0, 0)], [None, *[0] * len(ids), None])
        first, second = item
        first_ids, first_offsets = self.tokens(first)
        second_ids, second_offsets = self.tokens(second)
        parts = [(0, len(second_ids))]
        if truncation is not None:
            room = int(truncation["max_length"]) - len(first_ids) - 4
            stride = int(truncation.get("stride", 0))
            if room <= stride:
                raise ValueError(f"the first text takes {len(first_ids)} tokens: no room is left for windows of the second")
            parts = _windows(len(second_ids), room, stride)
        encodings = [
            Encoding(
                [self.cls_id, *first_ids, self.sep_id, self.sep_id, *second_ids[start:stop], self.sep_id],
                [(0, 0), *first_offsets, (0, 0), (0, 0), *second_offsets[start:stop], (0, 0)],
                [None, *[0] * len(first_ids), None, None, *[1] * (stop - start), None],
            )
            for start, stop in parts
        ]
        encodings[0].overflowing = encodings[1:]
        return encodings[0]


def _windows(length: int, size: int, stride: int) -> list[tuple[int, int]]:
    """``tokenizers``' right truncation with overflow: windows of ``size`` tokens every ``size - stride``, until one reaches the end."""
    if length <= size:
        return [(0, length)]
    ranges: list[tuple[int, int]] = []
    for start in range(0, length, size - stride):
        stop = min(start + size, length)
        ranges.append((start, stop))
        if stop == length:
            break
    return ranges


def _through_expanded(text: str, begin: int, end: int, length: int) -> int:
    """``end``, moved past a character NFKC expands (« ǆ » → « dž ») that the piece takes only part of.

    SentencePiece leaves such a character out of the pieces sharing it; tokenizers gives it to each.
    """
    produced = sum(len(_normalised(character).strip(" ")) for character in text[begin:end])
    while produced < length and end < len(text):
        produced += len(_normalised(text[end]).strip(" "))
        end += 1
    return end


def _byte_to_character(text: str) -> list[int]:
    """For each UTF-8 byte position of ``text`` (and its end), the character position it falls in."""
    positions: list[int] = []
    for index, character in enumerate(text):
        positions.extend([index] * len(character.encode("utf-8")))
    positions.append(len(text))
    return positions
