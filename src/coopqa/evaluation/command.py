"""``coopqa eval``: read a QA set, open (or build) the corpus, measure every mode, report, guard.

The run is ordered so that a mistake costs seconds, not minutes: options, the
QA file, question validity, the output folder and the thresholds' measurability
are all checked before the model loads or a temporary index is built.
Standard output carries only the summary and the table; progress (the model,
the index build, the per-question bar) goes to standard error, so
``coopqa eval … > table.txt`` works. Exit status: 0, 1 when a quality
threshold fails (CI guards), 2 on a user error (bad option, malformed row).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from coopqa.config import MODES, Settings
from coopqa.documents import Document
from coopqa.errors import ConfigError, CoopqaError, InvalidQuestionError
from coopqa.evaluation.metrics import CHUNK, DEPTH, Judge, ParagraphJudge, Relevance, evaluate, evaluate_reading
from coopqa.evaluation.qa_formats import QASet, read_qa_file
from coopqa.evaluation.report import EvalRun, summary_lines, text_table, write_outputs
from coopqa.evaluation.splits import HALVES, SPLITS, article_split, question_split
from coopqa.index import IndexData, build_index, current_version, load_index
from coopqa.index.milvus_reader import MilvusIndex
from coopqa.index.milvus_store import build_milvus_index
from coopqa.model import Embedder
from coopqa.pipeline import Assistant, Reader, clean_history, clean_question, open_milvus

#: ``--flag`` destination, metric, and whether the metric must stay at least (min) or at most (max) the value.
THRESHOLDS: tuple[tuple[str, str, str], ...] = (
    ("min_hit1", "hit@1", "min"),
    ("min_hit5", "hit@5", "min"),
    ("min_mrr", "mrr@10", "min"),
    ("min_highlight", "highlight_accuracy", "min"),
    ("min_abstained", "abstained_unanswerable", "min"),
    ("max_wrongly_abstained", "wrongly_abstained", "max"),
    ("min_f1", "short_answer_f1", "min"),
)
#: Skipped rows echoed on the terminal (all are in metrics.json and report.md).
ECHOED_PROBLEMS = 10


@dataclass(frozen=True)
class EvalOptions:
    qa_file: Path
    modes: list[str]
    k: int
    corpus_from_file: bool
    out: Path | None
    skip_invalid: bool
    limit: int | None
    quiet: bool
    thresholds: dict[str, float]
    split: str | None = None
    reading: bool = False
    #: Only the ``fit`` or ``test`` half of a coopqa QA set (``question_split``): calibrate on one, report the other.
    half: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> EvalOptions:
        modes = list(dict.fromkeys(mode.strip() for mode in str(args.modes).split(",") if mode.strip()))
        unknown = [mode for mode in modes if mode not in MODES]
        if not modes or unknown:
            raise ConfigError(f"--modes takes a comma-separated list of {', '.join(MODES)}; got {args.modes!r}")
        if not DEPTH <= args.eval_k <= 100:
            raise ConfigError(f"-k must be between {DEPTH} and 100 (the metrics go to @{DEPTH}), got {args.eval_k}")
        if args.limit is not None and args.limit < 1:
            raise ConfigError(f"--limit must be at least 1, got {args.limit}")
        thresholds = {dest: getattr(args, dest) for dest, _, _ in THRESHOLDS if getattr(args, dest, None) is not None}
        for dest, value in thresholds.items():
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"--{dest.replace('_', '-')} is a share between 0 and 1, got {value}")
        split = getattr(args, "split", None)
        if split is not None and split not in SPLITS:
            raise ConfigError(f"--split takes one of {', '.join(SPLITS)}, got {split!r}")
        reading = bool(getattr(args, "reading", False))
        half = getattr(args, "half", None)
        if half is not None and half not in HALVES:
            raise ConfigError(f"--half takes one of {', '.join(HALVES)}, got {half!r}")
        return cls(
            args.qa_file, modes, args.eval_k, args.corpus_from_file, args.out, args.skip_invalid, args.limit, args.quiet, thresholds, split, reading, half
        )

    def command(self) -> str:
        """The evaluation as a command line (settings flags are listed in the report's settings)."""
        words = ["coopqa", "eval", str(self.qa_file), "--modes", ",".join(self.modes), "-k", str(self.k)]
        words += ["--corpus-from-file"] * self.corpus_from_file + ["--skip-invalid"] * self.skip_invalid
        words += ["--limit", str(self.limit)] if self.limit else []
        words += ["--split", self.split] if self.split else []
        words += ["--half", self.half] if self.half else []
        words += ["--reading"] * self.reading
        for dest, value in self.thresholds.items():
            words += [f"--{dest.replace('_', '-')}", str(value)]
        return shlex.join(words)


def run_eval(settings: Settings, args: argparse.Namespace) -> int:
    """Entry point of ``coopqa eval`` (called by :func:`coopqa.cli.main`)."""
    began = time.perf_counter()
    options = EvalOptions.from_args(args)
    qaset = load_questions(options, settings)
    _check_measurable(options, qaset)
    if options.out is not None:
        _prepare_output(options.out)
    with open_corpus(settings, qaset, options) as (retriever, relevance, corpus, timing):
        for item in list(qaset.items):
            reason = relevance.problem(item)
            if reason is not None:
                qaset.reject(item, reason)
        if not qaset.items:
            raise CoopqaError(f"no question of {options.qa_file} can be judged against this corpus ({len(qaset.problems)} skipped)")
        _echo_problems(qaset)
        asked = time.perf_counter()
        with tqdm(total=len(qaset.items) * len(options.modes), desc="coopqa eval", unit="q", file=sys.stderr, disable=options.quiet) as bar:
            reports = evaluate(retriever, qaset.items, options.modes, options.k, relevance, bar.update)
        if options.reading:
            if retriever.reader is None:
                raise ConfigError("--reading needs the reader (it is off: reader = off)")
            reports.append(evaluate_reading(retriever.reader, qaset.items, {document.doc_id: document.text for document in qaset.documents}))
        timing["questions_s"] = time.perf_counter() - asked
        settings_record = _settings_record(settings, options, retriever.embedder.model_id)
    timing["wall_s"] = time.perf_counter() - began
    run = EvalRun(qaset, reports, relevance.description, settings_record, corpus, timing, options.command())
    print("\n".join(summary_lines(run)) + "\n\n" + text_table(run))
    if options.out is not None:
        written = write_outputs(run, options.out)
        print("\nWrote " + ", ".join(str(path) for path in written))
    failures = threshold_failures(run.metrics(), options.thresholds)
    for failure in failures:
        print(f"coopqa: quality below threshold: {failure}", file=sys.stderr)
    return 1 if failures else 0


def load_questions(options: EvalOptions, settings: Settings) -> QASet:
    """The QA set, limited, with every question the retriever would refuse taken out (or stopping on it)."""
    qaset = read_qa_file(options.qa_file, options.skip_invalid)
    if options.corpus_from_file and qaset.format != "squad":
        raise CoopqaError(f"--corpus-from-file needs a SQuAD JSON file; {options.qa_file} is {qaset.format.upper()}")
    if options.reading and qaset.format != "squad":
        raise CoopqaError(f"--reading needs a SQuAD JSON file (each question is read against its own paragraph); {options.qa_file} is {qaset.format.upper()}")
    if options.split is not None:
        titles = {document.doc_id: document.title for document in qaset.documents}
        qaset.items = [item for item in qaset.items if article_split(titles.get(item.doc or "", item.qid) if titles else item.qid) == options.split]
    if options.half is not None:
        qaset.items = [item for item in qaset.items if question_split(item.qid) == options.half]
    if options.limit is not None:
        qaset.items = qaset.items[: options.limit]
    for item in list(qaset.items):
        try:
            clean_question(item.question, settings.max_question_chars)
            clean_history(list(item.history), settings.max_question_chars)
        except InvalidQuestionError as error:
            qaset.reject(item, error.message)
    if not qaset.items:
        raise CoopqaError(f"no usable question in {options.qa_file} ({len(qaset.problems)} invalid row(s) skipped)")
    return qaset


def _check_measurable(options: EvalOptions, qaset: QASet) -> None:
    """A threshold on a metric the set cannot measure is a configuration mistake, not a pass."""
    unanswerable = len(qaset.items) - qaset.answerable
    with_answers = sum(1 for item in qaset.items if item.answerable and item.answers)
    needs = {"min_abstained": (unanswerable, "unanswerable questions"), "min_highlight": (with_answers, "answerable questions with an answer text")}
    for dest in options.thresholds:
        count, what = needs.get(dest, (qaset.answerable, "answerable questions"))
        if count == 0:
            raise ConfigError(f"--{dest.replace('_', '-')} cannot be checked: {options.qa_file} has no {what}")


def _prepare_output(folder: Path) -> None:
    """Fail before the run, not after it, when the report cannot be written."""
    if importlib.util.find_spec("matplotlib") is None:
        raise ConfigError("--out needs matplotlib for recall_at_k.png", "pip install 'coopqa[eval]'")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot create the output folder {folder}: {error.strerror}") from None


def _echo_problems(qaset: QASet) -> None:
    if not qaset.problems:
        return
    for problem in qaset.problems[:ECHOED_PROBLEMS]:
        print(f"coopqa: skipped {problem.where}: {problem.reason}", file=sys.stderr)
    more = len(qaset.problems) - ECHOED_PROBLEMS
    if more > 0:
        print(f"coopqa: … and {more} more (all are listed in report.md and metrics.json with --out)", file=sys.stderr)
    print(f"coopqa: {len(qaset.problems)} invalid row(s) skipped, {len(qaset.items)} question(s) evaluated", file=sys.stderr)


@contextlib.contextmanager
def open_corpus(settings: Settings, qaset: QASet, options: EvalOptions) -> Iterator[tuple[Assistant, Relevance, dict[str, Any], dict[str, float]]]:
    """The retriever to evaluate, its relevance rule, what the corpus is, and setup timings.

    ``--corpus-from-file`` indexes the SQuAD file's paragraphs in a temporary
    folder (same model and chunking settings), removed when the run ends even
    on an error. Otherwise the coopqa index is used, built first if there is
    none (and then its build time is reported, not hidden in setup).
    """
    progress = not options.quiet
    timing: dict[str, float] = {"index_build_s": 0.0}
    with contextlib.ExitStack() as stack:
        with contextlib.redirect_stdout(sys.stderr):  # library progress lines are not results
            began = time.perf_counter()
            embedder = Embedder(settings, progress=progress)
            timing["model_load_s"] = time.perf_counter() - began
            if options.corpus_from_file:
                # a temporary index; with the Milvus store, a temporary Milvus Lite file in it (never the configured engine)
                temporary = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="coopqa-eval-")))
                index_settings = replace(settings, index_dir=temporary, milvus_uri="")
                if progress:
                    print(f"coopqa: indexing the {len(qaset.documents)} paragraphs of {options.qa_file} in a temporary index…", flush=True)
                timing["index_build_s"] = build_store(index_settings, embedder, progress, qaset.documents)
                kind, origin = "temporary index of the file's paragraphs", "temporary"
            else:
                index_settings = settings
                origin, kind = "prebuilt", "coopqa index"
                if not store_published(settings):
                    if progress:
                        print(f"coopqa: no index in {settings.index_dir}; building it from {settings.corpus_dir}…", file=sys.stderr, flush=True)
                    timing["index_build_s"] = build_store(settings, embedder, progress, None)
                    origin = "built now"
            data = open_milvus(index_settings, embedder, progress) if index_settings.store == "milvus" else load_index(index_settings.index_dir)
            retriever = Assistant(data, embedder, index_settings, reader=Reader.for_settings(settings, progress))
        corpus = {
            "kind": kind,
            "origin": origin,
            "index_dir": None if options.corpus_from_file else str(settings.index_dir),
            "index_version": data.folder.name if isinstance(data, IndexData) else f"{data.ref.name} v{data.version}",
            "documents": data.manifest["counts"]["documents"],
            "passages": data.manifest["counts"]["passages"],
            "sentences": data.manifest["counts"]["sentences"],
            "index_build_s": timing["index_build_s"],
        }
        relevance: Relevance = ParagraphJudge() if options.corpus_from_file else Judge({d: doc.text for d, doc in data.documents.items()})
        yield retriever, relevance, corpus, timing


def store_published(settings: Settings) -> bool:
    """Whether the configured store already holds a published index."""
    if settings.store == "milvus":
        return MilvusIndex.open(settings) is not None
    return current_version(settings.index_dir) is not None


def build_store(settings: Settings, embedder: Embedder, progress: bool, documents: list[Document] | None) -> float:
    """Build the configured store's index; returns the seconds it took."""
    if settings.store == "milvus":
        return build_milvus_index(settings, embedder, progress=progress, documents=documents).seconds
    return build_index(settings, embedder, progress=progress, documents=documents).seconds


def _settings_record(settings: Settings, options: EvalOptions, model_id: str) -> dict[str, Any]:
    values = {f.name: getattr(settings, f.name) for f in fields(settings)}
    record: dict[str, Any] = {name: str(value) if isinstance(value, Path) else value for name, value in values.items()}
    if options.corpus_from_file:
        record["index_dir"] = "(temporary, removed after the run)"
    record["model_id"] = model_id
    record["eval"] = {
        "modes": options.modes,
        "k": options.k,
        "limit": options.limit,
        "corpus_from_file": options.corpus_from_file,
        "split": options.split,
        "half": options.half,
        "reading": options.reading,
        "skip_invalid": options.skip_invalid,
        "questions_per_batch": CHUNK,
        "thresholds": {dest.replace("_", "-"): value for dest, value in options.thresholds.items()},
    }
    return record


def threshold_failures(metrics: dict[str, dict[str, float | int | None]], thresholds: dict[str, float]) -> list[str]:
    """One line per (threshold, mode) that fails; a metric that could not be measured fails too."""
    failures = []
    for dest, key, direction in THRESHOLDS:
        if dest not in thresholds:
            continue
        limit = thresholds[dest]
        flag = "--" + dest.replace("_", "-")
        for mode, values in metrics.items():
            value = values.get(key)
            if value is None:
                failures.append(f"{mode}: {key} could not be measured ({flag} {limit})")
            elif (value < limit) if direction == "min" else (value > limit):
                relation = "<" if direction == "min" else ">"
                failures.append(f"{mode}: {key} = {value:.4f} {relation} {limit} ({flag})")
    return failures
