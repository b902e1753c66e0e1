"""Read the documents of a corpus folder and find their sections.

Every offset coopqa reports points into :attr:`Document.text`, the text as read
(for ``.txt``/``.md`` the decoded file itself), so a citation can always be
checked against the source. Section headings are recovered from the text's
layout because the shipped page has no markup: a heading is a short line
without final punctuation, standing between blank lines (top level) or
directly above its paragraph (sub-level).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from coopqa.errors import CorpusError

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
#: Files larger than this are refused rather than silently filling memory.
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Heading:
    """A heading line: its span in the text and its depth (1 = top level)."""

    start: int
    end: int
    level: int
    title: str
    #: Where the heading stops governing the text, when the layout says so
    #: before the next heading does (see :func:`_plain_headings`).
    scope_end: int | None = None


@dataclass(frozen=True)
class Section:
    """A stretch of body text ``[start, end)`` under the headings in ``path``."""

    start: int
    end: int
    path: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    """One corpus file as coopqa read it."""

    doc_id: str
    text: str
    sha256: str
    title: str
    sections: tuple[Section, ...]


# --------------------------------------------------------------------------- readers


def _decode(path: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CorpusError(
            f"{path} is not valid UTF-8 (byte {error.start})",
            "convert it to UTF-8 (e.g. iconv -f latin1 -t utf-8) or remove it from the corpus",
        ) from None
    return text


def _html_text(path: Path, data: bytes) -> tuple[str, list[Heading]]:
    from bs4 import BeautifulSoup
    from bs4.exceptions import ParserRejectedMarkup

    try:
        soup = BeautifulSoup(_decode(path, data), "html.parser")
    except ParserRejectedMarkup as error:
        raise CorpusError(f"{path} is HTML the parser rejects ({str(error).splitlines()[0][:100]})", "fix or remove the file") from None
    for hidden in soup(["script", "style", "noscript", "template", "head"]):
        hidden.decompose()
    parts: list[str] = []
    headings: list[Heading] = []
    cursor = 0
    blocks = soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td", "th", "blockquote", "dd", "dt"])
    for block in blocks:
        if block.find_parent(["p", "li", "pre", "td", "th", "blockquote", "dd", "dt"]) is not None:
            continue
        piece = " ".join(block.get_text(" ").split())
        if not piece:
            continue
        if parts:
            parts.append("\n\n")
            cursor += 2
        if block.name and re.fullmatch(r"h[1-6]", block.name):
            headings.append(Heading(cursor, cursor + len(piece), int(block.name[1]), piece))
        parts.append(piece)
        cursor += len(piece)
    if not parts:  # no block elements: fall back to all the visible text
        text = "\n".join(line.strip() for line in soup.get_text("\n").splitlines() if line.strip())
        return text, _plain_headings(text)
    return "".join(parts), headings


def _pdf_text(path: Path, data: bytes) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise CorpusError(f"{path} is not a readable PDF ({error})", "re-export it or remove it from the corpus") from None
    return "\n\n".join(page.strip() for page in pages)


#: An ATX heading line. The closing ``#``s are stripped in Python, not by a lazy ``(.+?)[ \t#]*$``:
#: that pattern backtracks quadratically on a long line ending in many ``#``, spaces or tabs.
_ATX_HEADING = re.compile(r"(?m)^(#{1,6})[ \t]+(.+)$")


def _markdown_headings(text: str) -> list[Heading]:
    headings = []
    for match in _ATX_HEADING.finditer(text):
        content = match.group(2)
        title = content.rstrip(" \t#") or content[:1]  # what the lazy group took: at least one character
        headings.append(Heading(match.start(), match.end(), len(match.group(1)), title.strip()))
    return headings


# --------------------------------------------------------------------------- headings

_TERMINAL = tuple(".;,!?…»")
_BULLET = re.compile(r"^\s*([•\-–—*·]|\d+\s*[-)])")
_NUMBERED = re.compile(r"^\d+\.\s+\S")


def _looks_like_heading(line: str, max_words: int) -> bool:
    stripped = line.strip()
    if not stripped or len(stripped) > 100 or stripped.endswith(_TERMINAL):
        return False
    if _BULLET.match(stripped) or "/" in stripped.split()[0] or (not stripped[0].isupper() and not stripped[0].isdigit()):
        return False
    return len(stripped.split()) <= max_words


def _plain_headings(text: str) -> list[Heading]:
    """Headings of an unmarked text (see the module docstring for the rule).

    Top level: a short line with a blank line (or the start) before it and a
    blank line (or the end) after it. Sub-level: a line of at most eight words
    directly followed by its text. (A colon line followed by a blank line, like
    "Les principales Composantes du Projet :", is not taken: nothing in the
    layout says where its scope ends, and a wrong path is worse than a short one.)
    A numbered short line ("2. Protection et résilience") is one level deeper.
    A sub-level heading glued to its text governs that block only: its scope
    ends at the next blank line (in the shipped page the list of GFMD editions
    after the block under "Structure du Forum :" is not part of that structure).
    """
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    blank = [not line.strip() for line in lines]
    next_blank = _next_blank_lines(blank)
    headings: list[Heading] = []
    for i, line in enumerate(lines):
        if blank[i]:
            continue
        before_blank = i == 0 or blank[i - 1]
        after_blank = i + 1 >= len(lines) or blank[i + 1]
        content = line.rstrip("\r\n")
        lead = len(content) - len(content.lstrip())
        title = content.strip()
        level, scope_end = 0, None
        if before_blank and after_blank and _looks_like_heading(content, 12) and not title.endswith(":"):
            level = 1
        elif _looks_like_heading(content, 8) and not after_blank:
            level = 3 if _NUMBERED.match(title) else 2
            scope_end = starts[next_blank[i + 1]]
        if level:
            start = starts[i] + lead
            headings.append(Heading(start, start + len(title), level, title, scope_end))
    return headings


def _next_blank_lines(blank: list[bool]) -> list[int]:
    """For each line, the index of the first blank line at or after it (``len(blank)`` if none).

    Filled once from the end, so a text of glued heading lines is not scanned
    ahead again for each of them (which was quadratic).
    """
    following = [len(blank)] * (len(blank) + 1)
    for i in range(len(blank) - 1, -1, -1):
        following[i] = i if blank[i] else following[i + 1]
    return following


def _scope_ends(text: str, headings: list[Heading]) -> list[int]:
    """Where each heading stops governing the text: the next heading of its level or higher, or its own scope end.

    A right-to-left monotonic stack finds every "next heading of level <= this
    one" in one pass: a heading passed over (deeper than the current one) can
    never be the answer for an earlier heading, since the current one comes first.
    """
    ends = [len(text)] * len(headings)
    stack: list[Heading] = []  # later headings; the top is the nearest, and levels never rise going down
    for i in range(len(headings) - 1, -1, -1):
        heading = headings[i]
        while stack and stack[-1].level > heading.level:
            stack.pop()
        if stack:
            ends[i] = stack[-1].start
        stack.append(heading)
        if heading.scope_end is not None:
            ends[i] = min(ends[i], heading.scope_end)
    return ends


class _HeadingLines:
    """Answers "does ``[start, end)`` lie inside one heading line?" by bisection, for any list of heading spans."""

    def __init__(self, headings: list[Heading]) -> None:
        spans = sorted((h.start, h.end) for h in headings)
        self._starts = [start for start, _ in spans]
        self._furthest_end = list(itertools.accumulate((end for _, end in spans), max))

    def cover(self, start: int, end: int) -> bool:
        last = bisect.bisect_right(self._starts, start) - 1  # headings starting at or before ``start``
        return last >= 0 and self._furthest_end[last] >= end


def build_sections(text: str, headings: list[Heading], title: str) -> tuple[Section, ...]:
    """Cut ``text`` into body sections, each under its heading path.

    The document's title is left out of the path (every passage would carry
    it). Heading lines themselves belong to no section, so no passage cites a
    bare heading.

    The cuts are swept once, in order. Every heading end and scope end is a cut,
    so a heading governs the stretch ``[start, end)`` between two cuts exactly
    when ``heading.end <= start < scope end``: it is opened when the sweep passes
    its end and closed when the sweep reaches its scope end. At most one heading
    per level is open, so each path costs its depth, not the number of headings.
    """
    scope_ends = _scope_ends(text, headings)
    cuts = sorted({0, len(text), *(h.start for h in headings), *(h.end for h in headings), *scope_ends})
    heading_lines = _HeadingLines(headings)
    by_end = sorted((i for i in range(len(headings)) if headings[i].end < scope_ends[i]), key=lambda i: headings[i].end)
    by_scope = sorted(range(len(headings)), key=lambda i: scope_ends[i])
    opened = closed = 0
    open_headings: set[int] = set()
    sections: list[Section] = []
    for start, end in itertools.pairwise(cuts):
        while opened < len(by_end) and headings[by_end[opened]].end <= start:
            open_headings.add(by_end[opened])
            opened += 1
        while closed < len(by_scope) and scope_ends[by_scope[closed]] <= start:
            open_headings.discard(by_scope[closed])
            closed += 1
        if heading_lines.cover(start, end) or not text[start:end].strip():
            continue
        path = tuple(headings[i].title for i in sorted(open_headings) if headings[i].title != title)
        if sections and sections[-1].path == path and sections[-1].end == start:
            sections[-1] = Section(sections[-1].start, end, path)
        else:
            sections.append(Section(start, end, path))
    return tuple(sections)


def read_document(path: Path, root: Path) -> Document:
    """Read one file; raise :class:`CorpusError` with the file's name on any problem."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CorpusError(f"{path} is {size // (1024 * 1024)} MiB, over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit", "split it")
        data = path.read_bytes()
    except PermissionError:
        raise CorpusError(f"{path} cannot be read (permission denied)", "fix its permissions or remove it") from None
    except OSError as error:
        raise CorpusError(f"{path} cannot be read ({error.strerror})", "check the file") from None
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        text, headings = _html_text(path, data)
    elif suffix == ".pdf":
        text = _pdf_text(path, data)
        headings = _plain_headings(text)
    else:
        text = _decode(path, data)
        headings = _markdown_headings(text) if suffix == ".md" else _plain_headings(text)
    if not text.strip():
        raise CorpusError(f"{path} holds no text", "add text to it or remove it from the corpus")
    if "\x00" in text:
        raise CorpusError(f"{path} contains NUL bytes and looks binary", "remove it from the corpus")
    title = _title_of(text, headings, path)
    doc_id = path.relative_to(root).as_posix()
    digest = hashlib.sha256(data).hexdigest()
    return Document(doc_id, text, digest, title, build_sections(text, headings, title))


def _title_of(text: str, headings: list[Heading], path: Path) -> str:
    """The document's title: a heading that opens the document and heads all the rest.

    It does when nothing follows it before the next heading (the shipped page)
    or when no other heading is of its level (a Markdown ``#`` over ``##``s).
    Otherwise the file name stands for the title and every heading is a section.
    """
    if len(headings) > 1 and not text[: headings[0].start].strip():
        first, rest = headings[0], headings[1:]
        nothing_between = not text[first.end : rest[0].start].strip()
        if nothing_between or all(h.level > first.level for h in rest):
            return first.title
    return unicodedata.normalize("NFC", path.stem)


def list_corpus_files(folder: Path) -> list[Path]:
    """Supported files under ``folder``, sorted, hidden files and folders skipped."""
    if not folder.exists():
        raise CorpusError(f"corpus folder {folder} does not exist", "create it and put .txt/.md/.html/.pdf files in it, or pass --corpus DIR")
    if not folder.is_dir():
        raise CorpusError(f"corpus path {folder} is not a folder", "pass --corpus DIR with a folder of documents")
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not files:
        raise CorpusError(f"corpus folder {folder} has no {'/'.join(SUPPORTED_SUFFIXES)} files", "add documents to it")
    return files


def read_corpus(folder: Path) -> list[Document]:
    """Every supported document of ``folder``; any unreadable one is an error."""
    return [read_document(path, folder) for path in list_corpus_files(folder)]
