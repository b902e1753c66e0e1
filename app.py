"""Start the coopqa chat: ``python app.py [--host H] [--port P] [--feedback FILE] [coopqa settings]``.

The model and the index are loaded (the index built if missing) once, before
the server starts, with progress in the terminal; every question then reuses
them. Host, port, feedback file and concurrency come from flags or from
``COOPQA_HOST``, ``COOPQA_PORT``, ``COOPQA_FEEDBACK`` and
``COOPQA_CONCURRENCY``; corpus, index and model from the usual coopqa
settings (flags, ``COOPQA_*`` variables, ``coopqa.toml``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from coopqa.cli import add_setting_flags, quiet_libraries, settings_from_args
from coopqa.config import Settings
from coopqa.errors import ConfigError, CoopqaError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_FEEDBACK = Path("feedback") / "feedback.jsonl"


def _bounded_int(name: str, low: int, high: int) -> type[int]:
    """An argparse type accepting whole numbers in ``[low, high]`` with a clear message otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be between {low} and {high}, got {value}")
        return value

    return parse  # type: ignore[return-value]


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="app.py", description="Assistant de questions-réponses (Gradio) sur le corpus indexé : réponse courte et passages cités."
    )
    server = parser.add_argument_group("server (flags > COOPQA_HOST/PORT/FEEDBACK/CONCURRENCY > defaults)")
    server.add_argument("--host", default=environ.get("COOPQA_HOST", DEFAULT_HOST), help=f"interface to listen on (default: {DEFAULT_HOST})")
    server.add_argument(
        "--port",
        type=_bounded_int("port", 1, 65535),
        default=environ.get("COOPQA_PORT", str(DEFAULT_PORT)),
        help=f"port to listen on (default: {DEFAULT_PORT})",
    )
    server.add_argument(
        "--feedback",
        type=Path,
        default=environ.get("COOPQA_FEEDBACK", str(DEFAULT_FEEDBACK)),
        help=f"JSONL file the 👍/👎 ratings are appended to (default: {DEFAULT_FEEDBACK})",
    )
    server.add_argument(
        "--concurrency",
        type=_bounded_int("concurrency", 1, 64),
        default=environ.get("COOPQA_CONCURRENCY", "1"),
        help="questions answered at the same time; the rest wait in the queue (default: 1)",
    )
    add_setting_flags(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    quiet_libraries()
    args = build_parser(os.environ).parse_args(argv)
    try:
        from coopqa.pipeline import Assistant
        from coopqa.ui import FeedbackLog, build_app, serve

        settings: Settings = settings_from_args(args)
        feedback = FeedbackLog(args.feedback)
        feedback.check()
        print(f"coopqa: chargement du modèle ({settings.model}) et de l'index ({settings.index_dir})…", file=sys.stderr, flush=True)
        retriever = Assistant.open(settings, progress=True)
        print(f"coopqa: prêt — {len(retriever.data.passages)} passages ; avis enregistrés dans {args.feedback}", file=sys.stderr, flush=True)
        demo = build_app(retriever, feedback, args.concurrency)
        try:
            serve(demo, args.host, args.port)
        except OSError as error:  # the port is taken, or the host is not an address of this machine
            raise ConfigError(f"cannot serve on {args.host}:{args.port}: {error}", "pass another --port or --host (or COOPQA_PORT/COOPQA_HOST)") from None
    except CoopqaError as error:
        print(f"coopqa: error: {error.one_line()}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
