"""HTML for the chat: answers, cited sources and notices, safe to hand to the browser.

Corpus files and questions are untrusted: a document may contain ``<script>``
or a Markdown ``[lien](javascript:…)``. Every piece of text therefore goes
through :func:`escape_text`, which turns HTML *and* Markdown syntax into
character references, so the chat's Markdown renderer and HTML sanitizer only
ever see markup written here. The output is a single line: a blank line would
end the HTML block and let Markdown parse what follows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from coopqa.documents import Document
from coopqa.pipeline import CORPUS_LANGUAGE, NO_ANSWER, Answer, Hit, ShortAnswer, section_label

#: HTML's special characters plus those Markdown, LaTeX or autolinking could read as syntax,
#: all replaced in one pass by numeric character references (escaping twice would garble ``&``).
_INERT = str.maketrans({ch: f"&#{ord(ch)};" for ch in "&<>\"'\\`*_[]()#|~$!:"})
#: Context shown around a citation is the whole section, clipped to this many characters each side.
CONTEXT_CHARS = 1500
#: French names of the retrieval modes, as the settings panel and the answers show them.
MODE_LABELS = {"hybrid": "hybride", "dense": "sémantique", "bm25": "lexical"}
#: A question echoed back in the chat is cut here (the limit itself is enforced by the retriever).
QUESTION_DISPLAY_CHARS = 300
#: Under a short answer that is not ``confident`` (its calibrated probability is under the 90 %-precision threshold).
UNVERIFIED_NOTE = "Réponse non confirmée : vérifiez-la dans le passage cité avant de la reprendre."

CSS = """
.coopqa-reply p { margin: 0.2em 0 0.4em; }
.coopqa-lead { font-weight: 600; }
.coopqa-short { font-size: 1.1em; margin-bottom: 0.5em; }
.coopqa-unverified .coopqa-answer, span.coopqa-unverified { text-decoration: underline dotted; }
.coopqa-note { font-size: 0.9em; opacity: 0.85; margin-top: 0; }
.coopqa-reply mark strong.coopqa-span { text-decoration: underline; text-decoration-color: #b45309; }
.coopqa-noanswer { font-weight: 600; font-size: 1.05em; }
.coopqa-source { margin: 0.5em 0 0.9em; }
.coopqa-meta { font-size: 0.9em; opacity: 0.85; }
.coopqa-rank { font-weight: 700; }
.coopqa-reply blockquote.coopqa-passage { margin: 0.3em 0; padding: 0.2em 0.8em; border-left: 3px solid #f59e0b; }
.coopqa-reply mark { background: #fef3c7; color: #1f2937; padding: 0 0.1em; }
.coopqa-best mark { background: #fde68a; font-weight: 600; }
.coopqa-cited { background: rgba(253, 230, 138, 0.3); outline: 1px dashed #d97706; }
.coopqa-context summary { cursor: pointer; font-size: 0.9em; }
.coopqa-context-text { font-size: 0.92em; padding: 0.3em 0.8em; }
.coopqa-notice { font-style: italic; }
.coopqa-footer { font-size: 0.8em; opacity: 0.7; }
.coopqa-searched, .coopqa-language { font-size: 0.85em; opacity: 0.8; }
.coopqa-reply [dir="auto"], p.coopqa-question { text-align: start; }
"""
#: French names of the languages a question may come in (others are shown by their code).
LANGUAGE_NAMES = {"en": "anglais", "ar": "arabe", "es": "espagnol", "de": "allemand", "it": "italien", "pt": "portugais"}
#: "The sources are in French", said in the question's own language too, when coopqa knows how.
SOURCES_IN_FRENCH = {"en": "The sources quoted are in French.", "ar": "المصادر المذكورة باللغة الفرنسية."}


def escape_text(text: str) -> str:
    """``text`` as inert HTML: no tag, entity, Markdown or line break survives as syntax.

    Every line end becomes one ``<br>``: CRLF, LF, and a lone CR (classic Mac
    files). The chat's Markdown parser (marked) reads all three as line ends, so
    a CR left in place could make a blank line that ends the one-line HTML block.
    Other separators (U+2028, form feed, NEL) are not line ends to it and stay text.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_INERT).replace("\n", "<br>")


def mark_span(
    text: str,
    offset: int,
    span: tuple[int, int],
    tags: tuple[str, str],
    inner: Callable[[str], str] = escape_text,
) -> str:
    """Escape ``text`` (which starts at document offset ``offset``) with ``span`` wrapped in ``tags``.

    ``inner`` renders the wrapped part, so spans can nest (the cited passage
    inside its section, the answering sentence inside the passage).

    Spans are offsets into the document, so a cut can fall between the CR and
    the LF of one line end; escaping each side alone would then show two line
    breaks for one. So the half outside the wrapped part is dropped, and the
    line end is drawn once, by the wrapped part (by the text before it when the
    span is empty). The wrapped part is always passed on whole, because
    ``inner`` counts its own offsets from its first character.
    """
    start = min(max(span[0] - offset, 0), len(text))
    end = min(max(span[1] - offset, start), len(text))
    before, after = text[:start], text[end:]
    if start > 0 and end > start and text[start - 1 : start + 1] == "\r\n":
        before = before[:-1]
    if end > 0 and text[end - 1 : end + 1] == "\r\n":
        after = after[1:]
    return escape_text(before) + tags[0] + inner(text[start:end]) + tags[1] + escape_text(after)


def _highlighted(hit: Hit, short: ShortAnswer | None = None) -> Callable[[str], str]:
    """Renders a stretch of the passage text (starting at the passage) with the answer sentence marked,
    and the short answer, when there is one, marked again inside it."""
    inner: Callable[[str], str] = escape_text
    if short is not None and hit.highlight_start <= short.start and short.end <= hit.highlight_end:
        span = (short.start, short.end)
        # an answer that is not confident is underlined, not bold: the reader may have picked the wrong words
        tags = ('<strong class="coopqa-span">', "</strong>") if short.confident else ('<span class="coopqa-span coopqa-unverified">', "</span>")
        inner = lambda text: mark_span(text, hit.highlight_start, span, tags)  # noqa: E731
    return lambda text: mark_span(text, hit.passage.start, (hit.highlight_start, hit.highlight_end), ("<mark>", "</mark>"), inner)


def section_bounds(document: Document, start: int, end: int) -> tuple[int, int]:
    """The span of the section holding ``[start, end)`` (passages never cross sections), else the document."""
    section = next((s for s in document.sections if s.start <= start and end <= s.end), None)
    return (section.start, section.end) if section else (0, len(document.text))


def render_context(hit: Hit, document: Document, short: ShortAnswer | None = None) -> str:
    """The cited passage in place in its section, so a reader can check the citation."""
    start, end, text = hit.passage.start, hit.passage.end, document.text
    section_start, section_end = section_bounds(document, start, end)
    low, high = max(section_start, start - CONTEXT_CHARS), min(section_end, end + CONTEXT_CHARS)
    before = "… " if low > section_start else ""
    after = " …" if high < section_end else ""
    low = start - len(text[low:start].lstrip())  # no blank lines around the context
    high = end + len(text[end:high].rstrip())
    cited = mark_span(text[low:high], low, (start, end), ('<span class="coopqa-cited">', "</span>"), _highlighted(hit, short))
    return (
        '<details class="coopqa-context"><summary>Voir dans son contexte (section entière, caractères '
        f"{start}–{end})</summary>"
        f'<div class="coopqa-context-text">{before}{cited}{after}</div></details>'
    )


def render_source(hit: Hit, document: Document, best: bool = False, short: ShortAnswer | None = None) -> str:
    """One numbered source: where it comes from, the passage with its answer sentence (and short answer) marked, its context."""
    section = section_label(hit) or "(sans section)"
    passage = _highlighted(hit, short)(hit.passage.text)
    return (
        f'<div class="coopqa-source{" coopqa-best" if best else ""}" data-rank="{hit.rank}">'
        f'<p class="coopqa-meta"><span class="coopqa-rank">[{hit.rank}]</span> '
        f'<span class="coopqa-doc">{escape_text(hit.passage.doc_id)}</span> — '
        f'<span class="coopqa-section">{escape_text(section)}</span> · score {hit.score:.3f}</p>'
        f'<blockquote class="coopqa-passage" dir="auto">{passage}</blockquote>'
        f"{render_context(hit, document, short)}</div>"
    )


def _sources(hits: Iterable[Hit], documents: Mapping[str, Document], first_is_best: bool = False, short: ShortAnswer | None = None) -> str:
    def own(hit: Hit) -> ShortAnswer | None:
        return short if short is not None and hit.rank == short.passage_rank else None

    return "".join(render_source(hit, documents[hit.passage.doc_id], best=first_is_best and hit.rank == 1, short=own(hit)) for hit in hits)


def _footer(answer: Answer) -> str:
    """How the answer was found: the mode, and for a follow-up what was actually searched (discreetly)."""
    mode = MODE_LABELS.get(answer.mode, answer.mode)
    searched = ""
    if answer.searched and answer.searched != answer.question:
        searched = f'<p class="coopqa-searched" dir="auto">Recherché : « {escape_text(answer.searched)} »</p>'
    footer = f'<p class="coopqa-footer">Recherche {escape_text(mode)} · {len(answer.hits)} passage(s) · {answer.latency_ms:.0f} ms</p>'
    return searched + footer


def _language_note(answer: Answer) -> str:
    """For a question not in French: which language was understood, that the sources stay French, and if it was not calibrated."""
    if answer.language == CORPUS_LANGUAGE:
        return ""
    name = LANGUAGE_NAMES.get(answer.language, answer.language)
    note = f"Question en {name} : les sources citées sont en français."
    if not answer.language_calibrated:
        note = f"Question en {name}, une langue pour laquelle coopqa n\u2019est pas calibré : réponse moins sûre ; les sources citées sont en français."
    html = f'<p class="coopqa-language" data-language="{escape_text(answer.language)}">{escape_text(note)}</p>'
    own = SOURCES_IN_FRENCH.get(answer.language)
    if own is not None:
        html += f'<p class="coopqa-language" dir="auto" lang="{escape_text(answer.language)}">{escape_text(own)}</p>'
    return html


def render_answer(answer: Answer, documents: Mapping[str, Document]) -> str:
    """The assistant's message: the best passage quoted, then the other sources; or the abstention."""
    if answer.abstained:
        body = f'<p class="coopqa-noanswer">{escape_text(NO_ANSWER)}</p>'
        if answer.hits:
            body += '<p class="coopqa-lead">Passages les plus proches (peut-être utiles) :</p>' + _sources(answer.hits, documents)
        return f'<div class="coopqa-reply coopqa-abstained">{_language_note(answer)}{body}{_footer(answer)}</div>'
    best, others = answer.hits[0], answer.hits[1:]
    short = answer.short
    if short is not None and short.confident:
        body = (
            f'<p class="coopqa-short">Réponse : <strong class="coopqa-answer">{escape_text(short.text)}</strong> [{short.passage_rank}]</p>'
            '<p class="coopqa-lead">D\u2019après le corpus [1] (la réponse est en gras dans la phrase surlignée) :</p>'
        )
    elif short is not None:
        body = (
            f'<p class="coopqa-short coopqa-unverified">Réponse possible : <span class="coopqa-answer">{escape_text(short.text)}</span>'
            f" [{short.passage_rank}]</p>"
            f'<p class="coopqa-note">{escape_text(UNVERIFIED_NOTE)}</p>'
            '<p class="coopqa-lead">D\u2019après le corpus [1] (la réponse possible est soulignée dans la phrase surlignée) :</p>'
        )
    else:
        body = '<p class="coopqa-lead">D\u2019après le corpus [1], la phrase surlignée répond à la question :</p>'
    body += _sources([best], documents, first_is_best=True, short=short)
    if others:
        body += '<p class="coopqa-lead">Autres sources :</p>' + _sources(others, documents)
    return f'<div class="coopqa-reply coopqa-answered">{_language_note(answer)}{body}{_footer(answer)}</div>'


def render_question(question: str) -> str:
    """The user's question as the chat shows it (cut if very long); ``dir="auto"`` sets Arabic right to left."""
    shown = question if len(question) <= QUESTION_DISPLAY_CHARS else question[:QUESTION_DISPLAY_CHARS] + "…"
    return f'<p class="coopqa-question" dir="auto">{escape_text(shown)}</p>'


def render_notice(text: str) -> str:
    """A message from the assistant that is not an answer (empty question, error…)."""
    return f'<p class="coopqa-notice">{escape_text(text)}</p>'
