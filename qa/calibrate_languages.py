"""Choose the English/Arabic fusion weights and abstention thresholds on one half of each set, report them on the other.

    HF_HUB_OFFLINE=1 .venv/bin/python qa/calibrate_languages.py [--languages en,ar]

For each language file (``qa/coopqa-<lang>.jsonl``), every question is encoded and
searched once; then, on the ``fit`` half (``coopqa.evaluation.splits.question_split``):

* the fusion weights (a grid over the four signals) with the best hit@1, ties to the
  better hit@5, then to the simplest (fewest non-zero weights), and
* the z-score threshold (``coopqa.search.retriever.zscore``) that abstains on the most
  unanswerable questions while wrongly abstaining on at most 5 % of the answerable ones.

It prints those choices with their figures on the ``fit`` and ``test`` halves, next to
the French default fusion and dense alone. The shipped values live in
``coopqa.search.language.POLICIES``.
"""

from __future__ import annotations

import argparse
import itertools
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from coopqa.config import load_settings
from coopqa.evaluation.metrics import Judge
from coopqa.evaluation.qa_formats import read_qa_file
from coopqa.evaluation.splits import question_split
from coopqa.search import Retriever
from coopqa.search.fusion import Fusion
from coopqa.search.retriever import clean_question, zscore

ROOT = Path(__file__).resolve().parent.parent
GRID = (0.0, 0.125, 0.25, 0.5, 0.75, 1.0)
MAX_WRONGLY_ABSTAINED = 0.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", default="en,ar")
    args = parser.parse_args()
    retriever = Retriever.open(load_settings(), progress=False)
    judge = Judge({doc_id: document.text for doc_id, document in retriever.data.documents.items()})
    sets = {language: Searched(retriever, judge, language) for language in args.languages.split(",")}
    grid = [weights for weights in itertools.product(GRID, repeat=4) if sum(weights) > 0]
    candidates = [Fusion(passage_dense=a, passage_lexical=b, sentence_dense=c, sentence_lexical=d) for a, b, c, d in grid]

    def pooled_fit(fusion: Fusion) -> tuple[float, ...]:
        counts = [searched.hits(fusion, "fit", raw=True) for searched in sets.values()]
        total = sum(n for _, _, n in counts)
        simplicity = -sum(w > 0 for w in (fusion.passage_dense, fusion.passage_lexical, fusion.sentence_dense, fusion.sentence_lexical))
        return sum(a for a, _, _ in counts) / total, sum(b for _, b, _ in counts) / total, simplicity

    best = max(candidates, key=pooled_fit)
    print(f"one cross-lingual fusion chosen on the pooled fit halves ({', '.join(sets)}): pooled fit hit@1 {pooled_fit(best)[0]:.3f}")
    for language, searched in sets.items():
        print(f"== {language}: {searched.answerable.sum()} answerable, {(~searched.answerable).sum()} unanswerable")
        dense = Fusion(passage_dense=1.0, passage_lexical=0.0, sentence_dense=0.0, sentence_lexical=0.0)
        for name, fusion in (("French default", Fusion()), ("dense alone", dense), ("chosen on fit", best)):
            (fit1, fit5, _), (test1, test5, _) = searched.hits(fusion, "fit"), searched.hits(fusion, "test")
            weights = (fusion.passage_dense, fusion.passage_lexical, fusion.sentence_dense, fusion.sentence_lexical)
            print(f"  fusion {name:15} {weights}: fit hit@1 {fit1:.3f} hit@5 {fit5:.3f} | test hit@1 {test1:.3f} hit@5 {test5:.3f}")
        searched.threshold()


class Searched:
    """One language file, every question encoded and searched once, judged against the corpus."""

    def __init__(self, retriever: Retriever, judge: Judge, language: str) -> None:
        items = read_qa_file(ROOT / "qa" / f"coopqa-{language}.jsonl").items
        questions = [clean_question(item.question, retriever.settings.max_question_chars) for item in items]
        vectors = retriever.embedder.encode_queries(questions)
        self.evidence = [retriever._gather(question, vector) for question, vector in zip(questions, vectors)]
        self.halves = [question_split(item.qid) for item in items]
        self.answerable = np.array([item.answerable for item in items])
        self.relevant = [
            np.array([judge.unit(item, retriever.data.passages[int(c)]) == "relevant" for c in found.candidates]) if item.answerable else None
            for item, found in zip(items, self.evidence)
        ]

    def hits(self, fusion: Fusion, half: str, raw: bool = False) -> tuple[float, float, int]:
        """hit@1, hit@5 and the number of answerable questions of one half (counts when ``raw``)."""
        rows = [(flags, found) for flags, found, h in zip(self.relevant, self.evidence, self.halves) if flags is not None and h == half]
        orders = [np.argsort(-fusion.combine(found.signals), kind="stable") for _, found in rows]
        first = sum(bool(flags[order[0]]) for (flags, _), order in zip(rows, orders))
        five = sum(bool(flags[order[:5]].any()) for (flags, _), order in zip(rows, orders))
        return (first, five, len(rows)) if raw else (first / len(rows), five / len(rows), len(rows))

    def threshold(self) -> None:
        """The z-score threshold chosen on the fit half, reported on both."""
        scores = np.array([zscore(found.signals.passage_dense) for found in self.evidence])
        fit = np.array([h == "fit" for h in self.halves])
        answerable = self.answerable
        allowed = [t for t in np.unique(scores) if np.mean(scores[answerable & fit] < t) <= MAX_WRONGLY_ABSTAINED]
        threshold = max(allowed, key=lambda t: (np.mean(scores[~answerable & fit] < t), -np.mean(scores[answerable & fit] < t)))
        for half, mask in (("fit", fit), ("test", ~fit)):
            wrong = np.mean(scores[answerable & mask] < threshold)
            right = np.mean(scores[~answerable & mask] < threshold)
            print(f"  z-score threshold {threshold:.2f}, {half}: answerable wrongly abstained {wrong:.3f}, unanswerable abstained {right:.3f}")


if __name__ == "__main__":
    main()
