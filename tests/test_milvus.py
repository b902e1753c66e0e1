"""The index in Milvus: a real Milvus Lite engine, started by the tests, no mocks.

Each test gets its own Milvus Lite file in a temporary folder (a Lite file is opened by one process at a
time). What is checked is what a user of ``store = "milvus"`` relies on: the shipped questions answered as
with the FAISS files, publishing by alias that a killed build never moves, unchanged documents reused, and
one-line errors for an unreachable engine or an index built with other settings.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from coopqa.config import Settings
from coopqa.errors import IndexStoreError
from coopqa.evaluation.qa_formats import read_qa_file
from coopqa.index.manifest import check_compatible
from coopqa.index.milvus_reader import MilvusIndex
from coopqa.index.milvus_store import KEPT_VERSIONS, TOKEN_VARIABLE, build_milvus_index, connect, milvus_ref, versions_present
from coopqa.model import Embedder
from coopqa.pipeline import Assistant, Reader

pytest.importorskip("pymilvus")
ROOT = Path(__file__).resolve().parents[1]
COOPQA = str(Path(sys.executable).parent / "coopqa")


@pytest.fixture(scope="module")
def milvus_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return replace(settings, store="milvus", index_dir=tmp_path_factory.mktemp("milvus-index"))


@pytest.fixture(scope="module")
def milvus_assistant(milvus_settings: Settings, embedder: Embedder, reader: Reader) -> Assistant:
    build_milvus_index(milvus_settings, embedder, progress=False)
    index = MilvusIndex.open(milvus_settings)
    assert index is not None
    return Assistant(index, embedder, milvus_settings, reader=reader)


def test_the_shipped_questions_are_answered_from_milvus_as_from_the_faiss_files(milvus_assistant: Assistant, reading_retriever: Assistant) -> None:
    items = [item for item in read_qa_file(ROOT / "qa" / "coopqa-fr.jsonl").items if item.answerable][:40]
    same_first = same_short = 0
    for item in items:
        milvus, files = milvus_assistant.ask(item.question), reading_retriever.ask(item.question)
        same_first += milvus.hits[0].passage.start == files.hits[0].passage.start
        same_short += (milvus.short and milvus.short.text) == (files.short and files.short.text)
    assert same_first == 40 and same_short == 40, f"first passage {same_first}/40, short answer {same_short}/40"


def test_the_engines_bm25_scores_are_the_files_bm25_scores(milvus_assistant: Assistant, reading_retriever: Assistant) -> None:
    """Same terms, same k1 and b: the engine's BM25 is bm25s's times (k1 + 1), a constant that fusion divides away.
    Milvus Lite silently scored with its default k1 = 1.5 until the parameters were also sent as its "params" entry."""
    from coopqa.index.lexical import BM25_K1
    from coopqa.index.milvus_store import terms_of

    index, files = milvus_assistant.data, reading_retriever.data
    assert isinstance(index, MilvusIndex)
    ratios = []
    for item in read_qa_file(ROOT / "qa" / "coopqa-fr.jsonl").items[:20]:
        engine = index.lexical(terms_of(item.question), 50)
        exact = files.lexical.scores(item.question)
        ratios += [score / float(exact[number]) for number, score in engine.items()]
    assert ratios and np.allclose(ratios, BM25_K1 + 1, rtol=2e-3), f"engine / bm25s from {min(ratios):.3f} to {max(ratios):.3f}"


def test_an_answer_from_milvus_cites_exact_offsets(milvus_assistant: Assistant) -> None:
    answer = milvus_assistant.ask("Quel était le budget du projet SHARAKA ?")
    assert answer.short is not None and "5 271 000" in answer.short.text
    document = milvus_assistant.data.documents[answer.short.doc]
    assert document.text[answer.short.start : answer.short.end] == answer.short.text
    hit = answer.hits[0]
    assert document.text[hit.passage.start : hit.passage.end] == hit.passage.text
    assert hit.passage.start <= hit.highlight_start < hit.highlight_end <= hit.passage.end


def _corpus(tmp_path: Path, files: dict[str, str]) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return corpus


SMALL = {
    "a.txt": "Le projet AMEM est financé par l'Agence italienne de coopération. Son budget est de 2,4 millions d'euros.",
    "b.txt": "Le Forum mondial sur la migration et le développement s'est tenu à Bruxelles en 2007, puis à Manille en 2008.",
}


@pytest.mark.slow
def test_a_changed_file_is_embedded_again_alone_and_each_build_publishes_by_alias(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    local = replace(settings, store="milvus", corpus_dir=_corpus(tmp_path, SMALL), index_dir=tmp_path / "index")
    first = build_milvus_index(local, embedder, progress=False)
    assert (first.version, first.reused_documents, first.unchanged) == (1, 0, False)
    assert build_milvus_index(local, embedder, progress=False).unchanged, "nothing changed: nothing built"
    (local.corpus_dir / "b.txt").write_text(SMALL["b.txt"] + " Le troisième forum a eu lieu à Athènes en 2009.", encoding="utf-8")
    second = build_milvus_index(local, embedder, progress=False)
    assert (second.version, second.documents, second.reused_documents) == (2, 2, 1), "a.txt reused, b.txt embedded again"
    for extra in range(2):
        (local.corpus_dir / "b.txt").write_text(SMALL["b.txt"] + f" Édition {extra}.", encoding="utf-8")
        build_milvus_index(local, embedder, progress=False)
    client = connect(milvus_ref(local))
    try:
        present = versions_present(client, milvus_ref(local))
    finally:
        client.close()
    assert present == [2, 3, 4], f"the published version and the {KEPT_VERSIONS} before it are kept, older ones dropped"
    index = MilvusIndex.open(local)
    assert index is not None and index.version == 4 and "Édition 1" in index.documents["b.txt"].text


@pytest.mark.slow
def test_a_build_killed_midway_leaves_the_published_version_serving(tmp_path: Path, settings: Settings, embedder: Embedder, cli_env: dict[str, str]) -> None:
    corpus = _corpus(tmp_path, SMALL)
    local = replace(settings, store="milvus", corpus_dir=corpus, index_dir=tmp_path / "index")
    build_milvus_index(local, embedder, progress=False)
    big = "\n\n".join(f"Section {n}. Le projet numéro {n} soutient la migration régulière et la réintégration des migrants." * 8 for n in range(400))
    (corpus / "c.txt").write_text(big, encoding="utf-8")
    env = cli_env | {"COOPQA_CORPUS_DIR": str(corpus), "COOPQA_INDEX_DIR": str(local.index_dir), "COOPQA_STORE": "milvus"}
    build = subprocess.Popen([COOPQA, "index"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    assert build.stderr is not None
    for line in build.stderr:  # killed while it embeds: the new version is half written, never published
        if "embedding" in line or time.monotonic() > deadline:
            break
    time.sleep(1.0)
    build.send_signal(signal.SIGKILL)
    build.wait(timeout=30)
    index = MilvusIndex.open(local)
    assert index is not None and index.version == 1 and "c.txt" not in index.manifest["documents"]
    answer = Assistant(index, embedder, local).ask("Qui finance le projet AMEM ?")
    assert not answer.abstained and answer.hits[0].passage.doc_id == "a.txt"
    index.client.close()
    again = build_milvus_index(local, embedder, progress=False)
    assert again.version >= 2 and not again.unchanged, "the next build starts over and publishes"


@pytest.mark.slow
def test_an_unreachable_engine_is_one_line_naming_the_uri_never_the_token(cli_env: dict[str, str]) -> None:
    env = cli_env | {"COOPQA_STORE": "milvus", "COOPQA_MILVUS_URI": "http://127.0.0.1:9", TOKEN_VARIABLE: "s3cr3t-token"}
    run = subprocess.run([COOPQA, "ask", "Qui finance le projet AMEM ?"], env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 2
    message = run.stderr.strip().splitlines()
    assert len(message) == 1 and "http://127.0.0.1:9" in message[0] and "Traceback" not in run.stderr
    assert "s3cr3t-token" not in run.stderr + run.stdout


def test_an_index_built_with_other_settings_is_refused_with_the_command_that_rebuilds_it(milvus_assistant: Assistant, milvus_settings: Settings) -> None:
    index = milvus_assistant.data
    assert isinstance(index, MilvusIndex)
    with pytest.raises(IndexStoreError) as raised:
        Assistant(index, milvus_assistant.embedder, replace(milvus_settings, chunk_size=800, chunk_overlap=100))
    assert "chunk_size" in raised.value.one_line() and "coopqa index" in raised.value.one_line()
    manifest = json.dumps(index.manifest)
    assert index.manifest["store"] == "milvus" and TOKEN_VARIABLE not in manifest
    # An index whose engine scores BM25 with parameters it did not record (built before they were) is refused too.
    unrecorded = {key: value for key, value in index.manifest.items() if key != "bm25"}
    with pytest.raises(IndexStoreError) as raised:
        check_compatible(unrecorded, milvus_settings, milvus_assistant.embedder.model_id, milvus_assistant.embedder.dimension)
    assert "did not record" in raised.value.one_line() and "coopqa index" in raised.value.one_line()


def test_a_published_version_with_other_settings_is_reported_once_while_the_old_one_serves(
    tmp_path: Path, settings: Settings, embedder: Embedder, capfd: pytest.CaptureFixture[str]
) -> None:
    own = replace(settings, store="milvus", index_dir=tmp_path)
    build_milvus_index(own, embedder, progress=False)
    index = MilvusIndex.open(own)
    assert index is not None
    assistant = Assistant(index, embedder, own)
    build_milvus_index(replace(own, chunk_size=600, chunk_overlap=80), embedder, progress=False)  # another team's build
    for _ in range(3):
        assistant = assistant.refreshed()
        assert isinstance(assistant.data, MilvusIndex) and assistant.data.version == index.version
        assert assistant.ask("Qu'est-ce que le FMMD ?").hits
    reported = capfd.readouterr().err
    assert reported.count(f"keeping Milvus version {index.version}") == 1 and "chunk_size" in reported


def test_the_store_is_part_of_the_index_identity(retriever: Assistant, settings: Settings) -> None:
    with pytest.raises(IndexStoreError, match="faiss store"):
        Assistant(retriever.data, retriever.embedder, replace(settings, store="milvus"))


@pytest.mark.slow
def test_cli_builds_and_answers_through_milvus_lite(tmp_path: Path, cli_env: dict[str, str]) -> None:
    corpus = _corpus(tmp_path, SMALL)
    env = cli_env | {"COOPQA_CORPUS_DIR": str(corpus), "COOPQA_INDEX_DIR": str(tmp_path / "index"), "COOPQA_STORE": "milvus"}
    built = subprocess.run([COOPQA, "index", "--quiet"], env=env, capture_output=True, text=True, timeout=300, check=True)
    assert "milvus.db, version 1" in built.stdout
    asked = subprocess.run([COOPQA, "ask", "Où s'est tenu le forum en 2008 ?", "--json"], env=env, capture_output=True, text=True, timeout=300, check=True)
    record = json.loads(asked.stdout)
    assert record["passages"][0]["doc"] == "b.txt" and not record["abstained"]


# --------------------------------------------------------------------------- several processes, one engine


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def milvus_server(tmp_path: Path) -> Iterator[str]:
    """A ``milvus-lite server`` on a loopback port: the same gRPC API as Milvus Standalone, for several processes."""
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "milvus-lite"), "server", "--data-dir", str(tmp_path / "milvus-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("milvus-lite server did not start") from None
                time.sleep(0.3)
        yield uri
    finally:
        server.terminate()
        server.wait(timeout=30)


MORE = {
    "c.txt": "Le HCR protège les réfugiés au Maroc depuis la signature de l'accord de siège en 2007.",
    "d.txt": "L'Organisation internationale du travail appuie l'insertion professionnelle des migrants.",
}


@pytest.mark.slow
def test_two_shard_workers_build_one_index_and_publish_waits_for_both(tmp_path: Path, cli_env: dict[str, str], milvus_server: str) -> None:
    corpus = _corpus(tmp_path, SMALL | MORE)
    env = cli_env | {"COOPQA_CORPUS_DIR": str(corpus), "COOPQA_STORE": "milvus", "COOPQA_MILVUS_URI": milvus_server, "COOPQA_READER": "off"}

    def index(*flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([COOPQA, "index", "--quiet", *flags], env=env, capture_output=True, text=True, timeout=600)

    nothing = index("--publish")
    assert nothing.returncode == 2 and "no shard build is pending" in nothing.stderr
    first = index("--shard", "0/2")
    assert first.returncode == 0, first.stderr
    early = index("--publish")
    assert early.returncode == 2 and "shard(s) 1/2 have not finished" in early.stderr, early.stderr
    both = [
        subprocess.Popen([COOPQA, "index", "--quiet", "--shard", f"{i}/2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in (1, 0)
    ]
    for worker in both:  # shard 0 runs again beside shard 1: it replaces its own rows
        _, error = worker.communicate(timeout=600)
        assert worker.returncode == 0, error
    published = index("--publish")
    assert published.returncode == 0 and "4 document(s)" in published.stdout, published.stdout + published.stderr
    for question, doc in (("Qui finance le projet AMEM ?", "a.txt"), ("Depuis quand le HCR protège-t-il les réfugiés au Maroc ?", "c.txt")):
        run = subprocess.run([COOPQA, "ask", question, "--json"], env=env, capture_output=True, text=True, timeout=300, check=True)
        assert json.loads(run.stdout)["passages"][0]["doc"] == doc


SERVE = """
import json, sys, time
from collections.abc import Iterator
from dataclasses import replace
from coopqa.config import load_settings
from coopqa.pipeline import Assistant
assistant = Assistant.open(load_settings(), progress=False)
seen, failures, began = [], 0, time.monotonic()
while time.monotonic() - began < 240:
    try:
        assistant = assistant.refreshed()
        answer = assistant.ask("Qui finance le projet AMEM ?")
        assert answer.hits
        seen.append(assistant.data.version)
    except Exception as error:
        failures += 1
        print(repr(error), file=sys.stderr)
    if seen.count(int(sys.argv[1])) >= 5:
        break
    time.sleep(0.2)
print(json.dumps({"seen": sorted(set(seen)), "asked": len(seen), "failures": failures}))
"""


@pytest.mark.slow
def test_two_app_processes_move_to_a_new_version_without_a_failed_request(tmp_path: Path, cli_env: dict[str, str], milvus_server: str) -> None:
    corpus = _corpus(tmp_path, SMALL)
    env = cli_env | {"COOPQA_CORPUS_DIR": str(corpus), "COOPQA_STORE": "milvus", "COOPQA_MILVUS_URI": milvus_server, "COOPQA_READER": "off"}
    subprocess.run([COOPQA, "index", "--quiet"], env=env, capture_output=True, text=True, timeout=600, check=True)
    apps = [subprocess.Popen([sys.executable, "-c", SERVE, "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(20)  # both serve version 1
    (corpus / "c.txt").write_text(MORE["c.txt"], encoding="utf-8")
    rebuilt = subprocess.run([COOPQA, "index", "--quiet"], env=env, capture_output=True, text=True, timeout=600)
    assert rebuilt.returncode == 0 and "version 2" in rebuilt.stdout, rebuilt.stderr
    for app in apps:
        out, error = app.communicate(timeout=300)
        record = json.loads(out.strip().splitlines()[-1])
        assert record["failures"] == 0, error
        assert record["seen"] == [1, 2], f"each app served the old version, then the new one: {record}"


@pytest.mark.parametrize("ranker", ["rrf", "weighted"])
def test_the_engines_own_rankers_can_rank_instead_of_coopqas_fusion(milvus_assistant: Assistant, ranker: str) -> None:
    own = Assistant(milvus_assistant.data, milvus_assistant.embedder, replace(milvus_assistant.settings, milvus_ranker=ranker))
    query = own.retriever.prepare(["Qui finance le projet AMEM ?"])[0][0]
    evidence = own.retriever.gather(query)
    assert evidence.engine_scores is not None and np.isfinite(evidence.engine_scores).sum() >= 5
    ranking = own.retriever.rank(evidence, "hybrid", query.policy)
    assert ranking.scores is evidence.engine_scores, "hybrid order comes from the engine's ranker"
    assert own.ask("Qui finance le projet AMEM ?").hits[0].passage.doc_id == "cooperation-multilaterale.txt"
