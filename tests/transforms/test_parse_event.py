import json
from datetime import UTC, datetime, timedelta

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.transforms.helpers import message, note_payload, survey_payload
from voc.transforms.parse_event import ParseEvents, ParseEventsFn, ParseLimits, parse_message
from voc.transforms.records import InvalidMessage, ReceivedMessage, dead_letter_id, to_dead_letter


def test_valid_survey_and_note_parse():
    survey = parse_message(message(survey_payload()))
    assert (survey.event_type, survey.event_id, survey.interaction_id) == ("survey", "s-1", "i-1")
    assert survey.event_time == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    note = parse_message(message(note_payload(), event_type="agent_note"))
    assert note.payload["hold_seconds"] == 720


def test_scores_are_optional_and_nullable():
    payload = survey_payload(csat=None)
    del payload["nps"], payload["ces"]
    assert parse_message(message(payload)).payload["csat"] is None


def test_offsets_are_normalised_to_utc():
    event = parse_message(message(survey_payload(submitted_at="2026-01-05T12:00:00+02:00")))
    assert event.event_time == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("msg", "reason", "fragment"),
    [
        (message(survey_payload(), event_type=None), "missing_attribute", "event_type"),
        (message(survey_payload(), event_time=None), "missing_attribute", "event_time"),
        (message(survey_payload(), event_type="complaint"), "unknown_event_type", "complaint"),
        (message(survey_payload(), schema_version="99"), "unknown_schema_version", "99"),
        (message(survey_payload(), schema_version="one"), "unknown_schema_version", "one"),
        (message(b"\xff\xfe{not utf8"), "invalid_utf8", "not UTF-8"),
        (message(b'{"event_id": "s-1", "comm'), "invalid_json", "not JSON"),
        (message(b"[1, 2]"), "schema_violation", "not an object"),
        (message(survey_payload(csat="five")), "schema_violation", "csat"),
        (message(survey_payload(nps=11)), "schema_violation", "nps"),
        (message(survey_payload(channel="fax")), "schema_violation", "channel"),
        (message(survey_payload(extra=1)), "schema_violation", "extra"),
        (message(survey_payload(submitted_at="yesterday")), "bad_event_time", "submitted_at"),
        (message(survey_payload(submitted_at="2026-01-05T10:00:00")), "bad_event_time", "offset"),
        (
            message({k: v for k, v in survey_payload().items() if k != "event_id"}),
            "schema_violation",
            "event_id",
        ),
        (
            message(note_payload(transfers=-1), event_type="agent_note"),
            "schema_violation",
            "transfers",
        ),
    ],
)
def test_invalid_messages_name_their_problem(msg, reason, fragment):
    with pytest.raises(InvalidMessage) as caught:
        parse_message(msg)
    assert caught.value.reason == reason
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_dead_letter_keeps_raw_bytes_and_attributes():
    raw = message(b"\xff\x00garbage", message_id="42")
    with pytest.raises(InvalidMessage) as caught:
        parse_message(raw)
    dead = to_dead_letter(raw, "parse", caught.value)
    assert dead.data == b"\xff\x00garbage"
    assert dead.attributes == raw.attributes
    assert (dead.reason, dead.stage, dead.dead_letter_id) == ("invalid_utf8", "parse", "msg:42")


def test_dead_letter_id_is_a_content_hash_without_message_id():
    a = message(b"x", event_type="survey")
    b = message(b"x", event_type="agent_note")
    assert dead_letter_id(a) == dead_letter_id(message(b"x"))
    assert dead_letter_id(a) != dead_letter_id(b)


def test_parse_events_splits_good_and_bad_outputs():
    good = message(survey_payload())
    bad = message(json.dumps(survey_payload(csat=9)).encode(), message_id="7")
    with TestPipeline() as p:
        outputs = p | beam.Create([good, bad]) | ParseEvents()
        assert_that(
            outputs.events | "EventIds" >> beam.Map(lambda e: e.event_id),
            equal_to(["s-1"]),
            label="CheckEvents",
        )
        assert_that(
            outputs.dead_letters | "Reasons" >> beam.Map(lambda d: (d.dead_letter_id, d.reason)),
            equal_to([("msg:7", "schema_violation")]),
            label="CheckDeadLetters",
        )


def test_parse_events_stamps_event_time():
    with TestPipeline() as p:
        stamped = (p | beam.Create([message(survey_payload())]) | ParseEvents()).events | beam.Map(
            lambda e, ts=beam.DoFn.TimestampParam: ts.micros // 1_000_000
        )
        assert_that(stamped, equal_to([int(datetime(2026, 1, 5, 10, tzinfo=UTC).timestamp())]))


# --------------------------------------------------------------------------- contract versions


def test_survey_v2_with_product_area_is_accepted():
    event = parse_message(
        message(survey_payload(product_area="billing_portal"), schema_version="2")
    )
    assert event.schema_version == 2
    assert event.payload["product_area"] == "billing_portal"


def test_survey_v2_without_product_area_is_accepted():
    event = parse_message(message(survey_payload(), schema_version="2"))
    assert event.schema_version == 2
    assert "product_area" not in event.payload


@pytest.mark.parametrize("bad_area", ["Billing Portal", "billing-portal", "", "x" * 65])
def test_survey_v2_rejects_a_malformed_product_area(bad_area):
    with pytest.raises(InvalidMessage) as caught:
        parse_message(message(survey_payload(product_area=bad_area), schema_version="2"))
    assert caught.value.reason == "schema_violation"
    assert "product_area" in str(caught.value)


def test_survey_v1_rejects_product_area():
    """v1 is closed (additionalProperties: false): the field needs the v2 attribute."""
    with pytest.raises(InvalidMessage) as caught:
        parse_message(message(survey_payload(product_area="billing_portal"), schema_version="1"))
    assert caught.value.reason == "schema_violation"
    assert "survey v1" in str(caught.value)
    assert "product_area" in str(caught.value)


def test_survey_v3_is_an_unknown_schema_version():
    with pytest.raises(InvalidMessage) as caught:
        parse_message(message(survey_payload(), schema_version="3"))
    assert caught.value.reason == "unknown_schema_version"
    assert "survey.v3.json" in str(caught.value)


def test_odd_attribute_text_still_gets_a_dead_letter_id():
    odd = ReceivedMessage(b"{}", {"event_type": "survey\ud800", "x\udfff": "1"}, "", None)
    [out] = list(ParseEventsFn().process(odd))
    assert out.tag == ParseEventsFn.DEAD_LETTERS
    assert out.value.dead_letter_id.startswith("sha256:")
    assert out.value.reason == "missing_attribute"


NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("submitted_at", "fragment"),
    [
        ("9999-12-31T23:59:59Z", "ahead of now"),
        ("2026-12-02T12:00:01Z", "ahead of now"),  # one second past the day of skew
        ("0001-01-01T00:00:00Z", "older than 1,825 days"),
        ("2021-12-01T11:59:59Z", "older than 1,825 days"),
    ],
)
def test_implausible_event_times_are_dead_letters(submitted_at, fragment):
    with pytest.raises(InvalidMessage) as raised:
        parse_message(message(survey_payload(submitted_at=submitted_at)), now=NOW)
    assert raised.value.reason == "implausible_event_time"
    assert fragment in raised.value.detail and "submitted_at" in raised.value.detail


@pytest.mark.parametrize("submitted_at", ["2026-12-02T12:00:00Z", "2021-12-02T12:00:00Z"])
def test_event_times_at_the_limits_are_plausible(submitted_at):
    event = parse_message(message(survey_payload(submitted_at=submitted_at)), now=NOW)
    assert event.event_time == datetime.fromisoformat(submitted_at)


def test_the_limits_are_settings():
    wide = ParseLimits(future_skew=timedelta(days=10_000), max_age=timedelta(days=10_000))
    payload = survey_payload(submitted_at="2001-01-01T00:00:00Z")
    assert parse_message(message(payload), wide, now=NOW).event_id == "s-1"


@pytest.mark.parametrize(
    ("attributes", "reason", "fragment"),
    [
        ({"event_time": "yesterday"}, "bad_event_time", "attribute event_time"),
        ({"event_time": "2026-01-05T10:00:00\x00Z"}, "bad_event_time", "attribute event_time"),
        ({"event_time": "2026-01-05T11:00:00Z"}, "attribute_mismatch", "is not submitted_at"),
        ({"event_id": "s-2"}, "attribute_mismatch", "'s-2' is not the payload's 's-1'"),
    ],
)
def test_attributes_must_agree_with_the_payload(attributes, reason, fragment):
    sent = message(survey_payload())
    disagreeing = ReceivedMessage(sent.data, {**sent.attributes, **attributes}, "", None)
    with pytest.raises(InvalidMessage) as raised:
        parse_message(disagreeing, now=NOW)
    assert raised.value.reason == reason and fragment in raised.value.detail


def test_the_same_instant_in_another_offset_agrees():
    sent = message(survey_payload())
    same = ReceivedMessage(
        sent.data, {**sent.attributes, "event_time": "2026-01-05T11:00:00+01:00"}, "", None
    )
    assert parse_message(same, now=NOW).event_id == "s-1"


@pytest.mark.parametrize("field", ["event_id", "interaction_id", "customer_id"])
@pytest.mark.parametrize("control", ["\x00", "\n", "\x1b", "\x85"])
def test_control_characters_in_ids_are_schema_violations(field, control):
    payload = survey_payload(**{field: f"id{control}1"})
    with pytest.raises(InvalidMessage) as raised:
        parse_message(message(payload), now=NOW)
    assert raised.value.reason == "schema_violation"
    assert f"{field}: contains the control character U+{ord(control):04X}" in raised.value.detail


def test_agent_note_v2_may_name_its_customer():
    named = parse_message(
        message(note_payload(customer_id="c-9"), event_type="agent_note", schema_version="2")
    )
    assert named.schema_version == 2 and named.payload["customer_id"] == "c-9"
    unnamed = parse_message(message(note_payload(), event_type="agent_note", schema_version="2"))
    assert "customer_id" not in unnamed.payload


def test_agent_note_v1_refuses_a_customer_id():
    """v1 is closed (additionalProperties false): only v2 carries the customer."""
    with pytest.raises(InvalidMessage) as refused:
        parse_message(message(note_payload(customer_id="c-9"), event_type="agent_note"))
    assert refused.value.reason == "schema_violation"
