"""The reader's fp32 and int8 graphs side by side over the same retrieval: quality on the shipped QA set and warm latency.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/reader_graphs.py

One process, one index and one fp32 encoder; the shipped QA set (``qa/coopqa-fr.jsonl``, all questions
and its held-out half) is evaluated with each reader graph in turn (``coopqa.evaluation.evaluate``,
hybrid mode), printing hit@1, short-answer F1, the highlight figures, abstention and latency p50.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from coopqa.config import load_settings
from coopqa.evaluation.metrics import evaluate
from coopqa.evaluation.qa_formats import read_qa_file
from coopqa.evaluation.splits import question_split
from coopqa.model import open_reader
from coopqa.model.reader_model import READER_FILE, READER_INT8_FILE
from coopqa.pipeline import Assistant, Reader

KEYS = ("hit@1", "short_answer_f1", "highlight_accuracy", "highlight_accuracy_300", "wrongly_abstained", "abstained_unanswerable", "latency_p50_ms")


def main() -> None:
    settings = load_settings()
    plain = Assistant.open(replace(settings, reader="off"), progress=False)
    items = read_qa_file(Path(__file__).resolve().parent.parent / "qa" / "coopqa-fr.jsonl").items
    for graph in (READER_FILE, READER_INT8_FILE):
        reading = Assistant(plain.data, plain.embedder, settings, reader=Reader(open_reader(settings, model_file=graph, progress=False)))
        for part, chosen in (("all", items), ("held-out half", [item for item in items if question_split(item.qid) == "test"])):
            figures = evaluate(reading, chosen, ["hybrid"])[0].metrics()
            print(graph, part, {key: round(float(figures[key] or 0.0), 3) for key in KEYS})


if __name__ == "__main__":
    main()
