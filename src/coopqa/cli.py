"""``coopqa`` command line: ``index``, ``ask`` (one question or a batch file), ``eval``.

Every user error ends as one line on stderr and exit status 2; an unexpected
bug ends as one line too (``COOPQA_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from coopqa.config import MODES, Settings, load_settings
from coopqa.errors import CoopqaError, InputFileError
from coopqa.json_input import holds_unpaired_surrogate, json_error_reason

#: A batch file may not hold more questions than this (one model pass each).
MAX_BATCH_LINES = 100_000
_DEFAULTS = Settings()
#: Settings every front end accepts as flags: flag → (Settings field, type, help).
SETTING_FLAGS = {
    "corpus": ("corpus_dir", Path, f"folder of .txt/.md/.html/.pdf documents (default: {_DEFAULTS.corpus_dir})"),
    "index": ("index_dir", Path, f"folder of the persisted index (default: {_DEFAULTS.index_dir})"),
    "model": ("model", str, f"model alias, sentence-transformers name, or local folder (default: {_DEFAULTS.model})"),
    "backend": ("backend", str, (
            "encoder: onnx (fp32 through ONNX Runtime, no PyTorch), onnx-int8 (int8 weights, fastest) or torch (sentence-transformers); "
            f"the ONNX files are exported once into the model cache (default: {_DEFAULTS.backend})"
        )),
    "model-cache": ("model_cache", Path, f"where the converted default model is kept (default: {_DEFAULTS.model_cache})"),
    "chunk-size": ("chunk_size", int, f"passage size in characters (default: {_DEFAULTS.chunk_size})"),
    "reader": ("reader", str, f"the extractive reader: on (short answer, reranking, answer-level abstention) or off (default: {_DEFAULTS.reader})"),
    "chunk-overlap": ("chunk_overlap", int, f"overlap between passages in characters (default: {_DEFAULTS.chunk_overlap})"),
    "sentence-vectors": ("sentence_vectors", str, (
            "how a build gets sentence vectors: separate (each sentence encoded again) or late (pooled from its passage's pass, "
            f"one encoder pass; ONNX backends) (default: {_DEFAULTS.sentence_vectors})"
        )),
    "store": ("store", str, f"where the index lives: faiss (files in --index) or milvus (a Milvus engine at --milvus-uri) (default: {_DEFAULTS.store})"),
    "milvus-ranker": ("milvus_ranker", str, f"Milvus store, hybrid: coopqa's fusion or the engine's rrf or weighted (default: {_DEFAULTS.milvus_ranker})"),
    "milvus-uri": ("milvus_uri", str, "Milvus Lite file (./milvus.db) or server (http://host:19530); token: COOPQA_MILVUS_TOKEN (default: INDEX/milvus.db)"),
}


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """The settings flags, accepted before or after a subcommand (unset flags stay unset)."""
    group = parser.add_argument_group("settings (flags > COOPQA_* environment > coopqa.toml > defaults)")
    group.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML settings file (default: ./coopqa.toml if present)")
    for flag, (dest, kind, text) in SETTING_FLAGS.items():
        group.add_argument(f"--{flag}", dest=dest, type=kind, default=argparse.SUPPRESS, help=text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coopqa",
        allow_abbrev=False,
        description="Questions en français sur un corpus de documents : réponse courte, passages cités, ou « je n'ai pas trouvé ».",
    )
    add_setting_flags(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="{index,ask,eval}")

    index = commands.add_parser("index", allow_abbrev=False, help="build or update the index from the corpus")
    add_setting_flags(index)
    index.add_argument("--quiet", action="store_true", help="no progress output")
    index.add_argument(
        "--shard", metavar="I/N", help="Milvus store: embed only shard I of N (files chosen by a hash of their path) into the pending version"
    )
    index.add_argument("--publish", action="store_true", help="Milvus store: publish the pending version once every shard has finished")

    ask = commands.add_parser("ask", allow_abbrev=False, help="answer a question (or every line of --batch FILE)")
    add_setting_flags(ask)
    ask.add_argument("question", nargs="?", help="the question, in French")
    ask.add_argument("-k", type=int, dest="top_k", default=None, help="number of passages (1-100, default 5)")
    ask.add_argument("--mode", choices=MODES, default=None, help="retrieval mode (default: hybrid)")
    ask.add_argument("--json", action="store_true", help="print the JSON contract instead of text")
    ask.add_argument("--batch", type=Path, help="JSONL file (or - for stdin), one {\"question\": …} per line, optionally with \"history\": [earlier questions]")
    ask.add_argument(
        "--history",
        action="append",
        metavar="EARLIER",
        help="an earlier question of the conversation, oldest first (repeatable): the question may then be a follow-up",
    )

    evaluate = commands.add_parser("eval", allow_abbrev=False, help="measure retrieval on a QA set (JSONL, CSV or SQuAD JSON)")
    add_setting_flags(evaluate)
    evaluate.add_argument("qa_file", type=Path, help="QA set: .jsonl, .csv, or SQuAD v1.1/v2.0 .json")
    evaluate.add_argument("--modes", default="bm25,dense,hybrid", help="comma-separated modes, evaluated side by side (default: all three)")
    evaluate.add_argument("-k", type=int, dest="eval_k", default=10, help="passages retrieved per question (default 10)")
    evaluate.add_argument("--corpus-from-file", action="store_true", help="SQuAD only: index the file's own paragraphs in a temporary index")
    evaluate.add_argument("--out", type=Path, help="write metrics.json, report.md and recall_at_k.png here")
    evaluate.add_argument("--skip-invalid", action="store_true", help="skip malformed rows (counted and reported) instead of stopping")
    evaluate.add_argument("--limit", type=int, help="evaluate only the first N questions")
    evaluate.add_argument("--split", help="only this part of the file: train, calibration or test (SQuAD: by article title; others: by question id)")
    evaluate.add_argument(
        "--half", choices=("fit", "test"), help="only this half of a coopqa QA set (by question id): thresholds are chosen on fit, reported on test"
    )
    evaluate.add_argument("--reading", action="store_true", help="SQuAD only: also read each question against its own paragraph (the reader alone)")
    for metric, text in (
        ("hit1", "hit@1"),
        ("hit5", "hit@5"),
        ("mrr", "MRR@10"),
        ("highlight", "highlight accuracy"),
        ("abstained", "share of unanswerable questions abstained"),
    ):
        evaluate.add_argument(f"--min-{metric}", type=float, help=f"exit 1 if {text} of any evaluated mode is below this")
    evaluate.add_argument("--min-f1", type=float, help="exit 1 if the short-answer mean F1 of any evaluated mode is below this")
    evaluate.add_argument("--max-wrongly-abstained", type=float, help="exit 1 if the share of answerable questions abstained exceeds this")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {dest: getattr(args, dest) for dest, _, _ in SETTING_FLAGS.values() if hasattr(args, dest)}
    if getattr(args, "top_k", None) is not None:
        overrides["top_k"] = args.top_k
    if getattr(args, "mode", None) is not None:
        overrides["mode"] = args.mode
    return load_settings(overrides, getattr(args, "config", None))


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"I/N"`` → ``(I, N)``, or a one-line error saying the form."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None or int(match.group(2)) < 1 or int(match.group(1)) >= int(match.group(2)):
        raise CoopqaError(f"--shard {text!r} is not I/N with 0 <= I < N", "for example --shard 0/2 on one worker and --shard 1/2 on another")
    return int(match.group(1)), int(match.group(2))


def run_index(settings: Settings, quiet: bool, shard_text: str | None = None, publish: bool = False) -> int:
    from coopqa.documents import read_corpus
    from coopqa.index import build_index
    from coopqa.model import Embedder, open_reader

    shard = parse_shard(shard_text)
    if (shard is not None or publish) and settings.store != "milvus":
        raise CoopqaError("--shard and --publish build a Milvus index", "add --store milvus (and --milvus-uri of the shared engine)")
    if shard is not None and publish:
        raise CoopqaError("give --shard I/N or --publish, not both: publish once every shard has finished")
    if publish:
        from coopqa.index.milvus_store import publish_milvus_shards

        published = publish_milvus_shards(settings)
        print(f"Index publié : version {published.version}, {published.documents} document(s), {published.passages} passages → {published.uri}")
        return 0
    documents = read_corpus(settings.corpus_dir)  # a bad file fails fast, before the model loads
    embedder = Embedder(settings, progress=not quiet)
    if settings.store == "milvus":
        return _run_milvus_index(settings, embedder, documents, quiet, shard)
    report = build_index(settings, embedder, progress=not quiet, documents=documents)
    if settings.reader == "on":
        open_reader(settings, progress=not quiet)  # the one-time export happens at set-up, not at the first question
    if report.unchanged:
        print(f"Index à jour : {report.documents} document(s) inchangé(s) dans {settings.index_dir} ({report.seconds:.1f} s).")
    else:
        print(
            f"Index construit : {report.documents} document(s) ({report.reused_documents} réutilisé(s)), "
            f"{report.passages} passages, {report.sentences} phrases, en {report.seconds:.1f} s → {report.folder}"
        )
    return 0


def _run_milvus_index(settings: Settings, embedder: Any, documents: list[Any], quiet: bool, shard: tuple[int, int] | None) -> int:
    from coopqa.index.milvus_store import build_milvus_index, build_milvus_shard
    from coopqa.model import open_reader

    if shard is not None:
        built = build_milvus_shard(settings, embedder, shard[0], shard[1], progress=not quiet, documents=documents)
        print(
            f"Shard {shard[0]}/{shard[1]} construit : {built.documents} document(s) ({built.reused_documents} réutilisé(s)), "
            f"{built.passages} passages, en {built.seconds:.1f} s → {built.uri}, version {built.version} (non publiée : coopqa index --publish)"
        )
        return 0
    built = build_milvus_index(settings, embedder, progress=not quiet, documents=documents)
    if settings.reader == "on":
        open_reader(settings, progress=not quiet)  # the one-time export happens at set-up, not at the first question
    where = f"{built.uri}, version {built.version}"
    if built.unchanged:
        print(f"Index à jour : {built.documents} document(s) inchangé(s) dans {where} ({built.seconds:.1f} s).")
    else:
        print(
            f"Index construit : {built.documents} document(s) ({built.reused_documents} réutilisé(s)), "
            f"{built.passages} passages, {built.sentences} phrases, en {built.seconds:.1f} s → {where}"
        )
    return 0


def read_batch(path: Path) -> list[dict[str, Any]]:
    """Every line of a batch file, validated up front so no answer is printed for a bad file."""
    try:
        handle = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
    except OSError as error:
        raise InputFileError(f"cannot read batch file {path}: {error.strerror}") from None
    records: list[dict[str, Any]] = []
    try:
        for number, line in enumerate(_lines(handle, path), start=1):
            if not line.strip():
                continue
            records.append(_batch_record(line, path, number))
            if len(records) > MAX_BATCH_LINES:
                raise InputFileError(f"{path}: more than {MAX_BATCH_LINES} questions", "split the file")
    finally:
        if handle is not sys.stdin:
            handle.close()
    if not records:
        raise InputFileError(f"{path} holds no questions", "write one JSON object with a \"question\" per line")
    return records


def _lines(handle: Any, path: Path) -> Iterator[str]:
    try:
        yield from handle
    except UnicodeDecodeError as error:
        raise InputFileError(f"{path} is not valid UTF-8 (byte {error.start})") from None


def _batch_record(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as error:
        raise InputFileError(f"{path} line {number}: not valid JSON ({json_error_reason(error)})") from None
    if holds_unpaired_surrogate(record):  # JSON "\\ud800" is not text and cannot be printed back as UTF-8
        raise InputFileError(f"{path} line {number}: holds an unpaired surrogate (\\ud800-\\udfff), not valid text")
    if not isinstance(record, dict):
        raise InputFileError(f"{path} line {number}: expected a JSON object, got {type(record).__name__}")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise InputFileError(f"{path} line {number}: \"question\" must be a non-empty string")
    return record


def run_ask(settings: Settings, args: argparse.Namespace) -> int:
    from coopqa.pipeline import Assistant, answer_to_json, answer_to_text, clean_history, clean_question

    if args.batch is None and args.question is None:
        raise CoopqaError("ask needs a question or --batch FILE", 'try: coopqa ask "Quelle est votre question ?"')
    if args.batch is not None and args.question is not None:
        raise CoopqaError("give either a question or --batch FILE, not both")
    if args.batch is None:
        records = [{"question": args.question} | ({"history": args.history} if args.history else {})]
    else:
        if args.history:
            raise CoopqaError("--history goes with a single question; in a batch file give each line its own \"history\"")
        records = read_batch(args.batch)
    for number, record in enumerate(records, start=1):
        try:
            clean_question(record["question"], settings.max_question_chars)
            clean_history(record.get("history"), settings.max_question_chars)
        except CoopqaError as error:
            where = f"{args.batch} line {number}: " if args.batch is not None else ""
            raise type(error)(where + error.message, error.hint) from None
    retriever = Assistant.open(settings, progress=not args.json or sys.stderr.isatty())
    step = settings.batch_size
    for offset in range(0, len(records), step):
        chunk = records[offset : offset + step]
        histories = [r.get("history") for r in chunk]
        answers = retriever.ask_many([r["question"] for r in chunk], settings.top_k, settings.mode, histories)
        for record, answer in zip(chunk, answers):
            extra = {key: value for key, value in record.items() if key != "question"}
            if args.json:
                print(json.dumps(answer_to_json(answer, extra), ensure_ascii=False), flush=True)
            else:
                print(answer_to_text(answer), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    quiet_libraries()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
        if args.command == "index":
            return run_index(settings, args.quiet, args.shard, args.publish)
        if args.command == "ask":
            return run_ask(settings, args)
        from coopqa.evaluation import run_eval

        return run_eval(settings, args)
    except CoopqaError as error:
        print(f"coopqa: error: {error.one_line()}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("coopqa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # the promise is: never a traceback for a user
        if os.environ.get("COOPQA_DEBUG") == "1":
            raise
        print(f"coopqa: internal error: {type(error).__name__}: {error} (set COOPQA_DEBUG=1 for details)", file=sys.stderr)
        return 1


def quiet_libraries() -> None:
    """Library chatter (load reports, weight-loading bars) is noise to a user."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


if __name__ == "__main__":
    sys.exit(main())
