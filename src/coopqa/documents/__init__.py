"""Stage 1, documents: read the corpus files, find their sections, cut them into passages and sentences.

Everything downstream cites offsets into :attr:`Document.text`, so this stage is where they are made checkable.
"""

from coopqa.documents.chunking import FRENCH_SEPARATORS, Passage, chunk_document, split_sentences
from coopqa.documents.reading import Document, Section, read_corpus, read_document

__all__ = ["FRENCH_SEPARATORS", "Document", "Passage", "Section", "chunk_document", "read_corpus", "read_document", "split_sentences"]
