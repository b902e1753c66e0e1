"""Present an :class:`~coopqa.pipeline.assistant.Answer`: the JSON contract and plain text.

The JSON shape is a documented contract (README, "The JSON contract (`coopqa ask --json`, `/ask`)", and docs/usage.md): other tools
parse it, so keys are only ever added, never renamed. ``language``,
``language_calibrated`` and ``searched`` were added with follow-ups and
questions in other languages (issue 12). Offsets (``start``,
``end`` and ``highlight``) index the document text coopqa read.
"""

from __future__ import annotations

from typing import Any

from coopqa.pipeline.assistant import Answer
from coopqa.search.language import CORPUS_LANGUAGE
from coopqa.search.retriever import Hit

#: What the chat, the CLI and the JSON ``message`` say when the corpus does not answer.
NO_ANSWER = "Je n'ai pas trouvé de réponse dans le corpus."

SECTION_SEPARATOR = " > "
#: Said under a short answer that is not ``confident``: the reader's span may be wrong, the cited passage is the source.
UNVERIFIED = "(réponse à vérifier dans le passage cité)"


def section_label(hit: Hit) -> str:
    return SECTION_SEPARATOR.join(hit.passage.section)


def hit_to_json(hit: Hit) -> dict[str, Any]:
    return {
        "rank": hit.rank,
        "doc": hit.passage.doc_id,
        "section": section_label(hit),
        "start": hit.passage.start,
        "end": hit.passage.end,
        "text": hit.passage.text,
        "score": round(hit.score, 6),
        "highlight": {"start": hit.highlight_start, "end": hit.highlight_end},
    }


def answer_to_json(answer: Answer, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The batch/``--json`` object; ``extra`` (the input line's own fields) is passed through."""
    record: dict[str, Any] = dict(extra or {})
    record.setdefault("id", None)
    record.update(
        {
            "question": answer.question,
            "abstained": answer.abstained,
            "message": NO_ANSWER if answer.abstained else None,
            "mode": answer.mode,
            "confidence": answer.confidence,
            "passages": [hit_to_json(hit) for hit in answer.hits],
            "latency_ms": answer.latency_ms,
            "answer": short_answer_to_json(answer),
            "language": answer.language,
            "language_calibrated": answer.language_calibrated,
            "searched": answer.searched or answer.question,
        }
    )
    return record


def short_answer_to_json(answer: Answer) -> dict[str, Any] | None:
    """``{"text", "doc", "start", "end", "score", "passage_rank", "confident"}``, or ``None`` when abstained or read by no reader.

    ``score`` is the probability that the answer is right; ``confident`` (added with the calibrated score) is true when it
    clears the threshold chosen for 90 % precision on calibration data.
    """
    short = answer.short
    if short is None or answer.abstained:
        return None
    return {
        "text": short.text,
        "doc": short.doc,
        "start": short.start,
        "end": short.end,
        "score": short.score,
        "passage_rank": short.passage_rank,
        "confident": short.confident,
    }


def highlighted_text(hit: Hit, before: str, after: str) -> str:
    """The passage with the answering sentence wrapped in ``before``/``after``."""
    passage = hit.passage
    a = hit.highlight_start - passage.start
    b = hit.highlight_end - passage.start
    return passage.text[:a] + before + passage.text[a:b] + after + passage.text[b:]


def answer_to_text(answer: Answer, emphasis: tuple[str, str] = ("«« ", " »»")) -> str:
    """A terminal rendering: the answer sentence, then numbered sources."""
    lines = [f"Question : {answer.question}"]
    if answer.searched and answer.searched != answer.question:
        lines.append(f"Recherché : {answer.searched}")
    if answer.language != CORPUS_LANGUAGE:
        calibrated = "" if answer.language_calibrated else ", langue non calibrée"
        lines.append(f"Langue : {answer.language}{calibrated} (les sources sont en français)")
    lines.append("")
    if answer.abstained:
        lines.append(NO_ANSWER)
        if answer.hits:
            lines += ["", "Passages les plus proches (peut-être utiles) :"]
    elif answer.hits:
        best = answer.hits[0]
        quote = best.passage.text[best.highlight_start - best.passage.start : best.highlight_end - best.passage.start]
        if answer.short is not None and answer.short.confident:
            lines += [f"Réponse : {answer.short.text} [{answer.short.passage_rank}]", "", "Citation : " + quote]
        elif answer.short is not None:
            lines += [f"Réponse possible : {answer.short.text} [{answer.short.passage_rank}]", UNVERIFIED, "", "Citation : " + quote]
        else:
            lines.append("Réponse : " + quote)
        lines += ["", "Sources :"]
    for hit in answer.hits:
        lines.append(
            f"[{hit.rank}] {hit.passage.doc_id} — {section_label(hit) or '(sans section)'} "
            f"(caractères {hit.passage.start}–{hit.passage.end}, score {hit.score:.3f})"
        )
        body = highlighted_text(hit, *emphasis)
        lines += ["    " + line for line in body.splitlines()] + [""]
    return "\n".join(lines).rstrip() + "\n"
