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
