"""The ``coopqa`` console script, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coopqa.pipeline import NO_ANSWER, Assistant
from tests.conftest import DOCUMENT

PASSAGE_KEYS = {"rank", "doc", "section", "start", "end", "text", "score", "highlight"}


def coopqa(*args: str, env: dict[str, str], stdin: str | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    beside_python = Path(sys.executable).parent / "coopqa"
    executable = str(beside_python) if beside_python.is_file() else shutil.which("coopqa")
    assert executable, "the coopqa console script is not installed (pip install -e .)"
    return subprocess.run([executable, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coopqa: error:"), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.slow
def test_ask_json_follows_the_contract(retriever: Assistant, cli_env: dict[str, str], settings) -> None:  # type: ignore[no-untyped-def]
    result = coopqa("ask", "Qui finance le projet AMEM ?", "-k", "3", "--json", env=cli_env)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["abstained"] is False and record["question"] == "Qui finance le projet AMEM ?"
    assert len(record["passages"]) == 3 and record["latency_ms"] > 0
    text = (settings.corpus_dir / DOCUMENT).read_text(encoding="utf-8")
    for rank, passage in enumerate(record["passages"], start=1):
        assert set(passage) == PASSAGE_KEYS and passage["rank"] == rank and passage["doc"] == DOCUMENT
        assert text[passage["start"] : passage["end"]] == passage["text"]
        assert passage["start"] <= passage["highlight"]["start"] < passage["highlight"]["end"] <= passage["end"]
    first = record["passages"][0]
    assert "Agence Italienne" in text[first["highlight"]["start"] : first["highlight"]["end"]]
    assert first["section"].startswith("Coopération avec L’Organisation Internationale du Travail")


@pytest.mark.slow
def test_ask_text_output_cites_and_highlights(retriever: Assistant, cli_env: dict[str, str]) -> None:
    result = coopqa("ask", "Quel est le budget du projet SHARAKA ?", "--mode", "bm25", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "5 271 000 euros" in result.stdout and "[1] cooperation-multilaterale.txt" in result.stdout
    assert "«« " in result.stdout


@pytest.mark.slow
def test_ask_abstains_in_plain_words(retriever: Assistant, cli_env: dict[str, str]) -> None:
    result = coopqa("ask", "Quelle est la recette du couscous ?", env=cli_env)
    assert result.returncode == 0 and NO_ANSWER in result.stdout and "peut-être utiles" in result.stdout


@pytest.mark.slow
def test_batch_answers_every_line_and_passes_fields_through(retriever: Assistant, cli_env: dict[str, str], tmp_path: Path) -> None:
    batch = tmp_path / "questions.jsonl"
    lines = [
        {"id": "a", "question": "Qui préside le Groupe Thématique Migration ?", "lot": 1},
        {"question": "Quand l'OIT a-t-elle été fondée ?"},
        {"id": 3, "question": "Qui a gagné le Tour de France 1998 ?"},
    ]
    batch.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\n", encoding="utf-8")
    result = coopqa("ask", "--batch", str(batch), "--json", env=cli_env)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["a", None, 3] and records[0]["lot"] == 1
    assert [r["abstained"] for r in records] == [False, False, True]
    assert all(r["passages"] for r in records)  # listed even when abstained


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"question": "Qui ?"}\n{"question": \n', "line 2: not valid JSON"),
        ('{"question": "Qui finance AMEM ?"}\n["question"]\n', "line 2: expected a JSON object"),
        ('{"id": 1}\n', 'line 1: "question" must be a non-empty string'),
        ('{"question": "   "}\n', "line 1"),
        ('{"question": "' + "x" * 2000 + '"}\n', "line 1: the question is 2000 characters long"),
        ("", "holds no questions"),
    ],
)
def test_malformed_batch_names_the_line(cli_env: dict[str, str], tmp_path: Path, content: str, fragment: str) -> None:
    batch = tmp_path / "bad.jsonl"
    batch.write_text(content, encoding="utf-8")
    result = coopqa("ask", "--batch", str(batch), "--json", env=cli_env)
    assert_one_line_error(result, fragment)
    assert result.stdout == ""  # nothing answered for a bad file


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["ask", ""], "the question is empty"),
        (["ask", "   "], "the question is empty"),
        (["ask", "y" * 5000], "over the 1000-character limit"),
        (["ask"], "ask needs a question"),
        (["ask", "Qui ?", "-k", "0"], "k must be between 1 and 100"),
        (["--backend", "onnx-fp16", "ask", "Qui ?"], "backend must be one of onnx, onnx-int8, torch, got 'onnx-fp16'"),
        (["--corpus", "/nonexistent/corpus", "--index", "/tmp/coopqa-none", "index"], "corpus folder /nonexistent/corpus does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli_env: dict[str, str], args: list[str], fragment: str) -> None:
    assert_one_line_error(coopqa(*args, env=cli_env), fragment)


@pytest.mark.slow
def test_index_works_on_any_folder_of_documents(cli_env: dict[str, str], tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "note.md").write_text("# Note\n\n## Budget\n\nLe projet Atlas dispose de 12 millions d'euros.\n", encoding="utf-8")
    (corpus / "sub" / "page.html").write_text("<h1>Page</h1><p>Le projet Atlas est piloté par Rabat.</p>", encoding="utf-8")
    index = tmp_path / "idx"
    built = coopqa("--corpus", str(corpus), "--index", str(index), "index", env=cli_env)
    assert built.returncode == 0, built.stderr
    assert "2 document(s)" in built.stdout
    asked = coopqa("--corpus", str(corpus), "--index", str(index), "ask", "Combien d'argent pour le projet Atlas ?", "--json", env=cli_env)
    record = json.loads(asked.stdout)
    assert record["passages"][0]["doc"] == "note.md" and record["passages"][0]["section"] == "Budget"
    again = coopqa("--corpus", str(corpus), "--index", str(index), "index", env=cli_env)
    assert "Index à jour" in again.stdout


@pytest.mark.slow
def test_non_utf8_corpus_file_is_refused_without_touching_the_index(cli_env: dict[str, str], tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "bon.txt").write_text("Le projet Atlas est piloté par Rabat.", encoding="utf-8")
    index = tmp_path / "idx"
    assert coopqa("--corpus", str(corpus), "--index", str(index), "index", "--quiet", env=cli_env).returncode == 0
    before = sorted(p.name for p in index.iterdir())
    (corpus / "latin1.txt").write_bytes("Coopération".encode("latin-1"))
    result = coopqa("--corpus", str(corpus), "--index", str(index), "index", env=cli_env)
    assert_one_line_error(result, "latin1.txt is not valid UTF-8")
    assert sorted(p.name for p in index.iterdir()) == before
