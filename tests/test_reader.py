"""The reader: the short answer and its span, reading in windows, the highlight around it, bad weights, the metrics.

The real shipped reader weights, exported to ONNX once per session, read real passages of the shipped corpus.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coopqa.config import Settings
from coopqa.errors import ModelError
from coopqa.evaluation.answers import best_over_golds, exact_match, normalise_answer, token_f1
from coopqa.evaluation.splits import article_split
from coopqa.model import open_reader
from coopqa.model.reader_model import shipped_reader_weights
from coopqa.pipeline import Assistant, Reader
from coopqa.reading.highlight import MAX_HIGHLIGHT_CHARS, clause_around

from .conftest import DOCUMENT, PIAF

# --------------------------------------------------------------------------- the answer itself


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Quel est le budget du projet AMEM ?", "2.400.000 Euros"),
        ("Quand s'est tenu le Dialogue de haut niveau de l'ONU d'où est sorti le FMMD ?", "2006"),
        ("Depuis quelle réunion le secteur privé a-t-il une session spéciale au Forum ?", "Berlin"),
    ],
)
def test_short_answer_is_the_fact_and_its_exact_span(reading_retriever: Assistant, question: str, expected: str) -> None:
    answer = reading_retriever.ask(question)
    assert not answer.abstained and answer.short is not None
    short = answer.short
    document = reading_retriever.data.documents[short.doc].text
    assert document[short.start : short.end] == short.text
    assert expected in short.text and len(short.text) < 80
    best = answer.hits[short.passage_rank - 1]
    assert best.passage.start <= short.start and short.end <= best.passage.end
    # the highlight is the clause that holds the answer, short enough to quote
    assert best.highlight_start <= short.start and short.end <= best.highlight_end
    assert best.highlight_end - best.highlight_start <= MAX_HIGHLIGHT_CHARS


@pytest.mark.parametrize("window", [0, 1])
def test_reading_a_window_of_sentences_still_gives_the_exact_span(reading_retriever: Assistant, window: int) -> None:
    """The reader may read only the highlighted sentence(s) and their neighbours: offsets must still be the document's."""
    settings = replace(reading_retriever.settings, reader_window=window)
    windowed = Assistant(reading_retriever.data, reading_retriever.embedder, settings, reader=reading_retriever.reader)
    answer = windowed.ask("Quel est le budget du projet AMEM ?")
    assert answer.short is not None and "2.400.000 Euros" in answer.short.text
    assert windowed.data.documents[answer.short.doc].text[answer.short.start : answer.short.end] == answer.short.text
    best = answer.hits[0]
    assert best.passage.start <= answer.short.start and answer.short.end <= best.passage.end


@pytest.mark.parametrize(
    ("question", "expected"),
    [("What is the budget of the AMEM project?", "2.400.000 Euros"), ("ما هي ميزانية مشروع AMEM؟", "2.400.000 Euros")],
)
def test_english_and_arabic_questions_get_the_french_short_answer(reading_retriever: Assistant, question: str, expected: str) -> None:
    answer = reading_retriever.ask(question)
    assert answer.language != "fr" and answer.short is not None
    assert expected in answer.short.text and len(answer.short.text) < 80
    assert reading_retriever.data.documents[answer.short.doc].text[answer.short.start : answer.short.end] == answer.short.text


@pytest.mark.slow
def test_answer_key_in_the_json_contract(cli_env: dict[str, str]) -> None:
    run = subprocess.run(
        [str(Path(sys.executable).parent / "coopqa"), "ask", "Quel est le budget du projet AMEM ?", "--json", "--reader", "on"],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=300,
        check=True,
    )
    record = json.loads(run.stdout)
    # keys are only ever added: "confident" came with the calibrated score
    assert set(record["answer"]) == {"text", "doc", "start", "end", "score", "passage_rank", "confident"}
    assert isinstance(record["answer"]["confident"], bool)
    assert record["answer"]["doc"] == DOCUMENT and "2.400.000" in record["answer"]["text"]
    passage = record["passages"][record["answer"]["passage_rank"] - 1]
    inside = record["answer"]["start"] - passage["start"]
    assert passage["text"][inside : inside + len(record["answer"]["text"])] == record["answer"]["text"]
    assert 0.0 < record["answer"]["score"] <= 1.0
    # every key the contract had before the reader is still there
    assert {"id", "question", "abstained", "message", "mode", "confidence", "passages", "latency_ms"} <= set(record)


@pytest.mark.slow
def test_reader_off_gives_a_null_answer_and_the_same_passages(cli_env: dict[str, str]) -> None:
    coopqa = str(Path(sys.executable).parent / "coopqa")
    question = "Quel est le budget du projet AMEM ?"
    records = {}
    for side in ("off", "on"):
        run = subprocess.run([coopqa, "ask", question, "--json", "--reader", side], capture_output=True, text=True, env=cli_env, timeout=300, check=True)
        records[side] = json.loads(run.stdout)
    assert records["off"]["answer"] is None and records["on"]["answer"] is not None
    # with one passage read there is no reranking: the same passages, in the same order
    assert [p["start"] for p in records["off"]["passages"]] == [p["start"] for p in records["on"]["passages"]]


def test_abstained_question_has_no_answer(reading_retriever: Assistant) -> None:
    answer = reading_retriever.ask("Qui a gagné la Coupe d'Afrique des nations 2019 ?")
    assert answer.abstained and answer.short is None


def test_a_passage_longer_than_one_window_is_read_to_its_end(reader: Reader) -> None:
    filler = "Le Maroc participe aux réunions régionales sur la migration et le développement. " * 40  # ~3,300 characters
    fact = "Le budget du programme Horizon est de 7.300.000 Euros."
    reading = reader.read("Quel est le budget du programme Horizon ?", [filler + fact])
    best = reading.best()
    assert best is not None
    assert "7.300.000" in (filler + fact)[best.start : best.end]


@pytest.mark.parametrize("question", ["What is the budget of the AMEM project?", "ما هي ميزانية مشروع AMEM؟", "?" * 3 + " AMEM", "x" * 900])
def test_questions_in_other_languages_or_odd_shapes_do_not_crash_the_reader(reader: Reader, reading_retriever: Assistant, question: str) -> None:
    passage = reading_retriever.data.passages[0].text
    reading = reader.read(question, [passage, passage[:50]])
    assert len(reading.spans) == 2
    for span in reading.spans:
        assert span is None or 0 <= span.start < span.end <= len(passage)


# --------------------------------------------------------------------------- highlight


@given(
    st.text(alphabet=st.sampled_from("abc ,;:()«»."), min_size=1, max_size=900),
    st.integers(min_value=0, max_value=899),
    st.integers(min_value=1, max_value=60),
)
def test_clause_around_holds_the_answer_and_fits(text: str, start: int, length: int) -> None:
    start = min(start, len(text) - 1)
    end = min(len(text), start + length)
    first, last = clause_around(text, start, end)
    assert first <= start and end <= last
    assert last - first <= max(MAX_HIGHLIGHT_CHARS, end - start)


def test_long_sentence_is_cut_at_its_clauses() -> None:
    sentence = (
        "Le programme, financé par l’Union européenne à hauteur de 10 millions d’euros, vise à renforcer la gouvernance migratoire, "
        "à protéger les migrants vulnérables et à appuyer leur intégration socio-économique dans les régions de l’Oriental, de Souss-Massa "
        "et de Tanger-Tétouan-Al Hoceima, en partenariat avec les collectivités territoriales, la société civile et les agences des Nations Unies."
    )
    at = sentence.index("10 millions")
    first, last = clause_around(sentence, at, at + len("10 millions d’euros"), limit=120)
    assert sentence[first:last] == "Le programme, financé par l’Union européenne à hauteur de 10 millions d’euros,"


# --------------------------------------------------------------------------- bad weights


@pytest.fixture
def own_model_cache(settings: Settings, tmp_path: Path) -> Settings:
    """Settings with a model cache of the test's own, the converted e5 folder linked in (only read): reader exports
    written or damaged there never touch the shared cache another coopqa process may be reading."""
    from coopqa.model.embedder import default_model_folder

    own = replace(settings, model_cache=tmp_path / "models")
    own.model_cache.mkdir()
    default_model_folder(own).symlink_to(default_model_folder(settings), target_is_directory=True)
    return own


def test_missing_reader_weights_are_a_one_line_error(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ModelError) as raised:
        open_reader(settings, weights=tmp_path / "reader-delta.safetensors", progress=False)
    assert "reader-delta.safetensors" in str(raised.value) and "\n" not in str(raised.value)


def test_damaged_reader_weights_are_a_one_line_error(settings: Settings, tmp_path: Path) -> None:
    damaged = tmp_path / "reader-delta.safetensors"
    shutil.copyfile(shipped_reader_weights(), damaged)
    with damaged.open("r+b") as handle:
        handle.truncate(damaged.stat().st_size // 2)
    with pytest.raises(ModelError) as raised:
        open_reader(settings, weights=damaged, progress=False)
    assert str(damaged) in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["reader.onnx", "word_embeddings.npy"], ids=["graph", "token-table"])
def test_damaged_reader_export_is_exported_again(settings: Settings, reader: Reader, name: str, own_model_cache: Settings) -> None:
    from coopqa.model.embedder import default_model_folder
    from coopqa.model.reader_model import reader_export_folder

    # Damage a copy in a model cache of its own: the shared cache may serve another coopqa process meanwhile
    # (an eval run once read the table this test had cut).
    own = own_model_cache
    digest = hashlib.sha256(shipped_reader_weights().read_bytes()).hexdigest()
    shared = reader_export_folder(settings.model_cache, default_model_folder(settings), digest)
    copy = reader_export_folder(own.model_cache, default_model_folder(own), digest)
    shutil.copytree(shared, copy)
    damaged = copy / name
    size = damaged.stat().st_size
    with damaged.open("r+b") as handle:
        handle.truncate(size // 3)
    again = Reader(open_reader(own, progress=False))
    assert damaged.stat().st_size == size
    assert again.read("Quel est le budget du projet AMEM ?", ["Le projet AMEM dispose d’un budget de 2.400.000 Euros."]).best() is not None


@pytest.mark.slow
def test_a_shallower_reader_delta_is_served_with_its_own_depth(settings: Settings, own_model_cache: Settings, tmp_path: Path) -> None:
    """A delta trained on e5's bottom layers only (``train_reader.py --layers N``) runs as that shallow network.

    The reference is built here, independently of the export: were the runtime to lay the delta over all twelve
    layers, its logits would differ from this two-layer network's.
    """
    import numpy as np
    import torch
    from safetensors.torch import save_file

    from coopqa.model.embedder import default_model_folder
    from coopqa.model.reader_model import ReaderTokenizer
    from coopqa.model.reader_net import ReaderNet, trainable_parameter_names

    own = own_model_cache
    torch.manual_seed(0)
    net = ReaderNet.from_encoder_folder(default_model_folder(settings), frozen_layers=1, layers=2)
    delta = {name: parameter.detach().to(torch.float16).contiguous() for name, parameter in net.named_parameters() if name in trainable_parameter_names(net)}
    weights = tmp_path / "reader-delta.safetensors"
    save_file(delta, str(weights), metadata={"frozen_layers": "1", "layers": "2"})
    net.load_state_dict({name: tensor.to(torch.float32) for name, tensor in delta.items()}, strict=False)

    session = open_reader(own, weights=weights, progress=False, model_file="reader.onnx")
    window = ReaderTokenizer(default_model_folder(settings)).windows([("Quel est le budget ?", "Le projet dispose de 2.400.000 Euros.")])[0]
    ids = np.array([window.ids], dtype=np.int64)
    with torch.no_grad():
        expected = [tensor.numpy() for tensor in net.eval()(torch.from_numpy(ids), torch.from_numpy(np.ones_like(ids)))]
    served = session.logits(ids, np.ones_like(ids))
    assert net.layers == 2
    assert max(float(np.abs(a - b).max()) for a, b in zip(served, expected)) < 1e-2


@pytest.mark.parametrize(
    ("text", "piece", "whole"),
    [
        ("un budget de 2.400.000 Euros pour", "2.400.000 Euro", "2.400.000 Euros"),
        ("un budget de 2.400.000 Euros pour", "400.000", "2.400.000"),
        ("lancé en novembre 2018, à Rabat", "ovembre 201", "novembre 2018"),
        ("l’Agence Italienne de Coopération", "Agence Italienne", "Agence Italienne"),
        ("3 ans. Fin", "3 ans", "3 ans"),
    ],
)
def test_a_short_answer_never_cuts_a_word(text: str, piece: str, whole: str) -> None:
    from coopqa.reading.spans import _whole_words

    start = text.index(piece)
    assert text[slice(*_whole_words(text, start, start + len(piece)))] == whole


# --------------------------------------------------------------------------- metrics and split


def test_french_answer_normalisation() -> None:
    assert normalise_answer("l’Organisation Internationale pour les Migrations") == ["organisation", "internationale", "pour", "migrations"]
    assert exact_match("l'OIM", "OIM") == 1.0
    assert exact_match("Etat", "État") == 1.0
    assert exact_match("le 14 septembre", "14 septembre 2006") == 0.0
    assert token_f1("14 septembre", "14 septembre 2006") == pytest.approx(0.8)
    assert token_f1("", "2006") == 0.0
    assert best_over_golds("2006", ["2006", "septembre"]) == (1.0, 1.0)
    assert best_over_golds("en 2006", ["2006"]) == (0.0, pytest.approx(2 / 3))


def test_piaf_split_is_by_article_and_stable() -> None:
    data = json.loads(PIAF.read_text(encoding="utf-8"))["data"]
    splits = {article["title"]: article_split(article["title"]) for article in data}
    counts = {name: sum(1 for split in splits.values() if split == name) for name in ("train", "calibration", "test")}
    assert counts["train"] > counts["test"] > counts["calibration"] > 0
    assert splits == {title: article_split(title) for title in splits}
