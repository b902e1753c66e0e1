"""Choose how retrieval uses the reader (passages read, reranking weight, abstention margin) by measurement.

    HF_HUB_OFFLINE=1 .venv/bin/python training/reader_policy.py [--cache /tmp/reading.json] [--passages 3]

The reader's outputs are computed once per question and cached: for each question of the shipped QA
set (answerable and unanswerable) and of the hard on-topic unanswerable set, the top 5 fused passages
(reader off), the retrieval rule's abstention, and the reader's best span and no-answer score in each of
the top ``--passages`` passages. Every policy is then scored from the cache without reading again:

* **read R passages, rerank with weight w**: a passage read scores ``fused + w × sigmoid(margin)``
  (``fused`` is retrieval's own score, 1.0 for its best passage); the best-scoring one goes first and
  its span is the short answer. ``w = 0`` keeps retrieval's order.
* **abstain below τ**: when the chosen span's margin is below τ (or retrieval's rule abstained).

Questions are split in two by a hash of their id (:func:`coopqa.evaluation.splits.question_split`):
the policy is chosen on ``fit`` and reported on ``test``. Choice rule: the highest fit hit@1, then
F1, with wrongly abstained ≤ ``--max-wrongly-abstained`` on fit; then, for that policy, τ is the
largest threshold that keeps fit wrongly abstained within the same bound (the most abstention on
unanswerable questions it can buy).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from coopqa.config import load_settings
from coopqa.evaluation.answers import best_over_golds
from coopqa.evaluation.metrics import Judge, contains_answer
from coopqa.evaluation.qa_formats import QAItem, read_qa_file
from coopqa.evaluation.splits import question_split
from coopqa.pipeline import MAX_HIGHLIGHT_CHARS, Assistant, Reader
from coopqa.reading.highlight import clause_around

ROOT = Path(__file__).resolve().parents[1]
SETS = ("qa/coopqa-fr.jsonl", "qa/coopqa-fr-unanswerable-ontopic.jsonl")


def collect(retriever: Assistant, reader: Reader, items: list[QAItem], passages_read: int) -> list[dict[str, Any]]:
    """Per question: the retrieval ranking (reader off) and the reader's best span in each of the top passages."""
    records = []
    for item in items:
        answer = retriever.ask(item.question, k=5)
        hits = answer.hits
        read = hits[:passages_read]
        texts = [hit.passage.text for hit in read]
        highlights = [(hit.highlight_start - hit.passage.start, hit.highlight_end - hit.passage.start) for hit in read]
        free = reader.read(item.question, texts).spans if read else ()
        inside = reader.read(item.question, texts, highlights).spans if read else ()
        spans, spans_within = [], []
        for hit, span, span_within in zip(read, free, inside):
            spans.append(_span_record(hit, span))
            spans_within.append(_span_record(hit, span_within))
        records.append(
            {
                "qid": item.qid,
                "retrieval_abstained": answer.abstained,
                "hits": [
                    {"number": _number(retriever, hit.passage), "score": hit.score, "highlight": [hit.highlight_start, hit.highlight_end]} for hit in hits
                ],
                "spans": spans,
                "spans_within": spans_within,
            }
        )
    return records


def _span_record(hit: Any, span: Any) -> dict[str, float] | None:
    if span is None:
        return None
    return {"start": hit.passage.start + span.start, "end": hit.passage.start + span.end, "score": span.score, "null": span.null_score}


def _number(retriever: Assistant, passage: Any) -> int:
    return next(i for i, p in enumerate(retriever.data.passages) if p.doc_id == passage.doc_id and p.start == passage.start and p.end == passage.end)


def sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


def apply(record: dict[str, Any], read: int, weight: float, tau: float, within: bool = False) -> tuple[bool, int | None, tuple[int, int] | None, float]:
    """(abstained, top passage number, short answer span, its margin) under one policy.

    ``within``: the span is the best one inside the passage's retrieval highlight (the free span when there is none).
    """
    hits = record["hits"]
    if not hits:
        return True, None, None, -math.inf
    scored = []
    for position, hit in enumerate(hits[:read]):
        span = record["spans"][position] if position < len(record["spans"]) else None
        if within and position < len(record["spans_within"]) and record["spans_within"][position] is not None:
            span = {**record["spans_within"][position], "null": span["null"] if span else record["spans_within"][position]["null"]}
        margin = span["score"] - span["null"] if span else -math.inf
        bonus = weight * sigmoid(margin) if span else 0.0
        scored.append((hit["score"] + bonus, -position, position, span, margin))
    _total, _neg, position, span, margin = max(scored)
    top = hits[position]["number"]
    abstained = record["retrieval_abstained"] or span is None or margin < tau
    return abstained, top, None if span is None else (span["start"], span["end"]), margin


def score(
    records: list[dict[str, Any]], items: dict[str, QAItem], retriever: Assistant, judge: Judge, read: int, weight: float, tau: float, variant: str = "free"
) -> dict[str, float]:
    """``variant``: ``free`` (span anywhere in the passage, highlight cut around it), ``within`` (span inside retrieval's
    highlight, which is kept when it fits in 300 characters and otherwise cut around the span)."""
    hit1, f1, em, high, high_any, wrong, right, answerable, unanswerable = [], [], [], [], [], [], [], 0, 0
    for record in records:
        item = items[record["qid"]]
        abstained, top, span, _margin = apply(record, read, weight, tau, within=variant == "within")
        if not item.answerable:
            unanswerable += 1
            right.append(abstained)
            continue
        answerable += 1
        wrong.append(abstained)
        passage = retriever.data.passages[top] if top is not None else None
        hit1.append(passage is not None and judge.is_relevant(passage, item, judge.locate(item)))
        if not item.answers:
            continue
        prediction = ""
        holds = holds_any = False
        if passage is not None and span is not None and not abstained:
            prediction = passage.text[span[0] - passage.start : span[1] - passage.start]
            retrieval = next((tuple(h["highlight"]) for h in record["hits"] if h["number"] == top), None)
            if variant == "within" and retrieval is not None and retrieval[0] <= span[0] and span[1] <= retrieval[1]:
                lo, hi = within_highlight(passage, retrieval, span)  # type: ignore[arg-type]
            else:
                lo, hi = answer_highlight(retriever, top, span)  # type: ignore[arg-type]
            text = passage.text[lo - passage.start : hi - passage.start]
            holds_any = contains_answer(text, item.answers)
            holds = holds_any and len(text) <= MAX_HIGHLIGHT_CHARS
        elif passage is not None:
            retrieval = next(tuple(h["highlight"]) for h in record["hits"] if h["number"] == top)
            holds_any = contains_answer(passage.text[retrieval[0] - passage.start : retrieval[1] - passage.start], item.answers)
        exact, overlap = best_over_golds(prediction, list(item.answers))
        em.append(exact)
        f1.append(overlap)
        high.append(holds)
        high_any.append(holds_any)
    return {
        "hit@1": float(np.mean(hit1)),
        "em": float(np.mean(em)),
        "f1": float(np.mean(f1)),
        "highlight_300": float(np.mean(high)),
        "highlight_any": float(np.mean(high_any)),
        "wrongly_abstained": float(np.mean(wrong)),
        "unanswerable_abstained": float(np.mean(right)) if right else float("nan"),
        "answerable": answerable,
        "unanswerable": unanswerable,
    }


def within_highlight(passage: Any, highlight: tuple[int, int], span: tuple[int, int]) -> tuple[int, int]:
    """Retrieval's highlight, cut to its clauses around the span when longer than a quote."""
    lo, hi = highlight
    text = passage.text[lo - passage.start : hi - passage.start]
    first, last = clause_around(text, span[0] - lo, span[1] - lo)
    return lo + first, lo + last


def answer_highlight(retriever: Assistant, number: int, span: tuple[int, int]) -> tuple[int, int]:
    """The sentence(s) holding the span, cut to clauses (what :class:`Assistant` shows)."""
    passage = retriever.data.passages[number]
    start, end = span
    covering = [(lo, hi) for _, lo, hi in retriever.data.sentences_of(number) if lo < end and hi > start] or [(passage.start, passage.end)]
    lo, hi = covering[0][0], covering[-1][1]
    text = passage.text[lo - passage.start : hi - passage.start]
    first, last = clause_around(text, start - lo, end - lo)
    return lo + first, lo + last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/coopqa-reading.json"))
    parser.add_argument("--passages", type=int, default=3)
    parser.add_argument("--max-wrongly-abstained", type=float, default=0.03)
    parser.add_argument("--refresh", action="store_true", help="read again even if the cache exists")
    parser.add_argument("--rows", type=int, default=25, help="policies printed, best first on fit")
    args = parser.parse_args()

    settings = replace(load_settings(), reader="off")
    retriever = Assistant.open(settings, progress=True)
    reader = Reader.for_settings(replace(settings, reader="on"))
    assert reader is not None
    items: dict[str, QAItem] = {}
    for name in SETS:
        for item in read_qa_file(ROOT / name).items:
            items[f"{name}:{item.qid}"] = replace(item, qid=f"{name}:{item.qid}")
    if args.cache.is_file() and not args.refresh:
        records = json.loads(args.cache.read_text(encoding="utf-8"))
    else:
        records = collect(retriever, reader, list(items.values()), args.passages)
        args.cache.write_text(json.dumps(records), encoding="utf-8")
    judge = Judge({doc_id: document.text for doc_id, document in retriever.data.documents.items()})
    parts = {part: [r for r in records if question_split(r["qid"].split(":", 1)[1]) == part] for part in ("fit", "test")}

    taus = (-50.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0)
    grid = list(itertools.product(("free", "within"), range(1, args.passages + 1), (0.0, 0.1, 0.2, 0.3, 0.5, 1.0), taus))
    results = []
    for variant, read, weight, tau in grid:
        fit = score(parts["fit"], items, retriever, judge, read, weight, tau, variant)
        results.append(((variant, read, weight, tau), fit))
    allowed = [entry for entry in results if entry[1]["wrongly_abstained"] <= args.max_wrongly_abstained]
    ranked = sorted(allowed or results, key=lambda entry: (entry[1]["hit@1"], entry[1]["f1"], entry[1]["unanswerable_abstained"]), reverse=True)
    keys = ("hit@1", "f1", "highlight_300", "highlight_any", "wrongly_abstained", "unanswerable_abstained")
    columns = ("hit@1", "F1", "highlight≤300", "highlight", "wrongly abst.", "unanswerable abst.")
    print("| span | passages read | weight | τ | " + " | ".join(f"{part} {name}" for part in ("fit", "test") for name in columns) + " |")
    print("|---" * (4 + 2 * len(columns)) + "|")
    for (variant, read, weight, tau), fit in ranked[: args.rows]:
        test = score(parts["test"], items, retriever, judge, read, weight, tau, variant)
        cells = [fit[k] for k in keys] + [test[k] for k in keys]
        print(f"| {variant} | {read} | {weight:g} | {tau:g} | " + " | ".join(f"{value:.3f}" for value in cells) + " |")
    variant, read, weight, _tau = ranked[0][0]
    fits = {tau: score(parts["fit"], items, retriever, judge, read, weight, tau, variant) for tau in taus}
    tau = max(t for t in taus if fits[t]["wrongly_abstained"] <= args.max_wrongly_abstained)
    test = score(parts["test"], items, retriever, judge, read, weight, tau, variant)
    print(f"abstention threshold for {variant}/{read}/{weight:g}: τ = {tau:g} (largest with fit wrongly abstained ≤ {args.max_wrongly_abstained}); "
          f"fit: {fits[tau]['wrongly_abstained']:.3f} wrongly, {fits[tau]['unanswerable_abstained']:.3f} unanswerable abstained; "
          f"test: {test['wrongly_abstained']:.3f} wrongly, {test['unanswerable_abstained']:.3f} unanswerable abstained, F1 {test['f1']:.3f}")  # fmt: skip
    counts = {
        part: {"answerable": sum(items[r["qid"]].answerable for r in recs), "unanswerable": sum(not items[r["qid"]].answerable for r in recs)}
        for part, recs in parts.items()
    }
    print(json.dumps({"chosen": ranked[0][0], "questions": counts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
