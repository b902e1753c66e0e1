"""Read the QA sets ``coopqa eval`` accepts; the format is told by the content.

* **JSONL**: one object per line with ``question``, optional ``id``,
  ``answer`` (a string) or ``answers`` (a list of strings), ``evidence`` (a
  passage of the corpus that supports the answer), ``doc`` and ``answerable``
  (default true). An answerable question needs an answer or an evidence.
* **CSV**: a header row and the same columns (comma, semicolon or tab;
  ``answers`` is a JSON list, ``answerable`` true/false/1/0/yes/no/oui/non,
  an empty cell is an absent value).
* **SQuAD v1.1/v2.0 JSON** (PIAF, FQuAD): every question remembers its
  paragraph, so it can be judged against it; v2.0 ``is_impossible`` questions
  are unanswerable. The paragraphs become :class:`~coopqa.documents.reading.Document`
  objects (``"<title>/<paragraph number>"``) for ``--corpus-from-file``.

A malformed row is never dropped silently: it becomes a :class:`RowProblem`
that names where it is (JSONL line, CSV row line, SQuAD question id and path)
and why. :class:`QASet` either stops at the first one with an
:class:`~coopqa.errors.InputFileError` or, when told to skip invalid rows,
keeps it for the caller to count and report. Later checks that need the corpus
or the settings (evidence not in the corpus, question too long) go through the
same :meth:`QASet.reject`, so every skipped row is accounted for alike.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coopqa.documents import Document, Section
from coopqa.errors import InputFileError
from coopqa.json_input import holds_unpaired_surrogate, json_error_reason

FORMATS = ("jsonl", "csv", "squad")
_SKIP_HINT = "fix it, or pass --skip-invalid to skip malformed rows"
_CSV_HINT = "fix it (an unclosed quote makes the rest of the file one field); --skip-invalid cannot skip a row the CSV parser cannot read"
_SURROGATE = "holds an unpaired surrogate (\\ud800-\\udfff), not valid text"
_TRUE = frozenset({"true", "1", "yes", "y", "oui", "vrai"})
_FALSE = frozenset({"false", "0", "no", "n", "non", "faux"})


@dataclass(frozen=True)
class QAItem:
    """One question and what counts as its answer.

    ``doc`` narrows where the evidence is looked for; for a SQuAD question it
    is the id of the question's own paragraph. ``where`` locates the row in
    its file for messages (``line 12``, ``question p1402 (data[3]…)``).
    """

    qid: str
    question: str
    answerable: bool = True
    answers: tuple[str, ...] = ()
    evidence: str | None = None
    doc: str | None = None
    line: int = 0
    where: str = ""
    #: Earlier questions of the conversation, oldest first (follow-ups; JSONL only).
    history: tuple[str, ...] = ()
    #: The language the row declares (``"en"``…), and its kind (``"followup"``, ``"standalone"``…): report groups.
    language: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class RowProblem:
    where: str
    reason: str


class _Invalid(Exception):
    """A row's reason to be refused, raised by the row parsers and caught by the readers."""


@dataclass
class QASet:
    """The questions of one file, the rows refused so far, and (SQuAD) its paragraphs."""

    path: Path
    format: str
    skip_invalid: bool = False
    items: list[QAItem] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    #: SQuAD paragraphs whose text repeats an earlier one (merged into it).
    merged_paragraphs: int = 0
    version: str | None = None
    _seen: dict[str, str] = field(default_factory=dict, repr=False)

    def refuse(self, where: str, reason: str) -> None:
        """Record a malformed row, or stop the run on it unless invalid rows are skipped."""
        if not self.skip_invalid:
            raise InputFileError(f"{self.path} {where}: {reason}", _SKIP_HINT)
        self.problems.append(RowProblem(where, reason))

    def reject(self, item: QAItem, reason: str) -> None:
        """Take an already-read question out of the set (see :meth:`refuse`)."""
        self.refuse(item.where, reason)
        self.items = [other for other in self.items if other is not item]

    def add(self, item: QAItem) -> None:
        """Keep a parsed question; a repeated id is a malformed row (results are keyed by id)."""
        if item.qid in self._seen:
            self.refuse(item.where, f"id {item.qid!r} is already used ({self._seen[item.qid]})")
            return
        self._seen[item.qid] = item.where
        self.items.append(item)

    @property
    def answerable(self) -> int:
        return sum(item.answerable for item in self.items)


def read_qa_file(path: Path, skip_invalid: bool = False) -> QASet:
    """Every valid question of a JSONL, CSV or SQuAD file (format detected from the content)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise InputFileError(f"cannot read QA file {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise InputFileError(f"QA file {path} is not valid UTF-8 (byte {error.start})", "save it as UTF-8") from None
    kind, whole = detect_format(path, text)
    qaset = QASet(path, kind, skip_invalid)
    if kind == "squad":
        _read_squad(whole, qaset)
    elif kind == "jsonl":
        _read_jsonl(text, qaset)
    else:
        _read_csv(text, qaset)
    if not qaset.items:
        skipped = f" ({len(qaset.problems)} malformed row(s) skipped)" if qaset.problems else ""
        raise InputFileError(f"QA file {path} holds no usable questions{skipped}")
    return qaset


def read_qa_jsonl(path: Path) -> list[QAItem]:
    """Questions of a JSONL file; the first malformed line stops with an error naming it."""
    return read_qa_file(path).items


def detect_format(path: Path, text: str) -> tuple[str, Any]:
    """``("squad", parsed JSON)``, ``("jsonl", None)`` or ``("csv", None)``.

    A file that is one JSON object holding ``data`` is SQuAD; one that starts
    with ``{`` otherwise is JSON Lines (its lines are checked one by one, so a
    bad line is reported with its number); anything else is CSV. The suffix
    only decides how a broken ``.json`` file is reported.
    """
    head = text.lstrip()
    if head.startswith("["):
        raise InputFileError(f'{path} is a JSON array: expected SQuAD JSON ({{"data": [...]}}), JSON Lines or CSV')
    if not head.startswith("{"):
        return "csv", None
    try:
        whole = json.loads(text)
    except RecursionError:
        raise InputFileError(f"{path} is nested too deeply to be a QA file") from None
    except json.JSONDecodeError as error:
        if error.msg != "Extra data" and path.suffix.lower() == ".json":
            raise InputFileError(f"{path} is not valid JSON (line {error.lineno} column {error.colno}: {error.msg})") from None
        return "jsonl", None
    except ValueError as error:  # e.g. an integer over Python's digit limit; a JSON Lines file gets its bad line named
        if path.suffix.lower() == ".json":
            raise InputFileError(f"{path} is not valid JSON ({json_error_reason(error)})") from None
        return "jsonl", None
    if isinstance(whole, dict) and "data" in whole:
        return "squad", whole
    return "jsonl", None


def _printable(text: str) -> str:
    """``text`` as is if it prints on one line, else quoted: messages stay one line."""
    return text if text.isprintable() else repr(text)


# --------------------------------------------------------------------------- JSONL and CSV rows


def _question(record: Mapping[str, Any]) -> str:
    """The row's question: every format requires it as non-empty text."""
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise _Invalid('"question" must be a non-empty string')
    return question


def _item_from_record(record: Mapping[str, Any], where: str, line: int) -> QAItem:
    """The one validation of a JSONL object or CSV row (values already typed)."""
    question = _question(record)
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        raise _Invalid('"answerable" must be true or false')
    raw = record["answers"] if record.get("answers") is not None else record.get("answer", [])
    answers = (raw,) if isinstance(raw, str) else tuple(raw) if isinstance(raw, list) else None
    if answers is None or not all(isinstance(a, str) and a.strip() for a in answers):
        raise _Invalid('"answer" must be a non-empty string, or "answers" a list of them')
    evidence = record.get("evidence")
    if evidence is not None and (not isinstance(evidence, str) or not evidence.strip()):
        raise _Invalid('"evidence" must be a non-empty string')
    doc = record.get("doc")
    if doc is not None and not isinstance(doc, str):
        raise _Invalid('"doc" must be a string')
    if answerable and not answers and evidence is None:
        raise _Invalid('an answerable question needs "answer", "answers" or "evidence"')
    qid = record.get("id")
    if qid is not None and (isinstance(qid, bool) or not isinstance(qid, str | int)):
        raise _Invalid('"id" must be a string or a number')
    history = record.get("history", [])
    if not isinstance(history, list) or not all(isinstance(turn, str) and turn.strip() for turn in history):
        raise _Invalid('"history" must be a list of earlier questions (non-empty strings)')
    language, kind = record.get("language"), record.get("kind")
    if not all(value is None or (isinstance(value, str) and value.strip()) for value in (language, kind)):
        raise _Invalid('"language" and "kind" must be non-empty strings')
    qid_text = str(qid) if qid is not None else f"line-{line}"
    return QAItem(qid_text, question, answerable, answers, evidence, doc, line, where, tuple(history), language, kind)


def _read_jsonl(text: str, qaset: QASet) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as error:
            qaset.refuse(where, f"not valid JSON ({json_error_reason(error)})")
            continue
        try:
            if not isinstance(record, dict):
                raise _Invalid(f"expected a JSON object, got {type(record).__name__}")
            if holds_unpaired_surrogate(record):
                raise _Invalid(_SURROGATE)
            qaset.add(_item_from_record(record, where, number))
        except _Invalid as error:
            qaset.refuse(where, str(error))


def _csv_value(column: str, value: str) -> Any:
    """A CSV cell as the JSON value it stands for (``None`` when empty)."""
    value = value.strip()
    if not value:
        return None
    if column == "answerable":
        lowered = value.lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise _Invalid(f'"answerable" must be true or false, got {value!r}')
    if column == "answers":
        try:
            answers = json.loads(value)
        except (ValueError, RecursionError):
            raise _Invalid('"answers" must be a JSON list of strings, e.g. ["2017", "en 2017"]') from None
        return answers
    return value


def _read_csv(text: str, qaset: QASet) -> None:
    header_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header_line.count)  # the header's most frequent separator; "," on a tie
    rows = _csv_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), qaset.path)
    header = [name.strip().lower() for name in next(rows, (1, []))[1]]
    if "question" not in header:
        raise InputFileError(f'{qaset.path}: the CSV header has no "question" column (found: {", ".join(map(_printable, header)) or "nothing"})')
    for number, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        where = f"row at line {number}"
        try:
            if len(row) > len(header):
                raise _Invalid(f"{len(row)} fields but the header has {len(header)}")
            record = {column: _csv_value(column, cell) for column, cell in zip(header, row)}
            qaset.add(_item_from_record({k: v for k, v in record.items() if v is not None}, where, number))
        except _Invalid as error:
            qaset.refuse(where, str(error))


def _csv_rows(reader: Any, path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each row with the line it starts on; a row the parser cannot read stops the file, naming that line.

    A :class:`csv.Error` (a field over the 128 KiB limit, often an unclosed
    quote) leaves the parser mid-row, so the rows after it cannot be trusted
    and ``--skip-invalid`` cannot skip it.
    """
    end_of_previous = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise InputFileError(f"{path} row at line {end_of_previous + 1}: not valid CSV ({error})", _CSV_HINT) from None
        yield end_of_previous + 1, row
        end_of_previous = reader.line_num


# --------------------------------------------------------------------------- SQuAD


def _read_squad(whole: dict[str, Any], qaset: QASet) -> None:
    articles = whole.get("data")
    if not isinstance(articles, list):
        raise InputFileError(f'{qaset.path}: SQuAD "data" must be a list of articles')
    version = whole.get("version")
    qaset.version = str(version) if version is not None else None
    doc_of_text: dict[str, str] = {}
    taken: set[str] = set()
    for a, article in enumerate(articles):
        path = f"data[{a}]"
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            qaset.refuse(path, 'an article must be an object with a "paragraphs" list')
            continue
        title = article.get("title")
        title = title.strip() if isinstance(title, str) and title.strip() else f"article {a}"
        if holds_unpaired_surrogate(title):  # it names the article's documents
            qaset.refuse(path, f'its "title" {_SURROGATE}')
            continue
        for p, paragraph in enumerate(article["paragraphs"]):
            where = f"{path}.paragraphs[{p}]"
            context = paragraph.get("context") if isinstance(paragraph, dict) else None
            qas = paragraph.get("qas", []) if isinstance(paragraph, dict) else None
            count = f" (its {len(qas)} question(s) are skipped)" if isinstance(qas, list) and qas else ""
            if not isinstance(context, str) or not context.strip() or not isinstance(qas, list):
                qaset.refuse(where, f'a paragraph needs a non-empty "context" and a "qas" list{count}')
                continue
            if holds_unpaired_surrogate(context):
                qaset.refuse(where, f'its "context" {_SURROGATE}{count}')
                continue
            doc_id = doc_of_text.get(context)
            if doc_id is None:
                doc_id = _paragraph_document(qaset, taken, title, a, p, context)
                doc_of_text[context] = doc_id
            else:
                qaset.merged_paragraphs += 1
            for q, qa in enumerate(qas):
                _read_squad_question(qa, f"{where}.qas[{q}]", context, doc_id, qaset)


def _paragraph_document(qaset: QASet, taken: set[str], title: str, article: int, number: int, context: str) -> str:
    """Add the paragraph as a one-section document; its id is ``"<title>/<paragraph number>"``."""
    doc_id = f"{title}/{number}"
    if doc_id in taken:  # two articles with the same title
        doc_id = f"{title} ({article})/{number}"
    taken.add(doc_id)
    digest = hashlib.sha256(context.encode("utf-8")).hexdigest()
    qaset.documents.append(Document(doc_id, context, digest, title, (Section(0, len(context), (title,)),)))
    return doc_id


def _read_squad_question(qa: Any, path: str, context: str, doc_id: str, qaset: QASet) -> None:
    raw_id = qa.get("id") if isinstance(qa, dict) else None
    has_id = isinstance(raw_id, str | int) and not isinstance(raw_id, bool)
    qid = str(raw_id) if has_id else path
    where = f"question {_printable(qid)} ({path})" if has_id else path
    try:
        if not isinstance(qa, dict):
            raise _Invalid("a question must be a JSON object")
        if holds_unpaired_surrogate(qa):
            raise _Invalid(_SURROGATE)
        question = _question(qa)
        impossible = qa.get("is_impossible", False)
        if not isinstance(impossible, bool):
            raise _Invalid('"is_impossible" must be true or false')
        answers = () if impossible else _squad_answers(qa.get("answers"), context)
        qaset.add(QAItem(qid, question, not impossible, answers, None, doc_id, 0, where))
    except _Invalid as error:
        qaset.refuse(where, str(error))


def _squad_answers(raw: Any, context: str) -> tuple[str, ...]:
    """The answer texts; each must occur in its paragraph (``answer_start`` is not trusted)."""
    if not isinstance(raw, list) or not raw:
        raise _Invalid('an answerable question needs a non-empty "answers" list (or "is_impossible": true)')
    texts = []
    for answer in raw:
        text = answer.get("text") if isinstance(answer, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise _Invalid('every answer needs a non-empty "text"')
        if text not in context:
            raise _Invalid(f"the answer {text[:60]!r} does not occur in its paragraph")
        texts.append(text)
    return tuple(dict.fromkeys(texts))
