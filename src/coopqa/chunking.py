"""Cut documents into passages (what is retrieved and cited) and sentences
(what is highlighted inside a passage).

Passages never cross a section boundary, so each one has a single section
path, and their offsets are recomputed against the document rather than taken
on trust from the splitter: ``document.text[start:end] == passage.text`` holds
for every passage, which is what makes a citation checkable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from coopqa.corpus import Document

#: Paragraphs, lines, then French sentence and clause ends, then words.
FRENCH_SEPARATORS = ["\n\n", "\n", ". ", "! ", "? ", "… ", "; ", " : ", ", ", " ", ""]
_SENTENCE_END = re.compile(r"[.!?…;][»\"”)]*(\s+)(?=\S)|(\n+)")


@dataclass(frozen=True)
class Passage:
    """A citable span of one document."""

    doc_id: str
    section: tuple[str, ...]
    start: int
    end: int
    text: str
    #: What the models also read before the passage (see :func:`embedding_text`).
    lead: str = ""

    def embedding_text(self) -> str:
        """What the models see: section path, the text just before, the passage.

        A paragraph such as "Fournir aux autorités marocaines une meilleure
        connaissance…" never names the project it belongs to; the section path
        and the end of the preceding text (``lead``) give it its topic.
        """
        heading = " > ".join(self.section)
        return "\n".join(part for part in (heading, self.lead, self.text) if part)


@dataclass(frozen=True)
class Span:
    """A sentence, as document offsets."""

    start: int
    end: int


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=FRENCH_SEPARATORS,
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        keep_separator="end",
        strip_whitespace=True,
    )


def _lead(body: str, end: int, lead_chars: int) -> str:
    """Up to ``lead_chars`` of ``body`` before ``end``, starting on a word."""
    if lead_chars <= 0 or end <= 0:
        return ""
    start = max(0, end - lead_chars)
    if start > 0:
        space = body.find(" ", start)
        start = space + 1 if 0 <= space < end else end
    return " ".join(body[start:end].split())


def chunk_document(document: Document, chunk_size: int, chunk_overlap: int, lead_chars: int = 0) -> list[Passage]:
    """Passages of ``document``, in reading order."""
    splitter = make_splitter(chunk_size, chunk_overlap)
    passages: list[Passage] = []
    for section in document.sections:
        body = document.text[section.start : section.end]
        cursor = 0
        for piece in splitter.split_text(body):
            found = body.find(piece, cursor)
            if found < 0:  # the splitter never rewrites text; this guards the invariant
                found = body.find(piece)
            if found < 0:
                raise RuntimeError(f"chunk not found in {document.doc_id}: {piece[:60]!r}")
            start = section.start + found
            lead = _lead(body, found, lead_chars)
            passages.append(Passage(document.doc_id, section.path, start, start + len(piece), piece, lead))
            cursor = found + 1
    return passages


def split_sentences(text: str, start: int, end: int) -> list[Span]:
    """Sentence spans of ``text[start:end]``, whitespace trimmed, as document offsets.

    French prose here ends sentences with . ! ? … and list items with ; or a
    line break; a closing guillemet or parenthesis stays with its sentence.
    """
    spans: list[Span] = []
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        gap = 1 if match.group(1) is not None else 2
        _append_trimmed(text, cursor, match.start(gap), spans)
        cursor = match.end(gap)
    _append_trimmed(text, cursor, end, spans)
    return spans


def _append_trimmed(text: str, start: int, end: int, spans: list[Span]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and any(ch.isalnum() for ch in text[start:end]):
        spans.append(Span(start, end))
