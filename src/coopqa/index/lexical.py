"""French BM25 over passages (bm25s, numpy only, saved and memory-mapped).

The analyser is what makes lexical search work for people typing French:
users type ``'`` where the text has ``’``, drop accents ("developpement"),
and inflect words differently from the text ("financé" / "financement"), so
both sides go through the same steps: lower-case, one apostrophe, accents
folded, split on non-letters (which also strips elisions such as l', d',
qu'), French stop words out, Snowball French stemming. Folding *before*
stemming makes "fondee" and "fondée" one term (stemming first gives "fonde"
and "fond"); on PIAF v1.0 both orders score the same (BM25 R@5 0.853).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

#: Bumped whenever :func:`analyse` changes, so indexes built with the old terms are rebuilt.
ANALYSER_VERSION = 2
#: BM25's term saturation and length normalisation, the same in both stores (bm25s here, Milvus's BM25 function).
BM25_K1 = 1.2
BM25_B = 0.75
#: As recorded in a Milvus index's manifest: the engine scores with them, so they are part of its identity.
BM25_PARAMETERS = {"k1": BM25_K1, "b": BM25_B}
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "′": "'"})
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_ELISIONS = frozenset(["l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"])


def fold_accents(text: str) -> str:
    """``"Développement"`` → ``"Developpement"``; ligatures kept as letters (œ → oe)."""
    decomposed = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower case, without accents, with straight apostrophes: the form rules over French text are written in."""
    return fold_accents(text.lower().replace("’", "'"))


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("french")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_FRENCH

    return frozenset(fold_accents(word.lower()) for word in STOPWORDS_FRENCH) | _ELISIONS


def analyse(text: str) -> list[str]:
    """The terms BM25 indexes for ``text`` (see the module docstring)."""
    words = _WORD.findall(fold_accents(text.lower().translate(_APOSTROPHES)))
    stop = _stopwords()
    return list(_stemmer().stemWords([word for word in words if word not in stop]))


class LexicalIndex:
    """BM25 scores for every passage, by passage number."""

    def __init__(self, model: Any) -> None:
        self._model = model

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        model = bm25s.BM25(method="lucene", k1=BM25_K1, b=BM25_B)
        # An empty analysis (a passage of stop words) still needs one term for bm25s.
        model.index([analyse(text) or ["\u2205"] for text in texts], show_progress=False)
        return cls(model)

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), mmap=True, show_progress=False))

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage; all zeros when no term matches."""
        terms = [term for term in analyse(question) if term in self._model.vocab_dict]
        if not terms:
            return np.zeros(self._model.scores["num_docs"], dtype=np.float32)
        return np.asarray(self._model.get_scores(terms), dtype=np.float32)
