"""Late chunking: sentence vectors pooled from their passage's single encoder pass (``sentence_vectors = "late"``).

What a user relies on: the build reads every text once instead of twice, the index answers as the two-pass one
does, and an index is never silently mixed from both kinds of sentence vectors.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from coopqa.config import ConfigError, Settings, load_settings
from coopqa.documents import Passage
from coopqa.index.late_chunking import sentence_places
from coopqa.index.store import build_index, load_index
from coopqa.model import Embedder
from coopqa.pipeline import Assistant

ROOT = Path(__file__).resolve().parents[1]


def test_each_sentence_is_pooled_from_the_passage_holding_most_of_it_at_its_exact_characters() -> None:
    text = "Premier point. Deuxième point, assez long pour chevaucher. Troisième point."
    first = Passage("d", ("Titre", "Partie"), 0, 40, text[0:40])
    second = Passage("d", (), 30, len(text), text[30:])
    sentences = np.array([(0, 14), (15, 58), (59, len(text))])
    found = sentence_places([first, second], sentences)
    # The middle sentence lies 25 characters in the first passage and 28 in the second: the second holds most.
    assert found.places == [(0, 0), (1, 0), (1, 1)]
    assert [first.embedding_text()[a:b] for a, b in found.spans[0]] == ["Premier point."]
    assert [second.embedding_text()[a:b] for a, b in found.spans[1]] == [text[30:58], "Troisième point."]


def test_a_sentence_outside_every_passage_is_left_to_be_encoded_alone() -> None:
    found = sentence_places([Passage("d", (), 0, 10, "x" * 10)], np.array([(20, 30)]))
    assert found.places == [None]


def test_late_chunking_needs_an_onnx_backend() -> None:
    with pytest.raises(ConfigError, match="ONNX backend"):
        load_settings({"sentence_vectors": "late", "backend": "torch"}, environ={})
    with pytest.raises(ConfigError, match="sentence_vectors must be one of"):
        load_settings({"sentence_vectors": "pooled"}, environ={})


def test_a_late_chunked_index_answers_the_shipped_questions_as_the_two_pass_index(
    retriever: Assistant, settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    late = replace(settings, index_dir=tmp_path / "index", sentence_vectors="late")
    report = build_index(late, embedder, progress=False)
    assert report.reused_documents == 0
    data = load_index(late.index_dir)
    assert data.manifest["sentence_vectors"] == "late"
    # Passages are encoded exactly as before; each sentence's vector stays close to its own pass's.
    assert np.allclose(data.passage_vector_table, retriever.data.passage_vector_table, atol=1e-4)
    cosines = (np.asarray(data.sentence_vectors) * np.asarray(retriever.data.sentence_vectors)).sum(axis=1)
    assert float(np.median(cosines)) > 0.85 and float(cosines.min()) > 0.7
    assistant = Assistant(data, embedder, late)
    questions = [json.loads(line)["question"] for line in (ROOT / "qa" / "coopqa-fr.jsonl").read_text(encoding="utf-8").splitlines()[:60]]
    differ = [q for q in questions if _first_passage(assistant, q) != _first_passage(retriever, q)]
    assert len(differ) <= 1, differ
    # The two kinds of vectors are never mixed: the two-pass settings embed every document again.
    assert build_index(replace(late, sentence_vectors="separate"), embedder, progress=False).reused_documents == 0


def _first_passage(assistant: Assistant, question: str) -> tuple[str, int] | None:
    hits = assistant.ask(question).hits
    return (hits[0].passage.doc_id, hits[0].passage.start) if hits else None
