"""Acronyms: the long forms the text gives, and questions asking what one stands for, answered with it."""

from __future__ import annotations

import json

import pytest

from coopqa.pipeline import Assistant
from coopqa.reading.acronyms import asked_acronym, definitions

from .conftest import CORPUS, PIAF


def long_forms(text: str) -> dict[str, str]:
    return {definition.short: text[definition.start : definition.end] for definition in definitions(text)}


def test_the_corpus_long_forms_are_read_in_both_orders() -> None:
    forms = long_forms((CORPUS / "cooperation-multilaterale.txt").read_text(encoding="utf-8"))
    assert forms["BRA"] == "Bureau des Réfugiés et des Apatrides"  # long form (SHORT), small words skipped
    assert forms["FMMD"] == "Forum Mondial sur la Migration et le Développement"
    assert forms["AMAPPE"] == "Association Marocaine d’Appui à la Promotion de la Petite Entreprise"  # not « à la Promotion… »
    assert forms["PISERUMA"] == "Programme d’Insertion Socio-économique des Réfugiés Urbains au Maroc"  # « MA » from « Maroc »
    assert forms["AVRR"] == "Aide au retour volontaire et à la réintégration"  # SHORT (long form)
    assert forms["AMEM"] == "Appui à la Migration Equitable pour le Maghreb"  # SHORT « long form »
    assert "AECID" not in forms  # « agence espagnole de coopération Internationale »: its letters do not spell it


def test_long_forms_in_an_independent_text_are_clean() -> None:
    """PIAF's Wikipedia paragraphs were not looked at when the rules were written: no long form starts on a small word or holds a bracket."""
    forms = [
        (short, long_form)
        for article in json.loads(PIAF.read_text(encoding="utf-8"))["data"]
        for paragraph in article["paragraphs"]
        for short, long_form in long_forms(paragraph["context"]).items()
    ]
    assert len(forms) >= 25
    assert ("FMI", "Fonds monétaire international") in forms and ("SFIO", "Section française de l'Internationale ouvrière") in forms
    assert all(long_form.split()[0].lower() not in {"de", "la", "le", "à", "des", "sein"} and "(" not in long_form for _, long_form in forms), forms


@pytest.mark.parametrize(
    ("question", "acronym"),
    [
        ("FED, ca veut dire quoi ?", "FED"),
        ("BRA c'est quoi ?", "BRA"),
        ("Que signifie le sigle PISERUMA ?", "PISERUMA"),
        ("AMEM, c'est l'acronyme de quoi ?", "AMEM"),
        ("What is PISERUMA short for?", "PISERUMA"),
        ("What does the acronym FMMD stand for?", "FMMD"),
        ("ماذا يعني اختصار FMMD؟", "FMMD"),
        ("Quel est le budget du projet AMEM ?", None),  # asks about it, not what it stands for
        ("Que signifient OIM et HCR ?", None),  # two acronyms: not one long form
    ],
)
def test_a_question_asking_what_an_acronym_stands_for(question: str, acronym: str | None) -> None:
    assert asked_acronym(question) == acronym


@pytest.mark.parametrize(
    ("question", "long_form"),
    [
        ("BRA c'est quoi ?", "Bureau des Réfugiés et des Apatrides"),  # its cosine fell under the abstention threshold before
        ("FED, ca veut dire quoi ?", "Fonds européen de développement"),
        ("What is PISERUMA short for?", "Programme d’Insertion Socio-économique des Réfugiés Urbains au Maroc"),
    ],
)
def test_the_long_form_is_the_short_answer_and_its_passage_comes_first(reading_retriever: Assistant, question: str, long_form: str) -> None:
    answer = reading_retriever.ask(question)
    assert not answer.abstained and answer.short is not None
    assert answer.short.text == long_form
    top = answer.hits[0]
    assert top.passage.text[answer.short.start - top.passage.start : answer.short.end - top.passage.start] == long_form
    assert top.highlight_start <= answer.short.start and answer.short.end <= top.highlight_end


def test_an_acronym_the_corpus_never_spells_out_gets_no_other_long_form(reading_retriever: Assistant) -> None:
    """IRAM is named, never spelt out; the reader offered AMEM's long form, « Appui à la Migration Equitable »."""
    answer = reading_retriever.ask("Que veut dire le sigle IRAM ?")
    assert answer.short is None or answer.short.text.lower().startswith("i")


def test_an_acronym_the_corpus_never_names_is_not_answered(reading_retriever: Assistant) -> None:
    answer = reading_retriever.ask("Que signifie le sigle CEDEAO ?")
    assert answer.abstained and answer.short is None
