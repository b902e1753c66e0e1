"""English and Arabic questions name the corpus's organisations and places in their own words: the French name brings its passage first."""

from __future__ import annotations

import pytest

from coopqa.search import Retriever
from coopqa.search.glossary import asked_names, corpus_names


@pytest.mark.parametrize(
    ("question", "language", "expected"),
    [
        ("When was the ILO founded?", "en", {"org:OIT"}),
        ("Since when has Morocco been a member of the International Organization for Migration?", "en", {"org:OIM"}),
        ("What does UNHCR do for refugees in Morocco?", "en", {"org:HCR"}),
        ("How does Morocco work with the African Union and the Arab League?", "en", {"org:UA", "org:LEA"}),
        ("متى تأسست منظمة العمل الدولية؟", "ar", {"org:OIT"}),
        ("منذ متى والمغرب عضو في المنظمة الدولية للهجرة؟", "ar", {"org:OIM"}),
        ("ما دور الاتحاد الافريقي؟", "ar", {"org:UA"}),  # without the hamza, as often typed
        ("And the Athens one?", "en", {"place:Athenes"}),
        ("وماذا عن منتدى أثينا؟", "ar", {"place:Athenes"}),
        ("Which Swiss city hosted the 2011 forum?", "en", {"place:Suisse"}),
        ("What was the Greek presidency's theme?", "en", {"place:Grece"}),
        ("ما هي المشاريع المالية؟", "ar", set()),  # « مالي » (financial) is no Mali: Mali is left out
        ("Who sits on the GFMD Troika?", "en", {"body:Troika"}),
        ("ممن تتكون ترويكا الـ FMMD؟", "ar", {"body:Troika"}),
        ("أين يجتمع «أصدقاء المنتدى»؟", "ar", {"body:AmisForum"}),
        ("What about Australia?", "en", set()),  # a place the corpus never names pins nothing
        ("Quand l'OIT a-t-elle été créée ?", "fr", set()),  # French questions are matched by BM25 already
    ],
)
def test_a_question_names_organisations_and_places_in_its_language(question: str, language: str, expected: set[str]) -> None:
    assert asked_names(question, language) == expected


def test_a_french_passage_names_them_by_acronym_or_full_name() -> None:
    assert corpus_names("L’OIT a été fondée en 1919") == {"org:OIT"}
    assert corpus_names("l’Organisation Internationale pour les Migrations (OIM) et le Haut-Commissariat") == {"org:OIM", "org:HCR"}
    assert corpus_names("la Ligue des Etats Arabes et l’Union Africaine") == {"org:LEA", "org:UA"}
    assert corpus_names("Le FMMD est une instance") == frozenset()
    assert corpus_names("une politique migratoire") == frozenset()  # « oim » inside no word, « ua » inside none
    assert corpus_names("La troisième réunion du FMMD : Athènes 2009, sous la Présidence grecque") == {"place:Athenes", "place:Grece"}


def test_an_arabic_question_on_the_ilo_finds_the_ilo_passage(retriever: Retriever) -> None:
    """« When was the ILO founded? » in Arabic first found « Fondée en 1951, l'OIM… » (ar-q042)."""
    answer = retriever.ask("متى تأسست منظمة العمل الدولية؟")
    assert answer.language == "ar" and "1919" in answer.hits[0].passage.text


def test_an_arabic_follow_up_pins_the_body_its_topic_names(retriever: Retriever) -> None:
    """« وما هي مهمتها؟ » (and what is it for?) names nothing: its topic's « ترويكا » (Troika) pins the passage (ar-c005)."""
    answer = retriever.ask("وما هي مهمتها؟", history=["ممن تتكون ترويكا الـ FMMD؟"])
    assert answer.language == "ar" and "Troïka" in answer.hits[0].passage.text


def test_a_foreign_question_naming_a_body_its_best_passage_does_not_name_is_not_answered(retriever: Retriever) -> None:
    """The corpus names the Arab League, but not in the passage that answers best: no agreement with it is given (en-u012)."""
    assert retriever.ask("What migration agreements has Morocco signed with the Arab League?").abstained
    assert not retriever.ask("When was the ILO founded?").abstained  # named, and named by its best passage
