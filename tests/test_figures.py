"""Figures a question names (years, ordinals, amounts) bring the passage that holds them first among the best few."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from coopqa.pipeline import Assistant
from coopqa.search.figures import figures, figures_first


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ou s'est tenue la 4eme reunion du FMMD ?", {"o4"}),
        ("la quatrième réunion", {"o4"}),
        ("La 10ème édition, co-présidée en 2017-2018", {"o10", "y2017", "y2018"}),
        ("Le forum 2012, c'était où ?", {"y2012"}),
        ("the tenth edition, the 3rd meeting", {"o10", "o3"}),
        ("Quel est le budget du projet AMEM ?", set()),
        # no edition's number: « première » means earliest, « dix-huitième » is no « huitième », bare numbers name anything
        ("la toute première édition, sa première saison", set()),
        ("au dix-huitième siècle", set()),
        ("les 4 jours de Dunkerque, 2.400.000 Euros, 1,8 milliard", set()),
        # Arabic ordinals, with the article, a glued conjunction, feminine forms and the teens
        ("والرابع؟", {"o4"}),
        ("في أي بلد جرت الدورة الخامسة للـ FMMD؟", {"o5"}),
        ("والدورة الحادية عشرة، تحت أي شعار انعقدت؟", {"o11"}),
        ("الاجتماع الثاني عشر سنة 2018", {"o12", "y2018"}),
        ("الحادي", set()),
    ],
)
def test_figures_named_in_words_or_digits(text: str, expected: set[str]) -> None:
    assert figures(text) == expected


def test_the_first_passage_holding_every_figure_goes_first() -> None:
    order = np.array([7, 3, 5])
    texts = ["La 1ère édition à Bruxelles en 2007.", "La 5ème édition en Suisse en 2011.", "En 2011, autre chose."]
    assert figures_first(order, texts, figures("le FMMD de 2011, 5e édition")).tolist() == [3, 7, 5]
    assert figures_first(order, texts, figures("la 1ère édition")).tolist() == [7, 3, 5]  # the best already holds it
    assert figures_first(order, texts, figures("la 9e édition")).tolist() == [7, 3, 5]  # none holds it
    assert figures_first(order, texts, frozenset()).tolist() == [7, 3, 5]  # nothing asked


def test_a_year_asked_brings_its_edition_first(reading_retriever: Assistant) -> None:
    """Fusion ranks the passage on the first editions above the one on 2011 (shipped set, q029)."""
    question = "Dans quel pays a eu lieu le FMMD de 2011 ?"
    plain = Assistant(reading_retriever.data, reading_retriever.embedder, replace(reading_retriever.settings, figure_depth=0), reader=None)
    assert "2011" not in plain.ask(question).hits[0].passage.text
    pinned = Assistant(reading_retriever.data, reading_retriever.embedder, replace(reading_retriever.settings, figure_depth=3), reader=reading_retriever.reader)
    answer = pinned.ask(question)
    assert "2011" in answer.hits[0].passage.text
    assert answer.short is not None and "Suisse" in answer.short.text


def test_an_english_follow_up_finds_its_edition_by_its_ordinal(retriever: Assistant) -> None:
    """« fourth » cannot match « quatrième » lexically, and English is ranked by meaning: the figure does it (en-c001)."""
    history = ["Where was the third GFMD meeting held?"]
    answer = retriever.ask("And the fourth?", history=history)
    assert answer.language == "en" and "Mexico 2010" in answer.hits[0].passage.text
    arabic = retriever.ask("والرابع؟", history=["أين انعقد الاجتماع الثالث للمنتدى العالمي للهجرة والتنمية؟"])
    assert arabic.language == "ar" and "Mexico 2010" in arabic.hits[0].passage.text
    french_off = Assistant(retriever.data, retriever.embedder, replace(retriever.settings, figure_depth=0))
    assert french_off.ask("And the fourth?", history=history).hits[0].passage.text == answer.hits[0].passage.text  # English keeps its own depth


def test_a_foreign_question_naming_a_figure_no_passage_holds_is_not_answered(retriever: Assistant) -> None:
    """The corpus stops at the forum's 11th edition: the 12th is a near-miss, caught by its figure (en-u001)."""
    missing = retriever.ask("What was the theme of the 12th Global Forum on Migration and Development?")
    assert missing.language == "en" and missing.abstained
    held = retriever.ask("Which country hosted the 7th Global Forum on Migration and Development?")
    assert not held.abstained and "7ème" in held.hits[0].passage.text
    # French questions keep their own rule (no figure check)
    assert "o12" in figures("Quel était le thème de la 12ème édition du FMMD ?")


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        pytest.param(
            "Le thème de la 9e édition du GFMD ?",
            "La migration qui œuvre à la réalisation du développement durable de tous",
            # r3 and r5 read it; the shallow r6's best span in the 9th edition's sentence misses its margin (−3), so it
            # falls back to the whole passage (docs/reader.md). Strict: a reader that reads it again makes this fail.
            marks=pytest.mark.xfail(reason="reader r6 reads no convincing span in the edition's sentence", strict=True),
        ),
        ("Quel pays a accueilli la 7e édition du Forum mondial ?", "Suède"),
    ],
)
def test_the_short_answer_comes_from_the_sentence_naming_the_edition_asked(reading_retriever: Assistant, question: str, answer: str) -> None:
    """The editions are listed one after another; the reader alone took the next edition's theme (« Vers un contrat social mondial ») or host (« Turquie »)."""
    short = reading_retriever.ask(question).short
    assert short is not None and answer in short.text
