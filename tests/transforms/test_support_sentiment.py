"""The support-language layer: each rule with texts plain NLTK VADER gets wrong.

Every case asserts both halves: plain VADER's label is wrong (so the case tests
the rule, not VADER) and voc's is right. The texts were written for these tests,
not taken from the labelled evaluation set, so passing them says nothing about
accuracy; tests/data/sentiment measures that.
"""

from __future__ import annotations

import pytest

from voc.transforms.emoji_names import name_emoji
from voc.transforms.feedback_tokens import hashtag_words, tokenize
from voc.transforms.friction_facts import friction_facts, remedied_clauses
from voc.transforms.score_sentiment import (
    label_for_compound,
    plain_vader_score,
    read_text_sentiment,
    score_sentiment,
)
from voc.transforms.support_sentiment import LABELS, class_probabilities, label_of

RULE_CASES = {
    "friction: waits, counts, disconnection": [
        ("Waited on hold for 45 minutes and got transferred three times.", "negative"),
        ("2 hours?! And just got disconnected", "negative"),
        ("Third time calling about the same router.", "negative"),
    ],
    "friction: persistence and repetition": [
        ("Still waiting for the engineer.", "negative"),
        ("The app crashed again after the update.", "negative"),
    ],
    "friction: expected outcome negated": [
        ("My parcel never arrived.", "negative"),
        ("It feels like nobody reads these", "negative"),
    ],
    "friction: a reported promise is a broken one": [
        ("I was promised a callback yesterday.", "negative"),
    ],
    "requests: a remedy asked for is a complaint": [
        ("Please refund the delivery fee.", "negative"),
        ("Kindly fix my bill", "negative"),
        ("Customer would like a refund", "negative"),
    ],
    "requests and courtesy are not praise": [
        ("Can you please help me reset my password? Thanks in advance.", "neutral"),
        ("Status update please, thanks", "neutral"),
    ],
    "questions about a possible problem are neutral": [
        ("Will my order be delayed by the strike?", "neutral"),
        ("Is delivery free on orders over 50?", "neutral"),
    ],
    "sarcasm and thanks after a complaint": [
        ("Great, another outage. Thanks a lot.", "negative"),
        ("Love waiting on hold for an hour.", "negative"),
        ("Still no refund. Thanks.", "negative"),
        ("Thanks for nothing.", "negative"),
    ],
    "contrast: the clause after 'but' decides": [
        ("The agent was lovely but the issue is still not fixed.", "negative"),
    ],
    "hashtags are words": [
        ("#StillWaiting for my refund @bank", "negative"),
        ("#fail", "negative"),
    ],
    "emoji are words": [
        ("the app keeps logging me out \U0001f621", "negative"),
    ],
    "wishes, improvement demands and the past": [
        ("Could be better.", "negative"),
        ("Would be nice to have a dark mode.", "neutral"),
        ("You used to be good.", "negative"),
    ],
    "absence of trouble and trouble put right": [
        ("No complaints, will order again", "positive"),
        ("Engineer fixed the leak the same day.", "positive"),
    ],
    "warnings and 'like' that is not a verb": [
        ("Don't waste your money on this plan.", "negative"),
        ("it took like 3 hours to get through", "negative"),
    ],
}


@pytest.mark.parametrize(
    ("rule", "text", "label"),
    [(rule, text, label) for rule, cases in RULE_CASES.items() for text, label in cases],
)
def test_rule_fixes_what_plain_vader_gets_wrong(rule: str, text: str, label: str) -> None:
    assert label_for_compound(plain_vader_score(text)) != label, f"not a case for: {rule}"
    assert score_sentiment(text).label == label, rule


def test_plain_statements_and_praise_keep_their_reading() -> None:
    assert score_sentiment("cust called to update address, done").label == "neutral"
    assert score_sentiment("Agent was friendly. Problem solved in ten minutes.").label == (
        "positive"
    )
    assert score_sentiment("10/10 would recommend").label == "positive"
    assert score_sentiment("1 star, would not recommend").label == "negative"


def test_one_polite_sentence_does_not_average_a_complaint_away() -> None:
    text = "Thank you for your time. My internet has been down for three days."
    assert label_for_compound(plain_vader_score(text)) == "positive"
    score, reading = read_text_sentiment(text)
    assert score.label == "negative"
    assert reading is not None and len(reading.sentences) == 2
    assert reading.sentences[0].compound > 0 > reading.sentences[1].compound


def test_each_sentence_keeps_its_own_score_for_cause_evidence() -> None:
    text = "Delivery was quick and easy. The charger is broken."
    _, reading = read_text_sentiment(text)
    assert reading is not None
    assert reading.sentence_compound(text.index("quick")) > 0
    assert reading.sentence_compound(text.index("broken")) < 0
    assert reading.sentence_compound(-1) is None


def test_text_in_another_language_is_unscored_not_neutral() -> None:
    score = score_sentiment("El paquete nunca llegó y nadie me contesta, estoy harto")
    assert (score.label, score.language, score.compound, score.confidence) == (
        "unscored",
        "es",
        0.0,
        0.0,
    )
    assert score_sentiment("ok").label != "unscored"  # too short to tell: scored


def test_confidence_is_the_probability_of_the_label() -> None:
    for compound in (-0.9, -0.3, 0.0, 0.04, 0.3, 0.9):
        probabilities = class_probabilities(compound)
        assert sum(probabilities) == pytest.approx(1.0)
        assert label_of(probabilities) == label_for_compound(compound) or abs(compound) == 0.05
    strong, weak = class_probabilities(-0.9), class_probabilities(-0.2)
    assert strong[0] > weak[0] > 0.5
    assert LABELS == ("negative", "neutral", "positive")


def test_friction_facts_skip_speeds_histories_and_remedied_trouble() -> None:
    def facts(text: str) -> int:
        return sum(friction_facts(tokenize(text), {}).facts.values())

    assert facts("on hold for 45 minutes, transferred 3 times, disconnected") == 3
    assert facts("resolved in 5 minutes") == 0
    assert facts("a customer for 10 years") == 0
    assert facts("would definitely order again") == 0
    assert facts("they fixed the leak that was delayed twice") == 0
    assert facts("the leak was not fixed, delayed twice") >= 2
    assert remedied_clauses(tokenize("lost bag found, thanks")) == {0}


def test_hashtags_split_by_case_by_known_words_or_at_a_known_word() -> None:
    words = frozenset(["still", "waiting", "worst", "never", "again"])
    assert hashtag_words("StillWaiting", words) == ["Still", "Waiting"]
    assert hashtag_words("neveragain", words) == ["never", "again"]
    assert hashtag_words("worstservice", words) == ["worst", "service"]
    assert hashtag_words("fail", words) == ["fail"]


def test_emoji_are_read_by_their_names_and_modifiers_dropped() -> None:
    assert name_emoji("ok \U0001f44d\U0001f3fd") == "ok  thumbs up "
    assert name_emoji("plain ascii :)") == "plain ascii :)"
