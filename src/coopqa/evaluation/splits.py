"""A fixed split of a SQuAD-style file by article, so reader training, calibration and reporting never share text.

Splitting by article, not by question, keeps the reported figures honest: PIAF
asks several questions per paragraph, and a reader tested on a paragraph it was
trained on would be tested on its memory. The split is a hash of the title, so
it needs no stored file and does not move when the file is read in another order.
"""

from __future__ import annotations

import hashlib
from typing import Literal

Split = Literal["train", "calibration", "test"]
SPLITS: tuple[Split, ...] = ("train", "calibration", "test")


def article_split(title: str) -> Split:
    """70 % train, 10 % calibration (thresholds, early stopping), 20 % test (reported figures only)."""
    bucket = int.from_bytes(hashlib.sha256(title.encode("utf-8")).digest()[:4], "big") % 10
    if bucket < 7:
        return "train"
    return "calibration" if bucket == 7 else "test"


QuestionSplit = Literal["fit", "test"]
HALVES: tuple[QuestionSplit, ...] = ("fit", "test")


def question_split(qid: str) -> QuestionSplit:
    """Half the questions of a coopqa QA set to choose a setting on (``fit``), half to report it (``test``).

    coopqa's own sets are too small for PIAF's 70/10/20 by article; a policy with a handful of
    parameters (the reader's rerank weight and margin threshold) is chosen on one half and its
    figures are reported on the other.
    """
    return "fit" if hashlib.sha256(qid.encode("utf-8")).digest()[0] % 2 == 0 else "test"
