"""Stage 5, reading: the trained extractive reader reads the best passages for the short answer, or finds none.

The reader's model runs through ONNX Runtime (:mod:`coopqa.model`); here are its use
(:mod:`~coopqa.reading.reader`), span decoding over token windows (:mod:`~coopqa.reading.spans`),
answer typing (:mod:`~coopqa.reading.answer_type`, with person entities from :mod:`~coopqa.reading.entities`),
acronyms (:mod:`~coopqa.reading.acronyms`), the clause-cut quote around the answer
(:mod:`~coopqa.reading.highlight`), and :class:`ShortAnswerReader`, which reads what retrieval ranked.
"""

from coopqa.reading.highlight import MAX_HIGHLIGHT_CHARS, clause_around
from coopqa.reading.reader import Reader
from coopqa.reading.short_answer import ShortAnswer, ShortAnswerReader

__all__ = ["MAX_HIGHLIGHT_CHARS", "Reader", "ShortAnswer", "ShortAnswerReader", "clause_around"]
