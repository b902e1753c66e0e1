"""Reading documents, finding sections, cutting passages and sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from coopqa.documents.chunking import chunk_document, split_sentences
from coopqa.documents.reading import read_corpus, read_document
from coopqa.errors import CorpusError
from tests.conftest import CORPUS, DOCUMENT

TOP_SECTIONS = [
    "Global Forum Migration et Développement",
    "Coopération avec l’Union Européenne",
    "Coopération avec le système des nations Unies au Maroc",
    "Coopération avec L’Organisation Internationale du Travail (l’OIT)",
    "Coopération avec L’Organisation Internationale pour les Migrations (OIM)",
    "Coopération avec l’Union Africaine",
]


@pytest.fixture(scope="module")
def document():  # type: ignore[no-untyped-def]
    return read_corpus(CORPUS)[0]


def test_shipped_document_is_read_verbatim(document) -> None:  # type: ignore[no-untyped-def]
    assert document.doc_id == DOCUMENT
    assert document.text == (CORPUS / DOCUMENT).read_text(encoding="utf-8")
    assert document.title == "Coopération Multilatérale"


def test_every_top_level_section_is_found(document) -> None:  # type: ignore[no-untyped-def]
    assert sorted({s.path[0] for s in document.sections}) == sorted(TOP_SECTIONS)


def test_sub_sections_nest_under_their_section(document) -> None:  # type: ignore[no-untyped-def]
    paths = {s.path for s in document.sections}
    assert ("Coopération avec L’Organisation Internationale du Travail (l’OIT)", "Nouveau Projet :") in paths
    oim = "Coopération avec L’Organisation Internationale pour les Migrations (OIM)"
    assert (oim, "Axes d’intervention au Maroc :", "2. Protection et résilience") in paths
    # The list of GFMD editions follows "Structure du Forum :" after a blank line: not part of it.
    editions = document.text.index("-La Belgique a organisé le premier FMMD")
    section = next(s for s in document.sections if s.start <= editions < s.end)
    assert section.path == ("Global Forum Migration et Développement",)


def test_passages_cite_exact_spans_inside_one_section(document) -> None:  # type: ignore[no-untyped-def]
    passages = chunk_document(document, 1000, 150)
    assert len(passages) > 10
    for passage in passages:
        assert document.text[passage.start : passage.end] == passage.text
        assert len(passage.text) <= 1000
        section = next(s for s in document.sections if s.start <= passage.start < s.end)
        assert passage.end <= section.end and passage.section == section.path
    covered = sum(len(p.text) for p in passages)
    body = sum(len(document.text[s.start : s.end].strip()) for s in document.sections)
    assert covered >= body * 0.95  # nothing of the body is lost


def test_sentences_end_at_french_sentence_ends() -> None:
    text = "Le FMMD est né en 2006. Il réunit des experts ; il est « non contraignant ». Fin\n• Puce suivante"
    spans = [text[s.start : s.end] for s in split_sentences(text, 0, len(text))]
    assert spans == ["Le FMMD est né en 2006.", "Il réunit des experts ;", "il est « non contraignant ».", "Fin", "• Puce suivante"]


def test_markdown_and_html_headings_give_section_paths(tmp_path: Path) -> None:
    (tmp_path / "note.md").write_text("# Titre\n\n## Partie A\n\nTexte A.\n\n## Partie B\n\nTexte B.\n", encoding="utf-8")
    html = "<html><head><script>alert(1)</script></head><body><h1>Rapport</h1><h2>Budget</h2><p>35 M€ sur 48 mois.</p></body></html>"
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    documents = {d.doc_id: d for d in read_corpus(tmp_path)}
    markdown = documents["note.md"]
    assert [s.path for s in markdown.sections] == [("Partie A",), ("Partie B",)]
    page = documents["page.html"]
    assert "alert" not in page.text
    assert page.sections[-1].path[-1] == "Budget" and "35 M€" in page.text[page.sections[-1].start : page.sections[-1].end]


def test_nested_headings_open_and_close_where_the_layout_says(tmp_path: Path) -> None:
    # Pins the exact sections the one-pass sweep of build_sections must give (it replaced a quadratic
    # scan, bug 8): glued sub-headings end at the next blank line, a numbered one nests one level deeper,
    # a heading of the same level closes the previous one, and the document's title is in no path.
    plain = (
        "Titre du document\n\nPartie A\n\nIntro de A.\nSous-partie\nTexte de la sous-partie.\n1. Point un\nDétail du point.\n\n"
        "Hors de la sous-partie.\n\nPartie B\n\nTexte de B.\n"
    )
    (tmp_path / "plan.txt").write_text(plain, encoding="utf-8")
    document = read_document(tmp_path / "plan.txt", tmp_path)
    assert document.title == "Titre du document"
    assert [(plain[s.start : s.end].strip(), s.path) for s in document.sections] == [
        ("Intro de A.", ("Partie A",)),
        ("Texte de la sous-partie.", ("Partie A", "Sous-partie")),
        ("Détail du point.", ("Partie A", "Sous-partie", "1. Point un")),
        ("Hors de la sous-partie.", ("Partie A",)),
        ("Texte de B.", ("Partie B",)),
    ]
    # Closing #s are not part of a Markdown title, but a title made of #s alone keeps its first one.
    markdown = "# Titre ##\n\nIntro.\n\n## A #\n\nTexte A.\n\n### A1\n\nTexte A1.\n\n## #\n\nTexte dièse.\n"
    (tmp_path / "plan.md").write_text(markdown, encoding="utf-8")
    document = read_document(tmp_path / "plan.md", tmp_path)
    assert document.title == "Titre"
    assert [(markdown[s.start : s.end].strip(), s.path) for s in document.sections] == [
        ("Intro.", ()),
        ("Texte A.", ("A",)),
        ("Texte A1.", ("A", "A1")),
        ("Texte dièse.", ("#",)),
    ]


def test_pdf_text_is_read(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    path = tmp_path / "vide.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(CorpusError, match="holds no text"):
        read_document(path, tmp_path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin1.txt", "Coopération".encode("latin-1"), "not valid UTF-8"),
        ("empty.txt", b"", "holds no text"),
        ("blank.md", b"   \n\n", "holds no text"),
        ("broken.pdf", b"%PDF-1.4 not really", "not a readable PDF"),
    ],
)
def test_bad_corpus_files_are_named_in_a_clear_error(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(CorpusError, match=message) as error:
        read_corpus(tmp_path)
    assert name in str(error.value)


def test_missing_or_empty_corpus_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        read_corpus(tmp_path / "absent")
    with pytest.raises(CorpusError, match="has no"):
        read_corpus(tmp_path)
