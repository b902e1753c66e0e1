"""English and Arabic questions name the corpus's organisations in their own words: the French name brings its passage first."""

from __future__ import annotations

import pytest

from coopqa.search import Retriever
from coopqa.search.organisations import asked_organisations, named_organisations


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
        ("What about Australia?", "en", set()),
        ("Quand l'OIT a-t-elle été créée ?", "fr", set()),  # French questions are matched by BM25 already
    ],
)
def test_a_question_names_organisations_in_its_language(question: str, language: str, expected: set[str]) -> None:
    assert asked_organisations(question, language) == expected


def test_a_french_passage_names_them_by_acronym_or_full_name() -> None:
    assert named_organisations("L’OIT a été fondée en 1919") == {"org:OIT"}
    assert named_organisations("l’Organisation Internationale pour les Migrations (OIM) et le Haut-Commissariat") == {"org:OIM", "org:HCR"}
    assert named_organisations("la Ligue des Etats Arabes et l’Union Africaine") == {"org:LEA", "org:UA"}
    assert named_organisations("Le FMMD est une instance") == frozenset()
    assert named_organisations("une politique migratoire") == frozenset()  # « oim » inside no word, « ua » inside none


def test_an_arabic_question_on_the_ilo_finds_the_ilo_passage(retriever: Retriever) -> None:
    """« When was the ILO founded? » in Arabic first found « Fondée en 1951, l'OIM… » (ar-q042)."""
    answer = retriever.ask("متى تأسست منظمة العمل الدولية؟")
    assert answer.language == "ar" and "1919" in answer.hits[0].passage.text
