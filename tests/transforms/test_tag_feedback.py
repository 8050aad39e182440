"""Tagging: redaction before matching, routing, and poison-message containment."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import given
from hypothesis import strategies as st

from tests.transforms.helpers import message, note_payload, survey_payload
from voc.transforms.normalize_text import strip_invisible_controls
from voc.transforms.parse_event import parse_message
from voc.transforms.records import DeadLetter, TaggedEvent
from voc.transforms.tag_feedback import TagFeedbackFn, shared_taxonomy, tag_event


def test_survey_is_redacted_scored_and_routed():
    event = parse_message(
        message(
            survey_payload(
                comment="I was charged twice this month, email me at jane.doe@example.com!"
            )
        )
    )
    tagged = tag_event(event, shared_taxonomy(None))
    assert "jane.doe@example.com" not in tagged.text
    assert "<EMAIL>" in tagged.text
    assert tagged.redactions == 1
    assert tagged.sentiment.label == "negative"
    assert ("billing_error", "billing") in {(c.cause_id, c.department) for c in tagged.causes}
    assert all("@" not in c.evidence for c in tagged.causes)


def test_agent_note_signals_trigger_causes_without_words():
    event = parse_message(
        message(
            note_payload(note="Customer asked about order status.", hold_seconds=1500, transfers=3),
            event_type="agent_note",
        )
    )
    causes = {c.cause_id for c in tag_event(event, shared_taxonomy(None)).causes}
    assert {"long_hold", "transfers"} <= causes


def test_feedback_without_a_cause_is_routed_to_triage():
    event = parse_message(message(survey_payload(comment="Lovely, thanks!")))
    [cause] = tag_event(event, shared_taxonomy(None)).causes
    assert (cause.cause_id, cause.department) == ("unclassified", "support_ops")


def test_a_poison_event_becomes_a_dead_letter_not_a_crash():
    good = parse_message(message(survey_payload()))
    # An event the tagger cannot handle: an event type it has no text field for.
    poison = dataclasses.replace(good, event_type="mystery")
    fn = TagFeedbackFn()
    fn.setup()
    [out_poison] = list(fn.process(poison))
    [out_good] = list(fn.process(good))
    assert out_poison.tag == TagFeedbackFn.DEAD_LETTERS
    dead: DeadLetter = out_poison.value
    assert (dead.stage, dead.reason, dead.exception_type) == ("tag", "KeyError", "KeyError")
    assert dead.data == good.message.data and "mystery" in dead.stack
    assert isinstance(out_good, TaggedEvent)


# Every character strip_invisible_controls must remove: bidi controls, then zero-width.
INVISIBLE = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    "\u200b\u200c\u200d\u2060\ufeff"
)


def test_stored_text_has_no_bidi_or_zero_width_characters():
    comment = f"Refund{INVISIBLE} never came \u202egnp.exe\u202c, I\u200bm furious"
    tagged = tag_event(
        parse_message(message(survey_payload(comment=comment))), shared_taxonomy(None)
    )
    assert not set(INVISIBLE) & set(tagged.text)
    assert tagged.text == "Refund never came gnp.exe, Im furious"
    assert all(not set(INVISIBLE) & set(c.evidence) for c in tagged.causes)


def test_zero_width_characters_cannot_split_pii_past_redaction():
    comment = "email jane\u200b.doe@exam\u200cple.com or call 07700\u2060900\ufeff123 \u200e"
    tagged = tag_event(
        parse_message(message(survey_payload(comment=comment))), shared_taxonomy(None)
    )
    assert tagged.text == "email <EMAIL> or call <PHONE> "
    assert tagged.redactions == 2


def test_dead_letters_keep_the_raw_payload_with_its_invisible_characters():
    good = parse_message(message(survey_payload(comment="call jane\u200b@example.com")))
    poison = dataclasses.replace(good, event_type="mystery")
    fn = TagFeedbackFn()
    fn.setup()
    [out] = list(fn.process(poison))
    assert out.value.data == good.message.data
    assert "\u200b" in json.loads(out.value.data)["comment"]


def test_strip_invisible_controls_removes_exactly_the_invisible_characters():
    for char in INVISIBLE:
        assert strip_invisible_controls(f"a{char}b") == "ab", hex(ord(char))
    # Right-to-left letters, accents, emoji and curly apostrophes are content: kept.
    kept = "שלום مرحبا café 👍 it\u2019s \u00e9 \t\n"
    assert strip_invisible_controls(kept) == kept
    assert strip_invisible_controls("plain ascii") == "plain ascii"
    assert strip_invisible_controls("") == ""


@given(st.text(alphabet=st.sampled_from([*INVISIBLE, "a", "7", "@", " ", "é", "ש"])))
def test_strip_invisible_controls_only_deletes(text: str):
    stripped = strip_invisible_controls(text)
    assert stripped == "".join(char for char in text if char not in INVISIBLE)
    assert strip_invisible_controls(stripped) == stripped


def test_each_cause_carries_its_evidence_and_the_taxonomy_it_came_from():
    comment = "Call me on 07700 900123: I was charged twice and my parcel never arrived"
    event = parse_message(message(survey_payload(comment=comment)))
    taxonomy = shared_taxonomy(None)
    tagged = tag_event(event, taxonomy)
    assert (tagged.taxonomy_release, tagged.taxonomy_hash) == (
        taxonomy.release,
        taxonomy.content_hash,
    )
    by_cause = {c.cause_id: c for c in tagged.causes}
    billing = by_cause["billing_error"]
    assert billing.sub_cause_id == "charged_twice"
    assert billing.rule_id.startswith("charged_twice/")
    assert 0 < billing.confidence <= 0.99
    # offsets are into the stored, redacted text, never the raw comment
    for cause in tagged.causes:
        for span in cause.spans:
            assert tagged.text[span.start : span.end] == span.text
    assert "07700" not in tagged.text


def test_a_pack_is_named_as_the_job_carries_it():
    event = parse_message(message(survey_payload(comment="no signal at home since monday")))
    telecom = tag_event(event, shared_taxonomy("pack:telecom"))
    assert telecom.causes[0].cause_id != "unclassified"
    assert shared_taxonomy("pack:telecom").name == "telecom"
    assert shared_taxonomy("pack:telecom") is shared_taxonomy("pack:telecom")


def _small_history() -> list[dict]:
    """A scored history a model can learn from: complaints, questions, praise."""
    negative = [
        "the app keeps crashing when I open my statement",
        "my parcel has not arrived after two weeks",
        "charged twice for one order and nobody replies",
        "waited on hold for an hour then got cut off",
    ]
    neutral = [
        "what time does the store close on sundays",
        "can I change the delivery address for my order",
        "is there a student discount on the annual plan",
        "how do I download last month's invoice",
    ]
    positive = [
        "the agent sorted it out in minutes, lovely service",
        "quick delivery and the product is great",
        "really happy with the new plan, thanks",
        "easy setup and friendly support, thank you",
    ]
    history = []
    for round_ in range(20):
        for score, texts in ((1, negative), (3, neutral), (5, positive)):
            history.extend({"text": f"{text} {round_}", "csat": score} for text in texts)
    return history


def test_a_learned_model_names_itself_and_never_overrides_a_rule_tag():
    from voc.pipelines.ops.learn_model import learn_from_history

    model = learn_from_history(_small_history())
    taxonomy = shared_taxonomy(None)
    with_rule = parse_message(message(survey_payload(comment="I was charged twice this month")))
    tagged = tag_event(with_rule, taxonomy, model=model)
    assert tagged.sentiment.model_version == model.version
    assert {c.cause_id for c in tagged.causes} >= {"billing_error"}
    assert not any(c.rule_id.startswith("model:") for c in tagged.causes)
    plain = tag_event(with_rule, taxonomy)
    assert plain.sentiment.model_version == ""
    assert [c.cause_id for c in plain.causes] == [c.cause_id for c in tagged.causes]


def test_causes_carry_the_sentiment_of_their_own_sentence():
    event = parse_message(
        message(survey_payload(comment="Delivery was quick and easy. But I was charged twice!"))
    )
    tagged = tag_event(event, shared_taxonomy(None))
    [billing] = [c for c in tagged.causes if c.cause_id == "billing_error"]
    assert billing.sentiment is not None and billing.sentiment < 0
    assert tagged.experience is not None  # a survey: scores and words fused


def test_a_survey_in_another_language_is_unscored_and_keeps_its_scores():
    event = parse_message(
        message(
            survey_payload(
                comment="El paquete nunca llegó y nadie me contesta", csat=1, nps=None, ces=None
            )
        )
    )
    tagged = tag_event(event, shared_taxonomy(None))
    assert (tagged.sentiment.label, tagged.sentiment.language) == ("unscored", "es")
    assert tagged.experience is not None and tagged.experience.score == -1.0
    assert tagged.experience.contradiction is False
