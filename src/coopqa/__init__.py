"""coopqa: French retrieval question answering with cited passages.

The stages, in the order data flows: :mod:`coopqa.documents` → :mod:`coopqa.model` → :mod:`coopqa.index`
→ :mod:`coopqa.search` → :mod:`coopqa.reading` → :mod:`coopqa.pipeline`, which the front ends
(:mod:`coopqa.evaluation`, :mod:`coopqa.ui`, :mod:`coopqa.cli`) call:
``coopqa.Assistant.open(settings).ask(question)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from coopqa.pipeline import Assistant


def __getattr__(name: str) -> Any:
    """``coopqa.Assistant`` without loading the model stack on every ``import coopqa``."""
    if name == "Assistant":
        from coopqa.pipeline import Assistant

        return Assistant
    raise AttributeError(f"module 'coopqa' has no attribute {name!r}")


__all__ = ["Assistant", "__version__"]
