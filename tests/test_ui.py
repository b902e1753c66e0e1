"""The chat UI end to end: the real ``app.py`` served on loopback, driven by headless
Chromium (Playwright) and by ``gradio_client``; plus the HTML rendering on its own.

Two servers start once for the module, side by side: one over the shipped
corpus (configured through ``COOPQA_*`` variables, as a deployment would) and
one over a small hostile corpus (configured through flags) whose file name,
headings and text carry ``<script>``, ``onerror`` and ``javascript:`` links.
Browser tests skip only when ``/usr/bin/chromium`` is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from coopqa.config import Settings
from coopqa.documents.chunking import Passage
from coopqa.documents.reading import Document, Section, read_document
from coopqa.pipeline import NO_ANSWER, Answer, Hit, ShortAnswer
from coopqa.ui.render import escape_text, mark_span, render_answer, render_context

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
STARTUP_SECONDS = 240
ANSWER_MS = 60_000

OIM_QUESTION = "Depuis quand le Maroc est-il membre de l'OIM ?"
OIM_SENTENCE = "Le Maroc est membre de l’OIM depuis 1998."
OIM_SECTION = "Coopération avec L’Organisation Internationale pour les Migrations (OIM) > A propos de l’OIM"
TROIKA_EXAMPLE = "Comment est composée la Troïka du FMMD ?"
OFF_TOPIC = "Qui a gagné la coupe du monde de football en 1998 ?"

TRAP_FILE = "<img src=x onerror=window.__xss=6>.md"
TRAP_TEXT = """# Projet Zorglub

## Le projet <img src=x onerror="window.__xss=5"> Zorglub

Le projet Zorglub <script>window.__xss = 1</script> finance des centres d'accueil pour les migrants à Tanger depuis 2019.
Une photo <img src=x onerror="window.__xss = 2"> accompagne le rapport annuel du projet Zorglub.
Pour en savoir plus sur le projet Zorglub, voir [le site officiel](javascript:window.__xss=3) ou <a href="javascript:window.__xss=4">ce lien</a>.

## Budget du projet Zorglub

Le budget du projet Zorglub est de 3 millions d'euros $x^2$ **gras** `code` <iframe src="javascript:window.__xss=7"></iframe>.
"""
TRAP_QUESTION = "<script>window.__xss=8</script><img src=x onerror=window.__xss=9> [budget](javascript:window.__xss=10) du projet Zorglub ?"


# --------------------------------------------------------------------------- servers


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    feedback: Path

    def wait_ready(self, deadline: float) -> None:
        """Poll until the app answers; fail with the server's own output if it dies or stalls."""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"app.py exited with status {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/config", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        pytest.fail(f"app.py did not serve {self.url} within {STARTUP_SECONDS} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-5000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_app(folder: Path, args: list[str], env: dict[str, str]) -> Server:
    """Run ``python app.py`` the way a user would, output captured for diagnosis."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "server.log"
    port = free_port()
    feedback = folder / "feedback" / "ratings.jsonl"
    command = [sys.executable, str(ROOT / "app.py"), *args]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COOPQA_PORT": str(port), "COOPQA_FEEDBACK": str(feedback), **env}
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=sink, stderr=subprocess.STDOUT)
    return Server(f"http://127.0.0.1:{port}", process, log, feedback)


@pytest.fixture(scope="module")
def servers(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """Both servers, started together (model loading overlaps) and stopped at the end of the module."""
    trap = tmp_path_factory.mktemp("trap")
    (trap / "corpus").mkdir()
    (trap / "corpus" / TRAP_FILE).write_text(TRAP_TEXT, encoding="utf-8")
    started = {
        "main": start_app(
            tmp_path_factory.mktemp("main"),
            [],
            {"COOPQA_CORPUS_DIR": str(settings.corpus_dir), "COOPQA_INDEX_DIR": str(settings.index_dir), "COOPQA_HOST": "127.0.0.1"},
        ),
        "trap": start_app(trap, ["--host", "127.0.0.1", "--corpus", "corpus", "--index", "index"], {}),
    }
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        for server in started.values():
            server.wait_ready(deadline)
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="module")
def main_server(servers: dict[str, Server]) -> Server:
    return servers["main"]


@pytest.fixture(scope="module")
def trap_server(servers: dict[str, Server]) -> Server:
    return servers["trap"]


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh French-speaking tab; page errors are collected so a test can assert there were none."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1100})
    tab = context.new_page()
    tab.errors = []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    yield tab
    context.close()


def open_chat(page: Any, server: Server) -> None:
    page.goto(server.url)
    page.get_by_placeholder("Votre question").wait_for()


def ask(page: Any, question: str) -> Any:
    """Type ``question``, send it, and return the locator of the assistant's new message."""
    replies = page.locator("#coopqa-chat [data-testid=bot]")
    before = replies.count()
    page.get_by_placeholder("Votre question").fill(question)
    page.get_by_role("button", name="Envoyer").click()
    page.wait_for_function(f"document.querySelectorAll('#coopqa-chat [data-testid=bot]').length > {before}", timeout=ANSWER_MS)
    return replies.nth(before)


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.mark.browser
def test_answer_quotes_the_highlighted_sentence_with_its_sources(page: Any, main_server: Server) -> None:
    open_chat(page, main_server)
    reply = ask(page, OIM_QUESTION)
    best = reply.locator(".coopqa-best")
    assert OIM_SENTENCE in best.locator(".coopqa-passage mark").inner_text()
    assert best.locator(".coopqa-section").inner_text() == OIM_SECTION
    assert best.locator(".coopqa-doc").inner_text() == "cooperation-multilaterale.txt"
    assert reply.locator(".coopqa-rank").all_inner_texts() == ["[1]", "[2]", "[3]", "[4]", "[5]"]
    assert "Recherche hybride" in reply.locator(".coopqa-footer").inner_text()

    context = best.locator("details.coopqa-context")
    assert not context.locator(".coopqa-cited").is_visible()
    context.locator("summary").click()
    assert OIM_SENTENCE in context.locator(".coopqa-cited mark").inner_text()
    assert_contexts_hold_their_passages(reply)
    assert page.get_by_placeholder("Votre question").input_value() == ""
    assert page.errors == []
    screenshot(page, "answer-oim.png")


def assert_contexts_hold_their_passages(reply: Any) -> None:
    """Each source expands to its section, with the passage (and its answer sentence) marked inside."""
    grew = False
    for source in reply.locator(".coopqa-source").all():
        details = source.locator("details.coopqa-context")
        if not details.evaluate("element => element.open"):
            details.locator("summary").click()
        passage = squash(source.locator(".coopqa-passage").inner_text())
        cited = squash(details.locator(".coopqa-cited").inner_text())
        context = squash(details.locator(".coopqa-context-text").inner_text())
        assert cited == passage and passage in context
        assert squash(details.locator("mark").inner_text()) in cited
        grew = grew or len(context) > len(passage)
    assert grew, "no source showed more context than its passage"


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.browser
def test_clicking_an_example_asks_it(page: Any, main_server: Server) -> None:
    open_chat(page, main_server)
    page.get_by_text(TROIKA_EXAMPLE, exact=True).click()
    page.wait_for_selector("#coopqa-chat .coopqa-answered", timeout=ANSWER_MS)
    mark = page.locator("#coopqa-chat .coopqa-best .coopqa-passage mark").inner_text()
    assert "la Troïka" in mark and "composée" in mark
    assert page.locator("#coopqa-chat .coopqa-best .coopqa-section").inner_text() == "Global Forum Migration et Développement > Structure du Forum :"
    page.wait_for_timeout(300)  # the scroll to the newest question runs after the render
    path = screenshot(page, "answer-troika.png")
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(path, ROOT / "docs" / "screenshot.png")


@pytest.mark.browser
def test_off_topic_question_abstains_and_still_shows_nearest_passages(page: Any, main_server: Server) -> None:
    open_chat(page, main_server)
    reply = ask(page, OFF_TOPIC)
    assert reply.locator(".coopqa-noanswer").inner_text() == NO_ANSWER
    assert "peut-être utiles" in reply.inner_text()
    assert reply.locator(".coopqa-source").count() == 5
    assert reply.locator(".coopqa-best").count() == 0
    screenshot(page, "abstention.png")


@pytest.mark.browser
def test_settings_change_k_and_mode(page: Any, main_server: Server) -> None:
    open_chat(page, main_server)
    page.get_by_text("Réglages").click()
    page.get_by_label("lexical").check()
    page.locator("#coopqa-k input[type=number]").fill("2")
    page.locator("#coopqa-k input[type=number]").press("Enter")
    reply = ask(page, OIM_QUESTION)
    assert reply.locator(".coopqa-source").count() == 2
    assert "Recherche lexical" in reply.locator(".coopqa-footer").inner_text()


@pytest.mark.browser
def test_bad_questions_get_a_polite_french_message(page: Any, main_server: Server) -> None:
    open_chat(page, main_server)
    empty = ask(page, "   ")
    assert "Votre question est vide" in empty.inner_text()
    long = ask(page, "Quel est le budget du projet SHARAKA ? " * 40)
    assert "trop longue" in long.inner_text() and "1000" in long.inner_text()
    punctuation = ask(page, "?!…")
    assert "aucun mot" in punctuation.inner_text()
    text = page.locator("#coopqa-chat").inner_text()
    assert "Traceback" not in text and "Error" not in text
    answered = ask(page, OIM_QUESTION)  # the session still works afterwards
    assert OIM_SENTENCE in answered.locator(".coopqa-best .coopqa-passage mark").inner_text()


@pytest.mark.browser
def test_follow_ups_use_the_conversation_until_a_new_one_starts(page: Any, main_server: Server) -> None:
    open_chat(page, main_server)
    ask(page, "Où s'est tenue la troisième réunion du FMMD ?")
    follow_up = ask(page, "Et la quatrième ?")
    assert "Mexico 2010" in follow_up.locator(".coopqa-best .coopqa-passage").inner_text()
    assert "Recherché : « Où s'est tenue la troisième réunion du FMMD ? Et la quatrième ? »" in follow_up.locator(".coopqa-searched").inner_text()
    page.get_by_role("button", name="Nouvelle conversation").click()
    page.wait_for_function("document.querySelectorAll('#coopqa-chat [data-testid=bot]').length === 0", timeout=ANSWER_MS)
    alone = ask(page, "Et la quatrième ?")
    assert alone.locator(".coopqa-searched").count() == 0, "a new conversation forgets the earlier questions"
    assert page.errors == []


@pytest.mark.browser
def test_arabic_is_right_to_left_and_the_page_stays_french(browser: Any, main_server: Server) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1100})  # an English browser: the page is French anyway
    page = context.new_page()
    try:
        open_chat(page, main_server)
        reply = ask(page, "من يمول مشروع AMEM؟")
        bubble = page.locator("#coopqa-chat .coopqa-question").last
        assert bubble.get_attribute("dir") == "auto" and bubble.evaluate("e => getComputedStyle(e).direction") == "rtl"
        notes = reply.locator(".coopqa-language").all_inner_texts()
        assert notes[0] == "Question en arabe : les sources citées sont en français."
        assert reply.locator(".coopqa-language[lang=ar]").evaluate("e => getComputedStyle(e).direction") == "rtl"
        assert "Agence Italienne" in reply.locator(".coopqa-best .coopqa-passage").inner_text()
        footer = page.locator("footer")
        page.wait_for_function("document.querySelector('footer') && document.querySelector('footer').innerText.includes('Utiliser via l')", timeout=10_000)
        assert "Use via API" not in footer.inner_text()
        screenshot(page, "answer-arabic.png")
    finally:
        context.close()


@pytest.mark.browser
def test_thumbs_append_the_rated_answer_to_the_feedback_file(page: Any, main_server: Server) -> None:
    open_chat(page, main_server)
    ask(page, OIM_QUESTION)
    ask(page, OFF_TOPIC)
    page.get_by_role("button", name="J'aime").first.click()
    page.get_by_role("button", name="Je n'aime pas").last.click()
    records = wait_for_lines(main_server.feedback, 2)
    by_rating = {record["rating"]: record for record in records[-2:]}
    assert by_rating["up"]["question"] == OIM_QUESTION and not by_rating["up"]["abstained"]
    assert by_rating["down"]["question"] == OFF_TOPIC and by_rating["down"]["abstained"]
    for record in by_rating.values():
        assert record["timestamp"].endswith("+00:00")
        assert record["passages"] and {"doc", "section", "start", "end", "text", "highlight"} <= set(record["passages"][0])

    page.get_by_role("button", name="Effacer la conversation").click()  # a new conversation rates its own answers
    ask(page, TROIKA_EXAMPLE)
    page.get_by_role("button", name="J'aime").click()
    assert wait_for_lines(main_server.feedback, 3)[-1]["question"] == TROIKA_EXAMPLE


def wait_for_lines(path: Path, count: int, seconds: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        if len(lines) >= count:
            return [json.loads(line) for line in lines]
        time.sleep(0.2)
    pytest.fail(f"{path} did not get {count} feedback lines")


@pytest.mark.browser
def test_corpus_and_question_markup_render_as_text(page: Any, trap_server: Server) -> None:
    open_chat(page, trap_server)
    replies = [ask(page, "Quel est le budget du projet Zorglub ?"), ask(page, TRAP_QUESTION)]
    for details in page.locator("#coopqa-chat details").all():
        details.locator("summary").click()
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.__xss") == "undefined"
    chat = page.locator("#coopqa-chat [role=log]")
    assert chat.locator("script, img, iframe, a[href^='javascript'], [onerror]").count() == 0
    text = chat.inner_text()
    for literal in (
        TRAP_QUESTION,
        "<script>window.__xss = 1</script>",
        '<img src=x onerror="window.__xss = 2">',
        "[le site officiel](javascript:window.__xss=3)",
        '<a href="javascript:window.__xss=4">ce lien</a>',
        'Le projet <img src=x onerror="window.__xss=5"> Zorglub',
        TRAP_FILE,
        "$x^2$ **gras** `code`",
    ):
        assert literal in text
    assert all(reply.locator(".coopqa-source").count() >= 1 for reply in replies)
    assert page.errors == []
    screenshot(page, "escaping.png")


# --------------------------------------------------------------------------- API (gradio_client)


@pytest.fixture(scope="module")
def client(main_server: Server) -> Any:
    from gradio_client import Client

    return Client(main_server.url, verbose=False)


def test_ask_endpoint_returns_the_cli_json(client: Any, settings: Settings, cli_env: dict[str, str]) -> None:
    result = client.predict(OIM_QUESTION, api_name="/ask")
    assert {"id", "question", "abstained", "passages", "latency_ms"} <= set(result)
    assert result["question"] == OIM_QUESTION and result["abstained"] is False and len(result["passages"]) == 5
    for passage in result["passages"]:
        assert {"rank", "doc", "section", "start", "end", "text", "score", "highlight"} <= set(passage)
        document = read_document(settings.corpus_dir / passage["doc"], settings.corpus_dir).text
        assert document[passage["start"] : passage["end"]] == passage["text"]
        assert passage["start"] <= passage["highlight"]["start"] < passage["highlight"]["end"] <= passage["end"]
        if passage["rank"] == 1:
            assert OIM_SENTENCE in document[passage["highlight"]["start"] : passage["highlight"]["end"]]
            assert passage["section"] == OIM_SECTION

    cli = subprocess.run(
        [str(Path(sys.executable).parent / "coopqa"), "ask", "--json", OIM_QUESTION], env=cli_env, capture_output=True, text=True, timeout=180, check=True
    )
    expected = json.loads(cli.stdout)
    assert {**result, "latency_ms": None} == {**expected, "latency_ms": None}


def test_ask_endpoint_options_and_errors(client: Any) -> None:
    from gradio_client.exceptions import AppError

    result = client.predict(OIM_QUESTION, k=2, mode="bm25", api_name="/ask")
    assert len(result["passages"]) == 2 and result["mode"] == "bm25"
    assert client.predict(OFF_TOPIC, api_name="/ask")["abstained"] is True
    for kwargs, message in (
        ({"question": " "}, "empty"),
        ({"question": "x" * 5000}, "limit"),
        ({"question": "FMMD ?", "k": 0}, "k must"),
        ({"question": "FMMD ?", "mode": "nope"}, "mode must"),
        ({"question": "Et le budget ?", "history": "Qui finance le projet AMEM ?"}, '"history" must be a list'),
        ({"question": "Et le budget ?", "history": ["Qui ?"] * 50}, "turn limit"),
    ):
        with pytest.raises(AppError, match=message) as raised:
            client.predict(**kwargs, api_name="/ask")
        assert "Traceback" not in str(raised.value)


def test_ask_endpoint_takes_a_history_and_says_what_it_searched(client: Any) -> None:
    result = client.predict("Et le budget ?", 1, "hybrid", ["Qui finance le projet AMEM ?"], api_name="/ask")
    assert result["searched"] == "Qui finance le projet AMEM ? Et le budget ?" and result["language"] == "fr"
    assert "2.400.000 Euros" in result["passages"][0]["text"]
    arabic = client.predict("من يمول مشروع AMEM؟", api_name="/ask")
    assert arabic["language"] == "ar" and arabic["language_calibrated"] is True


def test_many_questions_at_once_are_all_answered(client: Any) -> None:
    questions = [OIM_QUESTION, OFF_TOPIC, TROIKA_EXAMPLE, "Qui finance le projet AMEM ?"] * 3
    jobs = [client.submit(question, k=3, api_name="/ask") for question in questions]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(lambda job: job.result(timeout=120), jobs))
    assert [r["question"] for r in results] == questions
    assert all(len(r["passages"]) == 3 for r in results)


@pytest.mark.slow
def test_running_app_serves_a_rebuilt_index_without_restart(trap_server: Server) -> None:
    """A ``coopqa index`` run beside a serving app: its next answers come from the new version.

    Runs after the browser test that reads the trap corpus (file order), since it adds a document to it.
    """
    from gradio_client import Client

    folder = trap_server.log.parent
    question = "Quel port accueille le projet Néréide ?"
    trap_client = Client(trap_server.url, verbose=False)
    assert all(p["doc"] == TRAP_FILE for p in trap_client.predict(question, api_name="/ask")["passages"])

    (folder / "corpus" / "nereide.md").write_text(
        "# Projet Néréide\n\nLe projet Néréide équipe le port d'Agadir d'un centre d'accueil pour les marins migrants depuis 2021.\n",
        encoding="utf-8",
    )
    coopqa = Path(sys.executable).parent / "coopqa"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    build = [str(coopqa), "--corpus", "corpus", "--index", "index", "index", "--quiet"]
    subprocess.run(build, cwd=folder, env=env, check=True, timeout=300, capture_output=True)

    result = trap_client.predict(question, api_name="/ask")
    assert result["passages"][0]["doc"] == "nereide.md" and "Agadir" in result["passages"][0]["text"]


def test_only_ask_is_public_and_documented(main_server: Server) -> None:
    with urllib.request.urlopen(main_server.url + "/gradio_api/info", timeout=10) as response:
        info = json.load(response)
    assert list(info["named_endpoints"]) == ["/ask"]
    assert [p["parameter_name"] for p in info["named_endpoints"]["/ask"]["parameters"]] == ["question", "k", "mode", "history"]
    assert info["unnamed_endpoints"] == {}
    assert "coopqa ask --json" in info["named_endpoints"]["/ask"]["description"]
    with urllib.request.urlopen(main_server.url + "/config", timeout=10) as response:
        components = {component["type"] for component in json.load(response)["components"]}
    assert not components & {"file", "uploadbutton", "fileexplorer", "image", "audio", "video", "multimodaltextbox"}, (
        "nothing typed or uploaded may name a file"
    )


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "%2Fetc%2Fpasswd", "../../../../../../etc/passwd", "..%2F..%2F..%2F..%2Fetc%2Fpasswd", "{app}", "{corpus}"],
)
def test_file_route_reads_nothing_from_the_server(main_server: Server, settings: Settings, path: str) -> None:
    target = path.format(app=ROOT / "app.py", corpus=settings.corpus_dir / "cooperation-multilaterale.txt")
    for prefix in ("/gradio_api/file=", "/file=", "/gradio_api/file/"):
        try:
            with urllib.request.urlopen(main_server.url + prefix + target, timeout=10) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            assert error.code in (403, 404), f"{prefix}{target}: HTTP {error.code}"
            continue
        assert b"root:" not in body and b"def main" not in body and b"Coop\xc3\xa9ration" not in body, f"{prefix}{target} served a file"


def test_model_and_index_load_once_with_progress(main_server: Server, client: Any) -> None:
    client.predict(OIM_QUESTION, api_name="/ask")
    output = main_server.output()
    assert output.count("coopqa: chargement du modèle") == 1
    assert output.count("coopqa: prêt") == 1
    assert "Traceback" not in output


# --------------------------------------------------------------------------- app.py start-up


def load_app_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("coopqa_app", ROOT / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_server_variables_do_not_reach_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = load_app_module()
    defaults = app.build_parser({}).parse_args([])
    assert (defaults.host, defaults.port, defaults.feedback) == ("127.0.0.1", 7860, Path("feedback") / "feedback.jsonl")
    environ = {"COOPQA_HOST": "0.0.0.0", "COOPQA_PORT": "8123", "COOPQA_FEEDBACK": str(tmp_path / "f.jsonl"), "COOPQA_TOP_K": "7"}
    args = app.build_parser(environ).parse_args(["--index", str(tmp_path / "idx")])
    assert (args.host, args.port, args.feedback, args.concurrency) == ("0.0.0.0", 8123, tmp_path / "f.jsonl", 1)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    settings = app.settings_from_args(args)
    assert settings.top_k == 7 and settings.index_dir == tmp_path / "idx"


@pytest.mark.parametrize(("args", "message"), [(["--port", "99999"], "port must be between"), (["--concurrency", "x"], "whole number")])
def test_bad_server_flags_are_one_line_errors(args: list[str], message: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "app.py"), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


# --------------------------------------------------------------------------- rendering


def _document() -> Document:
    """A document whose name, section path and text all carry markup."""
    text = "Titre\n\nAvant. <b>Phrase</b> [lien](javascript:x) & fin.\nAprès.\n\nAutre section."
    first_end = text.index("\n\nAutre")
    sections = (Section(7, first_end, ("Sec <i>",)), Section(first_end + 2, len(text), ("Autre",)))
    return Document("d<1>.txt", text, "0" * 64, "Titre", sections)


def _hit(document: Document) -> Hit:
    """The passage ``<b>Phrase</b> … fin.`` with ``<b>Phrase</b> [lien](javascript:x)`` as its answer."""
    start, end = document.text.index("<b>"), document.text.index("\nAprès")
    passage = Passage(document.doc_id, ("Sec <i>",), start, end, document.text[start:end])
    return Hit(1, passage, 0.5, start, document.text.index(" & fin"))


def test_escape_text_leaves_no_markup() -> None:
    rendered = escape_text("<script>a</script> [x](javascript:y) **b** $c$ & \"q\" 'r'\nligne")
    assert "<" not in rendered.replace("<br>", "") and ">" not in rendered.replace("<br>", "")
    assert not any(ch in rendered for ch in "[]()*$\"'\n")
    assert rendered.endswith("<br>ligne")


def test_mark_span_nests_and_clamps() -> None:
    def inner(text: str) -> str:
        return mark_span(text, 12, (12, 13), ("<i>", "</i>"))

    assert mark_span("abcdef", 10, (12, 14), ("<b>", "</b>"), inner) == "ab<b><i>c</i>d</b>ef"
    assert mark_span("abc", 0, (-5, 99), ("[", "]")) == "[abc]"


def test_context_is_the_whole_section_with_the_citation_marked() -> None:
    document = _document()
    html = render_context(_hit(document), document)
    order = ["Avant.", '<span class="coopqa-cited">', "<mark>&#60;b&#62;Phrase", "</mark> &#38; fin.", "</span>", "Après."]
    positions = [html.index(piece) for piece in order]
    assert positions == sorted(positions)
    assert html.count("<mark>") == 1 and "Autre section" not in html and "Titre" not in html
    assert "<b>" not in html and "javascript:" not in html


def test_answer_html_is_one_line_and_escapes_everything() -> None:
    document = _document()
    answer = Answer("q", "hybrid", False, (_hit(document),), 12.0, 0.9)
    html = render_answer(answer, {document.doc_id: document})
    assert "\n" not in html
    assert "d&#60;1&#62;.txt" in html and "Sec &#60;i&#62;" in html
    assert "<i>" not in html and "<b>" not in html and "javascript:" not in html
    abstained = render_answer(Answer("q", "bm25", True, (_hit(document),), 3.0, 0.1), {document.doc_id: document})
    assert "pas trouvé de réponse" in abstained and "peut-être utiles" in abstained and "Recherche lexical" in abstained


def _short_answer(confident: bool) -> tuple[str, str]:
    document = _document()
    hit = _hit(document)
    inside = document.text.index(document.text[hit.highlight_start : hit.highlight_end].split()[0], hit.highlight_start)
    word = document.text[hit.highlight_start : hit.highlight_end].split()[0]
    short = ShortAnswer(word, document.doc_id, inside, inside + len(word), 0.95 if confident else 0.4, 1, confident)
    return word, render_answer(Answer("q", "hybrid", False, (hit,), 1.0, 0.9, short), {document.doc_id: document})


def test_a_confident_short_answer_is_shown_first_in_bold_and_marked_inside_the_highlight() -> None:
    word, html = _short_answer(confident=True)
    lead = html.index('class="coopqa-short"')
    assert lead < html.index('class="coopqa-source')
    assert f'Réponse : <strong class="coopqa-answer">{escape_text(word)}</strong> [1]' in html
    marked = html[html.index("<mark>") : html.index("</mark>")]
    assert f'<strong class="coopqa-span">{escape_text(word)}</strong>' in marked
    assert "Réponse possible" not in html and "\n" not in html


def test_an_answer_that_is_not_confident_is_a_possible_answer_in_normal_weight_with_a_note() -> None:
    word, html = _short_answer(confident=False)
    assert f'Réponse possible : <span class="coopqa-answer">{escape_text(word)}</span> [1]' in html
    assert "vérifiez-la dans le passage cité" in html
    assert "<strong" not in html, "nothing of an unverified answer is in bold"
    marked = html[html.index("<mark>") : html.index("</mark>")]
    assert f'<span class="coopqa-span coopqa-unverified">{escape_text(word)}</span>' in marked
