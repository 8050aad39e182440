"""Tagging: redaction before matching, routing, and poison-message containment."""

from __future__ import annotations

import dataclasses

from tests.transforms.helpers import message, note_payload, survey_payload
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
