"""Language of short feedback from its function words, and ``und`` rather than a
guess when the text has too little evidence."""

from __future__ import annotations

import pytest

from voc.transforms.detect_language import UNDETERMINED, _from_function_words, detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The package was late and the driver did not ring.", "en"),
        ("I was not happy", "en"),
        ("Was charged twice for my order", "en"),
        ("El paquete no llegó y nadie me ayudó con la devolución.", "es"),
        ("Pedí una devolución pero no me contestan", "es"),
        ("Le colis est arrivé en retard et je ne suis pas content.", "fr"),
        ("Je n'ai pas reçu mon remboursement", "fr"),
        ("Das Paket ist nicht angekommen und ich bin sehr enttäuscht.", "de"),
        ("Die Lieferung war zu spät", "de"),
        ("O pacote chegou tarde e o atendimento foi muito ruim.", "pt"),
        ("Il pacco è arrivato tardi e sono molto deluso.", "it"),
        ("Het pakket is niet aangekomen en ik ben boos.", "nl"),
    ],
)
def test_short_texts_in_each_language(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ok",
        "Terrible!",
        "the",  # one function word is not enough
        "12345 !!!",
        "Refund",
        "\U0001f621\U0001f621",
    ],
)
def test_too_little_evidence_is_undetermined(text):
    assert detect_language(text) == UNDETERMINED == "und"


def test_a_tie_is_undetermined():
    # "de la" is two Spanish and two French function words: no guess
    assert detect_language("de la") == UNDETERMINED


def test_two_function_words_are_enough():
    assert detect_language("the and") == "en"
    assert detect_language("nicht und") == "de"


def test_case_and_punctuation_do_not_matter():
    assert detect_language("THE PARCEL, AND THE BOX!") == "en"
    assert detect_language("¡NO LLEGÓ EL PAQUETE, POR FAVOR!") == "es"


def test_function_words_must_be_whole_words():
    # "theatre", "another" and "island" contain "the", "the" and "is" but are not them
    # (the fallback for texts too short for CLD2; CLD2 itself reads these as English)
    assert _from_function_words("theatre another island") == UNDETERMINED


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Sehr gut für mich", "de"),
        ("Não, não chegou.", "pt"),
        ("Très lent, très cher", "fr"),
        ("Más caro y más lento", "es"),
    ],
)
def test_accented_function_words_count(text, language):
    # The lists spell "für", "não", "très" and "más" without their accents ("fur",
    # "nao", "tres", "mas"), but the text is only lower-cased, so the accented
    # spelling that most people type is never counted and these come out "und".
    assert detect_language(text) == language
