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


def test_each_sentence_is_pooled_from_the_first_passage_holding_it_whole_at_its_exact_characters() -> None:
    text = "Premier point. Deuxième point, assez long pour chevaucher. Troisième point."
    first = Passage("d", ("Titre", "Partie"), 0, 60, text[0:60])
    second = Passage("d", (), 30, len(text), text[30:])
    sentences = np.array([(0, 14), (15, 58), (59, len(text))])
    found = sentence_places([first, second], sentences)
    # Both passages hold the middle sentence whole (an overlap): the first one reads it.
    assert found.places == [(0, 0), (0, 1), (1, 0)]
    assert [first.embedding_text()[a:b] for a, b in found.spans[0]] == ["Premier point.", text[15:58]]
    assert [second.embedding_text()[a:b] for a, b in found.spans[1]] == ["Troisième point."]


def test_a_sentence_no_passage_holds_whole_is_left_to_be_encoded_alone() -> None:
    text = "Une phrase que le découpage a coupée en deux morceaux."
    found = sentence_places([Passage("d", (), 0, 25, text[:25]), Passage("d", (), 20, len(text), text[20:])], np.array([(0, len(text))]))
    assert found.places == [None]
    assert sentence_places([Passage("d", (), 0, 10, "x" * 10)], np.array([(20, 30)])).places == [None]


def test_a_pooled_sentence_reads_as_that_sentence_and_not_its_neighbour(embedder: Embedder) -> None:
    sentences = ["Le budget du projet est de cinq millions d'euros.", "La réunion s'est tenue à Genève en décembre."]
    text = " ".join(sentences)
    spans = [(0, len(sentences[0])), (len(sentences[0]) + 1, len(text))]
    _, pooled = embedder.encode_passages_with_spans([text], [spans])
    alone = embedder.encode_passages(sentences)
    similarity = pooled[0] @ alone.T
    assert similarity[0, 0] > similarity[0, 1] and similarity[1, 1] > similarity[1, 0], similarity


def test_an_unknown_way_of_getting_sentence_vectors_is_a_one_line_error() -> None:
    with pytest.raises(ConfigError, match="sentence_vectors must be one of"):
        load_settings({"sentence_vectors": "pooled"}, environ={})


def test_a_late_chunked_index_answers_the_shipped_questions_as_the_two_pass_index(
    retriever: Assistant, settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    late = replace(settings, index_dir=tmp_path / "index", sentence_vectors="late")
    report = build_index(late, embedder, progress=False)
    assert report.reused_documents == 0
    data = load_index(late.index_dir)
    assert data.manifest["sentence_vectors"] == "late" and data.manifest["late_chunking"] >= 1
    # Passages are encoded exactly as before; each sentence's vector stays close to its own pass's.
    assert np.allclose(data.passage_vector_table, retriever.data.passage_vector_table, atol=1e-4)
    cosines = (np.asarray(data.sentence_vectors) * np.asarray(retriever.data.sentence_vectors)).sum(axis=1)
    assert 0.85 < float(np.median(cosines)) < 0.99 and float(cosines.min()) > 0.7  # pooled, not encoded again
    assistant = Assistant(data, embedder, late)
    questions = [json.loads(line)["question"] for line in (ROOT / "qa" / "coopqa-fr.jsonl").read_text(encoding="utf-8").splitlines()[:60]]
    differ = [q for q in questions if _first_passage(assistant, q) != _first_passage(retriever, q)]
    assert len(differ) <= 1, differ
    # The two kinds of vectors are never mixed: the two-pass settings embed every document again.
    assert build_index(replace(late, sentence_vectors="separate"), embedder, progress=False).reused_documents == 0


def _first_passage(assistant: Assistant, question: str) -> tuple[str, int] | None:
    hits = assistant.ask(question).hits
    return (hits[0].passage.doc_id, hits[0].passage.start) if hits else None
