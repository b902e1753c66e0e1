"""Answer typing: a French question asking for a count, an amount, a sum of money, a date or a duration is not answered by a span holding none."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from coopqa.pipeline import Assistant
from coopqa.reading.answer_type import AnswerKind, expected_kind, restates_question, span_fits

from .conftest import PIAF


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Quel est le budget du projet AMEM ?", AnswerKind.MONEY),
        ("Combien coûte le projet Vivre Ensemble ?", AnswerKind.MONEY),
        ("Combien de pays ont participé à la réunion ?", AnswerKind.COUNT),
        ("Combien gagnait-elle ?", AnswerKind.AMOUNT),  # a bare « combien » may ask for money
        ("Combien d'euros l'UE a-t-elle versés ?", AnswerKind.MONEY),
        ("Quelle part des 35 M€ est réservée au retour volontaire ?", AnswerKind.AMOUNT),
        ("Quel pourcentage du budget va au Maroc ?", AnswerKind.AMOUNT),
        ("Quelle est la durée prévue du projet AMEM ?", AnswerKind.DURATION),
        ("Combien de temps doit durer le projet ?", AnswerKind.DURATION),
        ("Quand l'accord de siège a-t-il été signé ?", AnswerKind.DATE),
        ("En quelle année le projet SHARAKA a-t-il démarré ?", AnswerKind.YEAR),
        ("Quelle est la part du budget de l'UNESCO assurée par les États-Unis ?", AnswerKind.AMOUNT),  # a share, not a sum
        ("Qui est le chef de mission de l'OIM à Rabat ?", AnswerKind.PERSON),
        ("Quel ministre mauricien a présidé la 6ème édition du forum en 2012 ?", AnswerKind.PERSON),
        ("Comment s'appelait le Secrétaire général de l'ONU qui a proposé la création du FMMD ?", AnswerKind.PERSON),
        ("Quel est le rôle du ministre ?", None),  # about an office, not asking who holds it
        ("Qui finance le projet AMEM ?", None),
        ("Où s'est tenue la première réunion du forum ?", None),
        ("Dans quelle ville s'est déroulé le 2e FMMD et à quelle date ?", None),  # two facts asked: the answer holds both
    ],
)
def test_the_kind_of_answer_a_question_asks_for(question: str, kind: AnswerKind | None) -> None:
    assert expected_kind(question) is kind


@pytest.mark.parametrize(
    ("question", "language", "kind"),
    [
        ("How long is the AMEM project going to last?", "en", AnswerKind.DURATION),
        ("What was the budget of the PISERUMA programme?", "en", AnswerKind.MONEY),
        ("How much funding comes with the programme?", "en", AnswerKind.MONEY),
        ("How much of it goes to Morocco?", "en", AnswerKind.AMOUNT),
        ("When was the Global Compact adopted?", "en", AnswerKind.DATE),
        ("How many ILO conventions has Morocco ratified?", "en", AnswerKind.COUNT),
        ("How many euros did the EU give?", "en", AnswerKind.MONEY),
        ("Who funds the AMEM project?", "en", None),
        ("Which Moroccan minister signed the agreement?", "en", AnswerKind.PERSON),
        ("Who is the current Director General of the IOM?", "en", AnswerKind.PERSON),
        ("What did King Mohammed VI present to the African Union?", "en", None),  # « what did king… »: no office asked for
        ("من هو المدير العام الحالي للمنظمة الدولية للهجرة؟", "ar", AnswerKind.PERSON),
        ("كم كانت ميزانية برنامج PISERUMA؟", "ar", AnswerKind.MONEY),
        ("ما هي الوزارة المكلفة بالهجرة؟", "ar", None),  # « المكلفة », in charge, is no « كلفة », cost
        ("متى وبأي مشروع انطلق التعاون؟", "ar", None),  # when and with which project: two facts asked
        ("ما هي مدة مشروع AMEM؟", "ar", AnswerKind.DURATION),
        ("في أي سنة تأسست منظمة العمل الدولية؟", "ar", AnswerKind.YEAR),  # « أي » folded to « اي »
        ("كم عدد المستفيدين من مشروع SHARAKA؟", "ar", AnswerKind.COUNT),
        ("أين ومتى انعقدت أول دورة للـ FMMD؟", "ar", None),  # where and when: two facts asked
        ("من يموّل مشروع AMEM؟", "ar", None),
    ],
)
def test_english_questions_are_typed_too(question: str, language: str, kind: AnswerKind | None) -> None:
    assert expected_kind(question, language) is kind


@pytest.mark.parametrize(
    ("kind", "span", "fits"),
    [
        (AnswerKind.AMOUNT, "2.400.000 Euros", True),
        (AnswerKind.AMOUNT, "1,8 milliard d’Euros", True),
        (AnswerKind.AMOUNT, "appui financier de l’Union Européenne", False),
        (AnswerKind.MONEY, "5 271 000 euros", True),
        (AnswerKind.MONEY, "35 M€", True),
        (AnswerKind.MONEY, "600", False),  # PISERUMA's 600 projects are no budget
        (AnswerKind.MONEY, "14,2 milliards", True),  # PIAF's volunteers often leave the currency out
        (AnswerKind.YEAR, "1998", True),
        (AnswerKind.YEAR, "en 800", True),
        (AnswerKind.YEAR, "3 ans", False),  # « En quelle année le projet a-t-il démarré ? »
        (AnswerKind.MONEY, "48 mois", False),
        (AnswerKind.COUNT, "trois pays", True),
        (AnswerKind.COUNT, "une vingtaine d’organisations", True),
        (AnswerKind.COUNT, "des migrants", False),
        (AnswerKind.COUNT, "1,8 milliard d’Euros", False),  # a sum is not a number of countries
        (AnswerKind.COUNT, "600 projets", True),
        (AnswerKind.DURATION, "36 mois", True),
        (AnswerKind.DURATION, "trois ans", True),
        (AnswerKind.DURATION, "Renforcer les instruments", False),
        (AnswerKind.DURATION, "2.400.000 Euros", False),
        (AnswerKind.DURATION, "depuis 1998", True),
        (AnswerKind.DATE, "19 décembre 2017", True),
        (AnswerKind.DATE, "en novembre", True),
        (AnswerKind.DATE, "prospère et en paix", False),
        (AnswerKind.PERSON, "Kofi Annan", True),
        (AnswerKind.PERSON, "M. Abdelkrim Benatiq, ministre délégué", True),
        (AnswerKind.PERSON, "le Royaume et le partenaire européen", False),
        (AnswerKind.PERSON, "GTM) des Nations Unies au Maroc", False),
        (AnswerKind.PERSON, "la proposition du Secrétaire général des Nations Unies", False),  # an office the model tags as a person
        (AnswerKind.PERSON, "Roi Mohammed VI", True),
        (None, "n’importe quoi", True),
    ],
)
def test_a_span_fits_the_kind_when_it_holds_one(kind: AnswerKind | None, span: str, fits: bool) -> None:
    assert span_fits(kind, span) is fits


def test_the_rules_refuse_few_gold_answers_of_an_independent_benchmark() -> None:
    """PIAF's volunteers wrote their own questions and answers: the rules must accept nearly all of them."""
    pairs = [
        (qa["question"], qa["answers"][0]["text"])
        for article in json.loads(PIAF.read_text(encoding="utf-8"))["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]
    typed = [(question, answer) for question, answer in pairs if expected_kind(question) is not None]
    refused = [(question, answer) for question, answer in typed if not span_fits(expected_kind(question), answer)]
    assert len(typed) > 400  # the rules do type PIAF's questions (543 measured)
    assert len(refused) / len(pairs) <= 0.012, refused[:10]


def test_a_near_miss_of_the_wrong_kind_is_abstained(reading_retriever: Assistant) -> None:
    """The corpus gives AMEM's budget, not its duration: the reader's best span is the budget, which is no duration."""
    answer = reading_retriever.ask("Quelle est la durée prévue du projet AMEM ?")
    assert answer.abstained and answer.short is None
    assert not reading_retriever.ask("Quel est le budget du projet AMEM ?").abstained


@pytest.mark.parametrize(
    "question", ["Qui est le chef de mission de l'OIM à Rabat ?", "Which Moroccan minister signed the December 2017 financing agreement with the EU?"]
)
def test_a_question_asking_for_a_person_the_corpus_never_names_is_abstained(reading_retriever: Assistant, question: str) -> None:
    """The corpus names no head of mission and no minister; before, the reader answered « le Royaume et le partenaire européen »."""
    answer = reading_retriever.ask(question)
    assert answer.abstained and answer.short is None


def test_a_missing_entity_model_is_a_one_line_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from coopqa.errors import ModelError
    from coopqa.reading import entities

    monkeypatch.setattr(entities, "PIPELINE", "fr_core_news_absent")
    entities._pipeline.cache_clear()
    try:
        with pytest.raises(ModelError) as error:
            entities.person_entities("Kofi Annan")
        assert "fr_core_news_absent" in error.value.one_line() and "setup.sh" in error.value.one_line()
    finally:
        entities._pipeline.cache_clear()


def test_a_sum_of_money_is_looked_for_beyond_the_readers_best_span(reading_retriever: Assistant) -> None:
    """The reader's best span for the programme's funding is its duration (« 48 mois »); the sum is the next one holding money."""
    answer = reading_retriever.ask("How much funding comes with the EU migration policy support programme signed at the end of 2017?")
    assert not answer.abstained and answer.short is not None
    assert "35 M€" in answer.short.text


@pytest.mark.parametrize(
    ("question", "span", "echo"),
    [
        ("Dans quelle ville suisse s'est tenu le forum de 2011 ?", "en Suisse", True),
        ("Qui préside le Groupe Thématique Migration des Nations Unies au Maroc ?", "Groupe Thématique Migration", True),
        ("Quel jour de juin 2013 le partenariat a-t-il été signé ?", "En juin 2013", True),
        ("Qui préside le Groupe Thématique Migration des Nations Unies au Maroc ?", "L’OIM", False),
        ("Combien d'axes thématiques structurent l'intervention de l'OIM ?", "3 axes thématiques", False),
        ("Quel est le budget du projet AMEM ?", "2.400.000 Euros", False),
        ("Quel est le budget du projet AMEM ?", "de la", False),  # no content word: not judged
    ],
)
def test_a_span_made_of_the_question_words_is_an_echo(question: str, span: str, echo: bool) -> None:
    assert restates_question(question, span) is echo


def test_an_echo_is_skipped_for_the_next_best_span(reading_retriever: Assistant) -> None:
    """The corpus names the country of the 2011 forum, never its city: the reader's best span is the question's own « Suisse »."""
    question = "Dans quelle ville suisse s'est tenu le forum de 2011 ?"
    keep = replace(reading_retriever.settings, answer_echo="keep")
    keeping = Assistant(reading_retriever.data, reading_retriever.embedder, keep, reader=reading_retriever.reader)
    kept = keeping.ask(question).short
    assert kept is not None and restates_question(question, kept.text)
    skipped = reading_retriever.ask(question)
    assert skipped.short is None or not restates_question(question, skipped.short.text)
    assert reading_retriever.settings.answer_echo == "skip"
