"""``coopqa eval``: QA formats, metrics checked against ranx, reports, thresholds, SQuAD benchmarks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from coopqa.cli import main
from coopqa.config import Settings
from coopqa.documents.chunking import Passage
from coopqa.errors import InputFileError
from coopqa.evaluation.command import threshold_failures
from coopqa.evaluation.metrics import KS, Judge, ModeReport, ParagraphJudge, evaluate, judge_answer
from coopqa.evaluation.qa_formats import QAItem, read_qa_file
from coopqa.model.embedder import Embedder
from coopqa.pipeline import Answer, Assistant, Hit
from tests.conftest import QA_FILE, ROOT

EVIDENCE = "Le Gouvernement belge a œuvré par la suite pour le lancement du processus du FMMD"
SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "Volcan",
            "paragraphs": [
                {
                    "context": "Le Piton de la Fournaise est un volcan de l'île de La Réunion. Il entre en éruption presque chaque année.",
                    "qas": [
                        {"id": "v1", "question": "Sur quelle île est le Piton de la Fournaise ?", "answers": [{"text": "La Réunion", "answer_start": 50}]},
                        {"id": "v2", "question": "Qui a construit le Piton de la Fournaise ?", "answers": [], "is_impossible": True},
                    ],
                },
                {
                    "context": "Le Mont Blanc culmine à 4 806 mètres dans les Alpes, à la frontière entre la France et l'Italie.",
                    "qas": [{"id": "v3", "question": "Quelle est l'altitude du Mont Blanc ?", "answers": [{"text": "4 806 mètres", "answer_start": 24}]}],
                },
            ],
        },
        {
            "title": "Cuisine",
            "paragraphs": [
                {
                    "context": "La ratatouille est un plat provençal fait d'aubergines, de courgettes, de poivrons et de tomates.",
                    "qas": [{"id": "c1", "question": "De quelle région vient la ratatouille ?", "answers": [{"text": "provençal", "answer_start": 27}]}],
                }
            ],
        },
    ],
}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(*records: dict[str, Any] | str) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records)


# --------------------------------------------------------------------------- formats


def test_formats_are_detected_from_the_content(tmp_path: Path) -> None:
    lines = jsonl({"question": "Qui ?", "answer": "x"}, {"question": "Quoi ?", "answer": "y"})
    assert read_qa_file(write(tmp_path / "a.jsonl", lines)).format == "jsonl"
    assert read_qa_file(write(tmp_path / "set.txt", lines)).format == "jsonl"  # the suffix does not decide
    assert read_qa_file(write(tmp_path / "one.json", jsonl({"question": "Qui ?", "answer": "x"}))).format == "jsonl"
    assert read_qa_file(write(tmp_path / "b.csv", "question,answer\nQui ?,x\n")).format == "csv"
    assert read_qa_file(write(tmp_path / "c.json", json.dumps(SQUAD))).format == "squad"


def test_jsonl_fields_and_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path / "qa.jsonl",
        jsonl(
            {"id": "q1", "question": "Qui a lancé le FMMD ?", "answer": "Le Gouvernement belge", "evidence": EVIDENCE, "doc": "d.txt"},
            "",
            {"question": "Deux réponses ?", "answers": ["a", "b"]},
            {"id": 7, "question": "Hors sujet ?", "answerable": False},
        ),
    )
    first, second, third = read_qa_file(path).items
    assert (first.qid, first.answers, first.evidence, first.doc, first.answerable) == ("q1", ("Le Gouvernement belge",), EVIDENCE, "d.txt", True)
    assert (second.qid, second.answers, second.line) == ("line-3", ("a", "b"), 3)
    assert (third.qid, third.answerable, third.answers) == ("7", False, ())


def test_csv_columns_delimiters_and_row_lines(tmp_path: Path) -> None:
    text = '\ufeffid;question;answers;evidence;answerable\nc1;"Sur deux\nlignes ?";"[""a"", ""b""]";;\nc2;Sans réponse ?;;;non\n'
    qaset = read_qa_file(write(tmp_path / "qa.csv", text))
    assert [(i.qid, i.question, i.answers, i.answerable, i.line) for i in qaset.items] == [
        ("c1", "Sur deux\nlignes ?", ("a", "b"), True, 2),
        ("c2", "Sans réponse ?", (), False, 4),  # the quoted newline makes row 2 span two lines
    ]


def test_squad_paragraphs_become_documents_and_v2_impossible_is_unanswerable(tmp_path: Path) -> None:
    data = json.loads(json.dumps(SQUAD))
    repeated = dict(data["data"][0]["paragraphs"][1], qas=[{"id": "v4", "question": "Et encore ?", "answers": [{"text": "Alpes"}]}])
    data["data"].append({"title": "Volcan", "paragraphs": [repeated]})
    qaset = read_qa_file(write(tmp_path / "squad.json", json.dumps(data, ensure_ascii=False)))
    assert (qaset.format, qaset.version, qaset.merged_paragraphs) == ("squad", "v2.0", 1)
    assert [d.doc_id for d in qaset.documents] == ["Volcan/0", "Volcan/1", "Cuisine/0"]
    document = qaset.documents[0]
    assert document.sections[0].start == 0 and document.sections[0].end == len(document.text) and document.sections[0].path == ("Volcan",)
    by_id = {item.qid: item for item in qaset.items}
    assert by_id["v1"].answers == ("La Réunion",) and by_id["v1"].doc == "Volcan/0"
    assert by_id["v2"].answerable is False
    assert by_id["v4"].doc == "Volcan/1"  # same text as Volcan/1: one paragraph, so one relevant unit


@pytest.mark.parametrize(
    ("name", "text", "where", "reason"),
    [
        ("bad.jsonl", jsonl({"question": "ok ?", "answer": "x"}, "{not json", {"question": "ok ?", "answer": "y"}), "line 2", "not valid JSON"),
        ("bad.jsonl", jsonl({"question": "ok ?", "answer": "x"}, {"question": ""}, {"question": "ok ?"}), "line 2", '"question" must be'),
        ("bad.jsonl", jsonl({"question": "a ?", "answer": "x"}, {"question": "b ?", "answerable": "oui"}, {"question": "c"}), "line 2", '"answerable"'),
        ("dup.jsonl", jsonl({"id": "q", "question": "a ?", "answer": "x"}, {"id": "q", "question": "b ?", "answer": "y"}, {}), "line 2", "already used"),
        ("bad.csv", "question,answer,answerable\nok ?,x,true\nko ?,x,peut-être\n\nencore ?,y,\n", "row at line 3", '"answerable" must be'),
        ("bad.csv", 'question,answers\nko ?,x\nok ?,"[""x""]"\n', "row at line 2", '"answers" must be a JSON list'),
    ],
)
def test_malformed_rows_stop_with_their_line_or_are_counted(tmp_path: Path, name: str, text: str, where: str, reason: str) -> None:
    path = write(tmp_path / name, text)
    with pytest.raises(InputFileError, match="--skip-invalid") as stopped:
        read_qa_file(path)
    assert f"{path} {where}: " in stopped.value.message and reason in stopped.value.message
    qaset = read_qa_file(path, skip_invalid=True)
    assert qaset.problems[0].where == where and reason in qaset.problems[0].reason
    assert len(qaset.items) + len(qaset.problems) == sum(1 for line in text.splitlines()[int(name.endswith(".csv")) :] if line.strip())


def test_malformed_squad_questions_are_named_by_id_and_path(tmp_path: Path) -> None:
    data = json.loads(json.dumps(SQUAD))
    data["data"][0]["paragraphs"][0]["qas"][0]["answers"] = [{"text": "la Corse", "answer_start": 0}]
    data["data"][1]["paragraphs"].append({"qas": [{"id": "x", "question": "?"}]})
    path = write(tmp_path / "squad.json", json.dumps(data, ensure_ascii=False))
    with pytest.raises(InputFileError, match=r"question v1 \(data\[0\]\.paragraphs\[0\]\.qas\[0\]\): the answer 'la Corse' does not occur"):
        read_qa_file(path)
    qaset = read_qa_file(path, skip_invalid=True)
    assert [p.where for p in qaset.problems] == ["question v1 (data[0].paragraphs[0].qas[0])", "data[1].paragraphs[1]"]
    assert "its 1 question(s) are skipped" in qaset.problems[1].reason and len(qaset.items) == 3


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["question", "answer", "answers", "data", "qas", "context", "id"]), inner),
    max_leaves=10,
)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    suffix=st.sampled_from([".jsonl", ".csv", ".json"]),
    body=st.one_of(st.text(max_size=80), st.lists(JSON_VALUES, max_size=3).map(lambda values: "\n".join(json.dumps(v) for v in values))),
)
def test_any_file_is_read_or_refused_in_one_line(tmp_path: Path, suffix: str, body: str) -> None:
    """Whatever the file holds, the reader returns questions or raises InputFileError, never a traceback."""
    path = tmp_path / f"fuzz{suffix}"
    path.write_text(body, encoding="utf-8", errors="surrogatepass")
    for skip in (False, True):
        try:
            qaset = read_qa_file(path, skip_invalid=skip)
        except InputFileError as error:
            assert "\n" not in error.one_line().replace(body, "")
        else:
            assert qaset.items and all(item.question.strip() for item in qaset.items)


# --------------------------------------------------------------------------- metrics against ranx


def ranx_scores(report: ModeReport) -> dict[str, float]:
    """The same judged rankings scored by ranx, an independent implementation."""
    from ranx import Qrels, Run
    from ranx import evaluate as ranx_evaluate

    judged = [j for j in report.judged if j.item.answerable]
    qrels = Qrels({j.item.qid: {cast(str, j.target): 1} for j in judged})
    run = Run({j.item.qid: {unit: float(len(j.ranking) - i) for i, unit in enumerate(j.ranking)} for j in judged})
    names = [f"hit_rate@{k}" for k in KS] + [f"recall@{k}" for k in KS] + ["mrr@10", "ndcg@10"]
    return {name.replace("hit_rate", "hit"): float(value) for name, value in ranx_evaluate(qrels, run, names, make_comparable=True).items()}


def assert_same_as_ranx(report: ModeReport) -> None:
    metrics = report.metrics()
    for name, expected in ranx_scores(report).items():
        assert metrics[name] == pytest.approx(expected, abs=1e-6), (report.mode, name)


@pytest.fixture(scope="module")
def shipped_reports(retriever: Assistant, embedder: Embedder, settings: Settings) -> list[ModeReport]:
    """The shipped QA set in all three modes, the questions encoded once."""
    return evaluate(retriever, read_qa_file(QA_FILE).items, ["bm25", "dense", "hybrid"])


@pytest.mark.slow
def test_ranking_metrics_match_ranx_on_the_shipped_qa_set(shipped_reports: list[ModeReport]) -> None:
    for report in shipped_reports:
        assert_same_as_ranx(report)
        metrics = report.metrics()
        assert metrics["questions"] == 185 and metrics["answerable"] == 165
        assert 0 < metrics["mrr@10"] <= metrics["hit@10"] <= 1


def test_shared_encoding_gives_the_same_answers_and_comparable_latencies(shipped_reports: list[ModeReport], retriever: Assistant) -> None:
    hybrid = shipped_reports[2]
    plain = evaluate(retriever, [j.item for j in hybrid.judged[:20]], ["hybrid"])[0]
    assert [j.ranking for j in plain.judged] == [j.ranking for j in hybrid.judged[:20]]
    encoded_in_first_mode = shipped_reports[0].metrics()["latency_p50_ms"]
    assert hybrid.metrics()["latency_p50_ms"] == pytest.approx(encoded_in_first_mode, rel=0.5)


def passage(doc: str, start: int, text: str = "texte") -> Passage:
    return Passage(doc, (), start, start + len(text), text)


@pytest.mark.slow
def test_paragraph_ranking_dedupes_passages_and_matches_ranx() -> None:
    """Two passages of one paragraph count once, at the first rank (SQuAD paragraph-level ranking)."""
    rankings = {
        "a": ["P1", "P1", "P2"],  # relevant P2 is the 2nd paragraph, though the 3rd passage
        "b": ["P3", "P2", "P1", "P2"],
        "c": ["P9"],
        "d": [],
    }
    report = ModeReport("hybrid")
    for qid, docs in rankings.items():
        hits = tuple(Hit(rank, passage(doc, rank * 10), 1.0 / rank, rank * 10, rank * 10 + 5) for rank, doc in enumerate(docs, start=1))
        item = QAItem(qid, "question ?", answers=("texte",), doc="P2" if qid != "c" else "P1")
        report.judged.append(judge_answer(item, Answer("question ?", "hybrid", False, hits, 1.0, 0.9), ParagraphJudge()))
    assert [j.first_relevant_rank for j in report.judged] == [2, 2, None, None]
    assert report.judged[0].ranking == ("P1", "P2")
    metrics = report.metrics()
    assert metrics["hit@1"] == 0 and metrics["hit@3"] == 0.5 and metrics["mrr@10"] == pytest.approx(0.25)
    assert metrics["answer_in_passage@1"] == 0.75  # every passage text holds "texte" except none in "d"
    assert_same_as_ranx(report)


def test_evidence_judge_needs_half_the_evidence_and_the_answer() -> None:
    text = "Intro. " + EVIDENCE + ". Suite."
    judge = Judge({"d.txt": text})
    item = QAItem("q", "Qui ?", answers=("Le Gouvernement belge",), evidence=EVIDENCE)
    start = text.index(EVIDENCE)
    assert judge.problem(item) is None
    assert judge.unit(item, passage("d.txt", start, text[start : start + 50])) == "relevant"
    assert judge.unit(item, passage("d.txt", start + 10, text[start + 10 :])) != "relevant"  # cuts the answer
    assert judge.unit(item, passage("d.txt", start, text[start : start + 30])) != "relevant"  # under half the evidence
    assert judge.problem(QAItem("x", "?", answers=("y",), evidence="absent du texte")) == "its evidence is not in the indexed corpus"


def test_threshold_failures_name_the_mode_and_the_flag() -> None:
    metrics: dict[str, dict[str, float | int | None]] = {
        "bm25": {"hit@1": 0.8, "wrongly_abstained": 0.1, "abstained_unanswerable": None},
        "hybrid": {"hit@1": 0.95, "wrongly_abstained": 0.01, "abstained_unanswerable": None},
    }
    assert threshold_failures(metrics, {"min_hit1": 0.9, "max_wrongly_abstained": 0.05}) == [
        "bm25: hit@1 = 0.8000 < 0.9 (--min-hit1)",
        "bm25: wrongly_abstained = 0.1000 > 0.05 (--max-wrongly-abstained)",
    ]
    assert threshold_failures(metrics, {"min_abstained": 0.5})[0].startswith("bm25: abstained_unanswerable could not be measured")


# --------------------------------------------------------------------------- the command


def coopqa(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    beside_python = Path(sys.executable).parent / "coopqa"
    executable = str(beside_python) if beside_python.is_file() else shutil.which("coopqa")
    assert executable, "the coopqa console script is not installed (pip install -e .)"
    return subprocess.run([executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_cli_end_to_end_on_the_shipped_qa_set(retriever: Assistant, cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "eval"
    result = coopqa("eval", "qa/coopqa-fr.jsonl", "--out", str(out), "--min-hit5", "0.9", "--max-wrongly-abstained", "0.2", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "coopqa eval: 100%" in result.stderr  # the progress bar, on stderr
    header = next(line for line in result.stdout.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "bm25", "dense", "hybrid"]
    assert "185 questions evaluated (165 answerable, 20 unanswerable)" in result.stdout and "prebuilt" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics) == {"settings", "versions", "dataset", "run", "modes", "groups"}
    assert {"HasAns", "NoAns"} <= set(metrics["groups"]["hybrid"]), "a set mixing answerable and unanswerable questions reports them apart"
    assert set(metrics["modes"]) == {"bm25", "dense", "hybrid"}
    assert metrics["dataset"]["format"] == "jsonl" and metrics["dataset"]["corpus"]["index_build_s"] == 0.0
    assert metrics["settings"]["eval"]["modes"] == ["bm25", "dense", "hybrid"] and metrics["versions"]["torch"]
    hybrid = metrics["modes"]["hybrid"]
    expected_keys = {f"{name}@{k}" for name in ("hit", "recall", "answer_in_passage") for k in KS} | {
        "mrr@10",
        "ndcg@10",
        "highlight_accuracy",
        "highlight_accuracy_top1_relevant",
        "highlight_accuracy_300",
        "short_answer_em",
        "short_answer_f1",
        "abstained_unanswerable",
        "wrongly_abstained",
        "latency_p50_ms",
        "latency_p95_ms",
        "seconds",
        "questions_per_second",
        "recall_curve",
        "questions",
        "answerable",
        "unanswerable",
        "answered_short",
        "confident_answers",
        "confident_precision",
        "confident_coverage",
        "unanswerable_not_confident",
        "ece",
    }
    assert set(hybrid) == expected_keys and hybrid["hit@5"] >= 0.9
    assert hybrid["short_answer_f1"] >= 0.5  # the reader is on by default: the short answer is measured (0.537 with r2)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| hit@1 |" in report and "## Failed questions" in report and "### hybrid:" in report and "## Versions" in report
    assert (out / "recall_at_k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "risk_coverage.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_malformed_file_stops_before_the_model_loads(cli_env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path / "qa.jsonl", jsonl({"question": "ok ?", "answer": "x"}, {"question": 3}))
    result = coopqa("eval", str(path), env=cli_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    message = f'coopqa: error: {path} line 2: "question" must be a non-empty string — fix it, or pass --skip-invalid to skip malformed rows'
    assert result.stderr.strip().splitlines() == [message]


@pytest.fixture
def eval_in_process(embedder: Embedder, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``coopqa eval`` through :func:`coopqa.cli.main` with the session's loaded model (saves a model load per test)."""
    monkeypatch.setattr("coopqa.evaluation.command.Embedder", lambda _settings, progress=True: embedder)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["eval", *args, "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), "--quiet"])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_skip_invalid_counts_and_thresholds_exit_1(retriever: Assistant, eval_in_process: Any, tmp_path: Path) -> None:
    path = write(
        tmp_path / "qa.jsonl",
        jsonl(
            {"id": "good", "question": "Quel gouvernement a lancé le processus du FMMD ?", "answer": "Le Gouvernement belge", "evidence": EVIDENCE},
            {"id": "bad", "question": "?"},
            {"id": "nowhere", "question": "Quel est le budget ?", "answer": "zzz-introuvable"},
            {"id": "lost", "question": "Où ?", "answer": "x", "evidence": "Cette phrase n'est pas dans le corpus."},
        ),
    )
    code, out, err = eval_in_process(str(path), "--skip-invalid", "--modes", "bm25,hybrid", "--min-hit1", "0.6", "--min-hit5", "0.4")
    assert code == 1
    assert "skipped line 2: " in err and "skipped line 4: its evidence is not in the indexed corpus" in err
    assert "2 invalid row(s) skipped, 2 question(s) evaluated" in err
    assert "bm25: hit@1 = 0.5000 < 0.6 (--min-hit1)" in err and "hybrid: hit@1 = 0.5000 < 0.6 (--min-hit1)" in err
    assert "--min-hit5" not in err and "2 questions evaluated" in out
    code, _, err = eval_in_process(str(path), "--modes", "bm25", "--min-abstained", "0.5")
    assert code == 2 and "line 2" in err  # without --skip-invalid the first bad row stops the run


def test_squad_file_as_its_own_corpus_in_a_temporary_index(retriever: Assistant, eval_in_process: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    path = write(tmp_path / "mini-squad.json", json.dumps(SQUAD, ensure_ascii=False))
    out = tmp_path / "out"
    code, stdout, _ = eval_in_process(str(path), "--corpus-from-file", "--modes", "bm25,dense,hybrid", "--out", str(out), "--min-abstained", "0.0")
    assert code == 0, stdout
    assert list(temporary.iterdir()) == []  # the temporary index is gone
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["dataset"]["corpus"]["origin"] == "temporary" and metrics["dataset"]["corpus"]["documents"] == 3
    assert metrics["dataset"]["unanswerable"] == 1 and "own SQuAD paragraph" in metrics["dataset"]["relevance"]
    assert metrics["settings"]["index_dir"].startswith("(temporary")
    for mode in ("dense", "hybrid"):
        assert metrics["modes"][mode]["hit@1"] == 1.0, (mode, metrics["modes"][mode])
    code, _, err = eval_in_process(str(QA_FILE), "--corpus-from-file")
    assert code == 2 and "--corpus-from-file needs a SQuAD JSON file" in err
