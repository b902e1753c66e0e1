"""Follow-up questions: the gate, the resolution against the conversation's topic, the retriever, the CLI and eval, bad histories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coopqa.errors import InvalidHistoryError
from coopqa.pipeline import Assistant, answer_to_json, clean_history
from coopqa.search.conversation import MAX_HISTORY_TURNS, is_follow_up, resolve

COOPQA = str(Path(sys.executable).parent / "coopqa")


@pytest.mark.parametrize(
    "question",
    [
        "Et la quatrième ?",
        "Quelle est sa durée ?",
        "Qui l'a signé ?",
        "Et celle de l'OIM ?",
        "C'était quand ?",
        "Pour combien de temps ?",
        "وأي حكومة أطلقت مساره بعد ذلك؟",  # « And which government then launched its process? »: long, but opens on و
        "And the fourth?",
        "And who proposed setting it up?",  # long, but opens on « And »
        "What about the Athens meeting?",
    ],
)
def test_elliptical_and_pronoun_questions_are_follow_ups(question: str) -> None:
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    [
        "Qui finance le projet AMEM ?",
        "Depuis quand le Maroc est-il membre de l'OIM ?",
        "Le projet IRAM s'est terminé quand ?",
        "Que signifie le sigle PISERUMA ?",
        "ما هي الميزانية الإجمالية لمشروع AMEM؟",
        "وزارة الشؤون الخارجية، ما هو دورها في مشروع AMEM؟",  # a word that starts with و is no conjunction
        "Android apps for the AMEM project?",  # « and » inside a word opens nothing
        "Which country hosted the 7th Global Forum on Migration and Development?",
    ],
)
def test_questions_that_stand_alone_are_not(question: str) -> None:
    assert not is_follow_up(question)
    assert resolve(question, ["Où s'est tenue la troisième réunion du FMMD ?"]).searched == question


def test_a_follow_up_is_searched_with_the_conversation_topic() -> None:
    resolved = resolve("Et la quatrième ?", ["Qui finance le projet AMEM ?", "Où s'est tenue la troisième réunion du FMMD ?"])
    assert resolved.searched == "Où s'est tenue la troisième réunion du FMMD ? Et la quatrième ?"
    chained = resolve("Qui l'a mis en œuvre ?", ["Quel était le budget du projet SHARAKA ?", "Et sa durée ?"])
    assert chained.searched == "Quel était le budget du projet SHARAKA ? Et sa durée ? Qui l'a mis en œuvre ?"
    assert resolve("Et la quatrième ?", []).searched == "Et la quatrième ?"


def test_follow_up_cites_the_right_passage(retriever: Assistant) -> None:
    answer = retriever.ask("Et la quatrième ?", history=["Où s'est tenue la troisième réunion du FMMD ?"])
    assert not answer.abstained and "Mexico 2010" in answer.hits[0].passage.text
    record = answer_to_json(answer)
    assert record["question"] == "Et la quatrième ?" and record["searched"].startswith("Où s'est tenue la troisième réunion")
    durée = retriever.ask("Et sa durée ?", history=["Quel était le budget du projet SHARAKA ?"])
    assert not durée.abstained and "SHARAKA" in durée.searched


def test_a_follow_up_gets_its_short_answer_read_from_the_question_as_asked(reading_retriever: Assistant) -> None:
    # Read as searched (« Quel était le budget … ? Et sa durée ? ») the reader answers the budget; read as asked, the duration.
    durée = reading_retriever.ask("Et sa durée ?", history=["Quel était le budget du projet SHARAKA ?"])
    assert durée.short is not None and "3 ans" in durée.short.text and "271" not in durée.short.text
    record = answer_to_json(durée)
    assert record["answer"]["text"] == durée.short.text and record["answer"]["passage_rank"] == 1
    passage = durée.hits[0].passage
    assert passage.text[durée.short.start - passage.start : durée.short.end - passage.start] == durée.short.text


def test_unrelated_history_does_not_move_a_standalone_question(retriever: Assistant) -> None:
    question = "Depuis quand le Maroc est-il membre de l'OIM ?"
    alone, after = retriever.ask(question), retriever.ask(question, history=["Qui finance le projet AMEM ?", "Et le budget ?"])
    assert after.searched == question
    assert [hit.passage.start for hit in after.hits] == [hit.passage.start for hit in alone.hits]


@pytest.mark.parametrize(
    ("history", "words"),
    [
        ("Qui finance AMEM ?", "must be a list"),
        ([1, 2], '"history"[0]'),
        (["ok ?", "  "], '"history"[1]'),
        (["x" * 2000], "limit"),
        (["Qui ?"] * (MAX_HISTORY_TURNS + 1), f"{MAX_HISTORY_TURNS}-turn limit"),
        (["bad \ud800 text"], "surrogate"),
    ],
)
def test_bad_histories_are_one_line_errors_naming_the_field(history: object, words: str) -> None:
    with pytest.raises(InvalidHistoryError, match="history") as raised:
        clean_history(history, 1000)
    assert words in raised.value.one_line() and "\n" not in raised.value.one_line()


def test_cli_batch_reads_history_and_refuses_a_bad_one(cli_env: dict[str, str], tmp_path: Path) -> None:
    batch = tmp_path / "batch.jsonl"
    line = {"id": "c1", "question": "Et le budget ?", "history": ["Qui finance le projet AMEM ?"]}
    batch.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    run = subprocess.run([COOPQA, "ask", "--batch", str(batch), "--json", "-k", "1"], env=cli_env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    record = json.loads(run.stdout)
    assert record["id"] == "c1" and record["searched"] == "Qui finance le projet AMEM ? Et le budget ?" and not record["abstained"]
    assert "2.400.000 Euros" in record["passages"][0]["text"]
    batch.write_text('{"question": "Et le budget ?", "history": "Qui finance le projet AMEM ?"}\n', encoding="utf-8")
    bad = subprocess.run([COOPQA, "ask", "--batch", str(batch), "--json"], env=cli_env, capture_output=True, text=True, timeout=180)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "line 1" in bad.stderr and '"history"' in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_eval_reads_history_and_reports_follow_ups_as_their_own_rows(cli_env: dict[str, str], tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent / "qa" / "coopqa-conversations.jsonl"
    lines = root.read_text(encoding="utf-8").splitlines()
    subset = tmp_path / "conversations.jsonl"
    subset.write_text("\n".join(lines[:8] + lines[-4:]) + "\n", encoding="utf-8")
    run = subprocess.run([COOPQA, "eval", str(subset), "--modes", "hybrid", "--quiet"], env=cli_env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "kind followup" in run.stdout and "kind standalone" in run.stdout
    row = next(line for line in run.stdout.splitlines() if line.startswith("kind followup")).split()
    assert row[2] == "8" and float(row[3]) >= 0.75  # 8 follow-ups, hit@1


def test_a_follow_up_reuses_the_vector_of_the_turn_before(retriever: Assistant) -> None:
    import numpy as np

    from coopqa.search.conversation import SearchVectors

    encoded: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        encoded.append(texts)
        return retriever.embedder.encode_queries(texts)

    vectors = SearchVectors(encode)
    first = resolve("Où s'est tenue la troisième réunion du FMMD ?", [])
    vectors.vectors([first])
    follow_up = resolve("Et la quatrième ?", [first.question])
    (vector,) = vectors.vectors([follow_up])
    assert encoded == [[first.question], ["Et la quatrième ?"]], "the topic's vector was known: only the new question is encoded"
    assert abs(float((vector**2).sum()) - 1.0) < 1e-5


def test_chat_words_a_bad_history_in_french() -> None:
    from coopqa.ui.app import explain

    with pytest.raises(InvalidHistoryError) as raised:
        clean_history(["Qui ?"] * (MAX_HISTORY_TURNS + 1), 1000)
    message = explain(raised.value, "Et le budget ?", 1000)
    assert message.startswith("L'historique de la conversation n'est pas valide") and "Nouvelle conversation" in message
