"""Front end, evaluation: read QA sets (JSONL, CSV, SQuAD), judge every answer, report metrics, guard thresholds.

``coopqa eval`` is :func:`run_eval`; the metrics are importable on their own for benchmarks.
"""

from coopqa.evaluation.command import run_eval

__all__ = ["run_eval"]
