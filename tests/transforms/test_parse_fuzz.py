"""Property-based tests: no input gets out of parsing except as a named, bounded rejection.

A message the parser cannot handle must become a dead letter whose reason is one of
REJECTION_REASONS and whose detail is one readable line naming the problem; any other
exception (or any exception from tagging a message that parsed) would be a dead letter
named after a Python exception type, which nobody can act on. These properties feed
parse_message, ParseEventsFn.process and tag_event with the inputs streams really
produce: arbitrary bytes, truncated and mutated real payloads, wrong types, huge and
deeply nested values, non-strict JSON and garbled attributes.

Settings are derandomized and bounded so that the file takes a few seconds in
``make test``; tests/fuzz/fuzz_parser.py runs the same ideas for as long as wanted.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any

import apache_beam as beam
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.fuzz import fuzz_parser
from voc.pipelines.dev.generate import generate_events
from voc.schemas.contracts import contract_file_name, contracts_folder
from voc.schemas.schema_fragments import json_type
from voc.transforms.parse_event import (
    DEFAULT_MAX_MESSAGE_BYTES,
    EVENT_TIME_FIELD,
    EVENT_TYPES,
    REJECTION_REASONS,
    REQUIRED_ATTRIBUTES,
    SCHEMA_VERSION,
    TOO_LARGE_KEPT_BYTES,
    ParseEventsFn,
    ParseLimits,
    parse_message,
)
from voc.transforms.records import (
    MAX_ERROR_CHARS,
    DeadLetter,
    FeedbackEvent,
    InvalidMessage,
    ReceivedMessage,
    TaggedEvent,
    to_dead_letter,
)
from voc.transforms.tag_feedback import TEXT_FIELD, shared_taxonomy, tag_event

# Derandomized so CI runs the same examples every time; no deadline because a
# 10 MB value or a cold VADER load can take longer than Hypothesis's default.
FUZZ = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEWER = settings(FUZZ, max_examples=100)


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


@cache
def real_messages() -> tuple[ReceivedMessage, ...]:
    """Valid surveys and agent notes as the generator publishes them."""
    generated, _ = generate_events(300, seed=11, malformed_rate=0.0, duplicate_rate=0.0)
    return tuple(ReceivedMessage(m.data, dict(m.attributes), "", None, None) for m in generated)


@cache
def huge_text() -> str:
    """One 10 MB string shared by every test that needs it: building it is the slow part."""
    huge = fuzz_parser.HUGE_CHARS
    return ("call 020 7946 0958 about order 12345; " * (huge // 37 + 1))[:huge]


@cache
def contract(event_type: str) -> dict[str, Any]:
    text = (contracts_folder() / contract_file_name(event_type, 1)).read_text(encoding="utf-8")
    return json.loads(text)


def contract_exists(event_type: str, version: str) -> bool:
    """Whether the parser would find a contract: a plain number naming an existing file."""
    if not SCHEMA_VERSION.fullmatch(version):
        return False
    return (contracts_folder() / contract_file_name(event_type, int(version))).is_file()


def with_data(message: ReceivedMessage, data: bytes) -> ReceivedMessage:
    return ReceivedMessage(data, dict(message.attributes), "", None, None)


def with_payload(message: ReceivedMessage, payload: dict[str, Any]) -> ReceivedMessage:
    """The message with another payload; its event_time attribute follows the payload's
    time field, as a publisher sets it, so a test of one field is not a mismatch."""
    changed = with_data(message, json.dumps(payload).encode())
    time_field = EVENT_TIME_FIELD.get(changed.attributes.get("event_type", ""))
    if isinstance(payload.get(time_field), str) and payload[time_field]:
        changed.attributes["event_time"] = payload[time_field]
    return changed


def with_raw_field(message: ReceivedMessage, field: str, raw_json: str) -> ReceivedMessage:
    """The message with ``field`` set to a JSON text json.dumps could not write."""
    return with_data(message, fuzz_parser.set_raw_field(json.loads(message.data), field, raw_json))


def event_type_of(message: ReceivedMessage) -> str:
    return message.attributes["event_type"]


real = st.deferred(lambda: st.sampled_from(real_messages()))
valid_attributes = st.deferred(lambda: st.sampled_from([m.attributes for m in real_messages()]))

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


# ---------------------------------------------------------------------------
# The contract every outcome must keep
# ---------------------------------------------------------------------------


def assert_well_formed(error: InvalidMessage) -> None:
    """A known reason and one bounded, storable line of detail (the fuzz run's rule)."""
    problem = fuzz_parser.contract_problem(error)
    assert problem is None, f"{problem}: {error!r}"
    assert str(error).startswith(f"{error.reason}: ")


DEFAULTS = ParseLimits()


def outcome(
    message: ReceivedMessage, limits: ParseLimits = DEFAULTS
) -> FeedbackEvent | InvalidMessage:
    """What parsing makes of ``message``, checked on every path it can take.

    Anything other than InvalidMessage raised by parse_message fails the test by
    propagating. The DoFn must agree (one dead letter with the same reason, or one
    timestamped event), and an event that parsed must tag without raising.
    """
    try:
        event = parse_message(message, limits)
    except InvalidMessage as error:
        assert_well_formed(error)
        [output] = list(ParseEventsFn(limits).process(message))
        assert isinstance(output, beam.pvalue.TaggedOutput)
        assert output.tag == ParseEventsFn.DEAD_LETTERS
        dead = output.value
        assert isinstance(dead, DeadLetter)
        # Raw bytes are kept whole, except the bounded prefix of a too-large message.
        kept = message.data if error.kept_bytes is None else message.data[: error.kept_bytes]
        assert (dead.reason, dead.stage, dead.data) == (error.reason, "parse", kept)
        assert len(dead.error) <= MAX_ERROR_CHARS
        return error
    [output] = list(ParseEventsFn(limits).process(message))
    assert isinstance(output, beam.window.TimestampedValue)
    assert output.value.event_id == event.event_id
    assert event.event_time.tzinfo is not None
    tagged = tag_event(event, shared_taxonomy(None))
    assert isinstance(tagged, TaggedEvent)
    return event


def rejected(message: ReceivedMessage, limits: ParseLimits = DEFAULTS) -> InvalidMessage:
    result = outcome(message, limits)
    assert isinstance(result, InvalidMessage), f"parsed: {message.data[:200]!r}"
    return result


# ---------------------------------------------------------------------------
# Whatever comes in
# ---------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=2000), valid_attributes)
def test_arbitrary_bytes_are_contained(data: bytes, attributes: dict[str, str]) -> None:
    outcome(ReceivedMessage(data, dict(attributes), "", None, None))


@FUZZ
@given(
    real,
    st.dictionaries(
        st.one_of(st.sampled_from(REQUIRED_ATTRIBUTES), st.text(max_size=10)),
        st.one_of(st.sampled_from(["survey", "agent_note", "1", "2", ""]), st.text(max_size=30)),
        max_size=5,
    ),
    st.sampled_from(["", "m-1"]),
)
def test_arbitrary_attributes_are_contained(
    message: ReceivedMessage, attributes: dict[str, str], message_id: str
) -> None:
    outcome(ReceivedMessage(message.data, attributes, message_id, None, None))


@FUZZ
@given(real, st.lists(st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=8))))
def test_real_payloads_with_bytes_overwritten_are_contained(
    message: ReceivedMessage, patches: list[tuple[int, bytes]]
) -> None:
    data = bytearray(message.data)
    for position, junk in patches:
        at = position % (len(data) + 1)
        data[at : at + len(junk)] = junk
    outcome(with_data(message, bytes(data)))


@FUZZ
@given(real, json_values.map(lambda v: json.dumps(v, allow_nan=True)))
def test_arbitrary_json_documents_are_contained(message: ReceivedMessage, document: str) -> None:
    result = outcome(with_data(message, document.encode()))
    if not document.startswith("{"):
        assert isinstance(result, InvalidMessage)
        assert result.reason in ("schema_violation", "invalid_json")


# ---------------------------------------------------------------------------
# Known damage, known reason
# ---------------------------------------------------------------------------


@FUZZ
@given(real, st.data())
def test_truncated_payloads_are_invalid_json_or_utf8(
    message: ReceivedMessage, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(message.data) - 1))
    prefix = message.data[:cut]
    error = rejected(with_data(message, prefix))
    try:
        prefix.decode("utf-8")
    except UnicodeDecodeError:  # the cut split a multi-byte character
        assert error.reason == "invalid_utf8"
    else:
        assert error.reason == "invalid_json"


INVALID_UTF8 = [b"\xff", b"\xfe", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\x80"]


@FUZZ
@given(real, st.sampled_from(INVALID_UTF8), st.data())
def test_invalid_utf8_is_reported_at_its_byte(
    message: ReceivedMessage, junk: bytes, data: st.DataObject
) -> None:
    boundaries = [i for i, byte in enumerate(message.data) if byte & 0xC0 != 0x80]
    at = data.draw(st.sampled_from(boundaries))
    error = rejected(with_data(message, message.data[:at] + junk + message.data[at:]))
    assert error.reason == "invalid_utf8"
    assert f"at byte {at}" in error.detail


@FUZZ
@given(real, json_values, st.data())
def test_a_wrong_type_is_a_schema_violation_naming_the_field(
    message: ReceivedMessage, value: Any, data: st.DataObject
) -> None:
    properties = contract(event_type_of(message))["properties"]
    field = data.draw(st.sampled_from(sorted(properties)))
    rule = properties[field]
    if "enum" in rule:
        assume(value not in rule["enum"])
    else:
        allowed = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
        assume(json_type(value) not in allowed)
    payload = json.loads(message.data)
    payload[field] = value

    error = rejected(with_payload(message, payload))

    assert error.reason == "schema_violation"
    assert field in error.detail


@FUZZ
@given(real, st.data())
def test_a_missing_required_field_is_named(message: ReceivedMessage, data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(contract(event_type_of(message))["required"]))
    payload = json.loads(message.data)
    del payload[field]
    error = rejected(with_payload(message, payload))
    assert (error.reason, f"'{field}'" in error.detail) == ("schema_violation", True)


@FUZZ
@given(real, st.text(min_size=1, max_size=20), json_values)
def test_an_unknown_field_is_named(message: ReceivedMessage, key: str, value: Any) -> None:
    assume(key not in contract(event_type_of(message))["properties"])
    payload = json.loads(message.data)
    payload[key] = value
    error = rejected(with_payload(message, payload))
    assert error.reason == "schema_violation"
    assert repr(key) in error.detail


NUMBER_FIELDS = {"survey": ["csat", "nps", "ces"], "agent_note": ["hold_seconds", "transfers"]}
STRING_FIELDS = {
    "survey": ["event_id", "interaction_id", "customer_id", "comment"],
    "agent_note": ["event_id", "interaction_id", "agent_id", "team", "note"],
}


@FUZZ
@given(real, st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999"]), st.data())
def test_numbers_that_are_not_json_numbers_are_invalid_json(
    message: ReceivedMessage, literal: str, data: st.DataObject
) -> None:
    field = data.draw(st.sampled_from(NUMBER_FIELDS[event_type_of(message)]))
    error = rejected(with_raw_field(message, field, literal))
    assert error.reason == "invalid_json"
    assert literal in error.detail


@FUZZ
@given(real, st.integers(4301, 6000))
def test_integers_too_long_to_convert_are_invalid_json(
    message: ReceivedMessage, digits: int
) -> None:
    field = NUMBER_FIELDS[event_type_of(message)][0]
    error = rejected(with_raw_field(message, field, "9" * digits))
    assert error.reason == "invalid_json"
    assert "digits" in error.detail


@FUZZ
@given(real, st.data())
def test_a_duplicate_key_is_invalid_json_naming_the_key(
    message: ReceivedMessage, data: st.DataObject
) -> None:
    payload = json.loads(message.data)
    key = data.draw(st.sampled_from(sorted(payload)))
    again = data.draw(st.one_of(st.just(payload[key]), json_scalars))
    document = json.dumps(payload)[:-1] + f", {json.dumps(key)}: {json.dumps(again)}}}"
    error = rejected(with_data(message, document.encode()))
    assert error.reason == "invalid_json"
    assert repr(key) in error.detail


@FUZZ
@given(real, st.integers(0xD800, 0xDFFF), st.data())
def test_an_unpaired_surrogate_is_invalid_json_naming_the_field(
    message: ReceivedMessage, surrogate: int, data: st.DataObject
) -> None:
    event_type = event_type_of(message)
    field = data.draw(st.sampled_from([*STRING_FIELDS[event_type], EVENT_TIME_FIELD[event_type]]))
    text = json.dumps(json.loads(message.data)[field])
    at = data.draw(st.integers(1, len(text) - 1))
    assume(text[at - 1] != "\\")  # not inside an existing escape
    escaped = text[:at] + f"\\u{surrogate:04x}" + text[at:]
    error = rejected(with_raw_field(message, field, escaped))
    assert error.reason == "invalid_json"
    assert field in error.detail


def test_a_paired_surrogate_escape_is_fine() -> None:
    message = next(m for m in real_messages() if event_type_of(m) == "survey")
    event = outcome(with_raw_field(message, "comment", '"great \\ud83d\\ude00"'))
    assert isinstance(event, FeedbackEvent)
    assert event.payload["comment"] == "great \U0001f600"


def test_a_byte_order_mark_is_invalid_json() -> None:
    message = real_messages()[0]
    error = rejected(with_data(message, b"\xef\xbb\xbf" + message.data))
    assert (error.reason, "byte order mark" in error.detail) == ("invalid_json", True)


@FEWER
@given(real, st.integers(1, 5000), st.sampled_from(["[", '{"a":']), st.booleans(), st.data())
def test_deep_nesting_is_contained(
    message: ReceivedMessage, depth: int, opener: str, in_field: bool, data: st.DataObject
) -> None:
    closer = "]" if opener == "[" else "}"
    nested = opener * depth + ("" if opener == "[" else "1") + closer * depth
    if in_field:
        field = data.draw(st.sampled_from(sorted(json.loads(message.data))))
        error = rejected(with_raw_field(message, field, nested))
    else:
        error = rejected(with_data(message, nested.encode()))
    assert error.reason in ("schema_violation", "invalid_json")
    if error.reason == "invalid_json":
        assert error.detail == "payload nests too deeply"


@pytest.mark.parametrize("depth", range(900, 1000, 3))
def test_objects_nested_just_below_the_parser_limit_are_contained(depth: int) -> None:
    # Deep enough to parse but too deep for jsonschema to repr in its message: this
    # used to escape as a RecursionError.
    message = next(m for m in real_messages() if event_type_of(m) == "survey")
    rejected(with_raw_field(message, "customer_id", '{"a":' * depth + "1" + "}" * depth))


# ---------------------------------------------------------------------------
# Attributes
# ---------------------------------------------------------------------------


@FUZZ
@given(real, st.sets(st.sampled_from(REQUIRED_ATTRIBUTES), min_size=1), st.booleans())
def test_missing_attributes_are_all_named(
    message: ReceivedMessage, missing: set[str], as_empty: bool
) -> None:
    attributes = dict(message.attributes)
    for name in missing:
        if as_empty:
            attributes[name] = ""
        else:
            del attributes[name]
    error = rejected(ReceivedMessage(message.data, attributes, "", None, None))
    assert error.reason == "missing_attribute"
    assert all(name in error.detail for name in missing)


@FUZZ
@given(real, st.text(min_size=1, max_size=80))
def test_an_unknown_event_type_is_named(message: ReceivedMessage, event_type: str) -> None:
    assume(event_type not in EVENT_TYPES)
    attributes = {**message.attributes, "event_type": event_type}
    error = rejected(ReceivedMessage(message.data, attributes, "", None, None))
    assert error.reason == "unknown_event_type"
    assert repr(event_type[:64]) in error.detail


@FUZZ
@given(
    real,
    st.one_of(
        st.text(min_size=1, max_size=80),
        st.integers(-(10**400), 10**400).map(str),
        st.sampled_from(["01", " 1", "1 ", "+1", "1_0", "1.0", "\uff11", "\u0661", "0", "99"]),
    ),
)
def test_a_garbled_schema_version_is_unknown(message: ReceivedMessage, version: str) -> None:
    assume(not contract_exists(event_type_of(message), version))
    attributes = {**message.attributes, "schema_version": version}
    error = rejected(ReceivedMessage(message.data, attributes, "", None, None))
    assert error.reason == "unknown_schema_version"
    assert version[:20] in error.detail or repr(version[:64])[1:-1][:20] in error.detail


# ---------------------------------------------------------------------------
# Event times
# ---------------------------------------------------------------------------

instants = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1))
offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


def rfc3339(moment: datetime, separator: str, zulu: str, fraction: str) -> str:
    text = moment.strftime(f"%Y-%m-%d{separator}%H:%M:%S") + fraction
    offset = moment.utcoffset()
    if offset == timedelta(0) and zulu:
        return text + zulu
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# Any instant from year 1 to 9999 is a valid RFC 3339 time; plausibility is another check.
ANY_TIME = ParseLimits(future_skew=timedelta.max, max_age=timedelta.max)


@FUZZ
@given(
    real,
    instants,
    offsets | st.just(UTC),
    st.sampled_from(["T", "t", " "]),
    st.sampled_from(["Z", "z", ""]),
    st.sampled_from(["", ".5", ".123", ".123456", ".123456789"]),
)
def test_rfc3339_event_times_are_read_as_utc(
    message: ReceivedMessage,
    moment: datetime,
    zone: timezone,
    separator: str,
    zulu: str,
    fraction: str,
) -> None:
    local = moment.replace(tzinfo=zone, microsecond=0)
    written = rfc3339(local, separator, zulu, fraction)
    payload = json.loads(message.data)
    payload[EVENT_TIME_FIELD[event_type_of(message)]] = written

    event = outcome(with_payload(message, payload), ANY_TIME)

    assert isinstance(event, FeedbackEvent), written
    micros = int((fraction[1:] + "000000")[:6]) if fraction else 0
    assert event.event_time == local.astimezone(UTC) + timedelta(microseconds=micros)
    assert event.event_time.tzinfo == UTC


NOT_RFC3339 = [
    "2026-01-05T10:00:00",  # no offset: ambiguous
    "2026-01-05",
    "2026-W02-1T10:00:00Z",  # ISO week date
    "20260105T100000Z",  # ISO basic format
    "2026-01-05T10:00+02",  # hour-only offset, no seconds
    "2026-01-05T10:00:00Z\x00",
    "2026-01-05T10:00:00.1234567890Z",  # beyond nanoseconds
    "\u0662\u0660\u0662\u0666-01-05T10:00:00Z",  # non-ASCII digits
    "2026-02-30T10:00:00Z",
    "2026-01-05T24:00:00Z",
    "2026-01-05T10:00:60Z",
    "2026-01-05T10:00:00+24:00",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",  # before datetime.min once in UTC
    "9999-12-31T23:59:59-01:00",  # after datetime.max once in UTC
    "yesterday",
    "",
    " 2026-01-05T10:00:00Z",
]


@pytest.mark.parametrize("value", NOT_RFC3339)
@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_event_times_outside_rfc3339_are_bad_event_times(event_type: str, value: str) -> None:
    message = next(m for m in real_messages() if event_type_of(m) == event_type)
    payload = json.loads(message.data)
    field = EVENT_TIME_FIELD[event_type]
    payload[field] = value
    error = rejected(with_payload(message, payload))
    assert error.reason == "bad_event_time"
    assert error.detail.startswith(f"{field}: ")


@FUZZ
@given(real, st.text(max_size=40))
def test_any_event_time_text_is_parsed_or_a_bad_event_time(
    message: ReceivedMessage, value: str
) -> None:
    payload = json.loads(message.data)
    payload[EVENT_TIME_FIELD[event_type_of(message)]] = value
    result = outcome(with_payload(message, payload))
    if isinstance(result, InvalidMessage):
        assert result.reason == "bad_event_time"


# ---------------------------------------------------------------------------
# Huge values
# ---------------------------------------------------------------------------

# A deployment may raise --max-message-bytes to Pub/Sub's own 10 MB limit; the deeper
# checks must then still reject huge fields quickly and with a short detail.
RAISED_LIMIT = ParseLimits(max_bytes=16 * 1024 * 1024)

HUGE_CASES = [
    (event_type, field)
    for event_type in EVENT_TYPES
    for field in [*STRING_FIELDS[event_type], EVENT_TIME_FIELD[event_type], "channel"]
]


@pytest.mark.parametrize(("event_type", "field"), HUGE_CASES)
def test_a_10mb_field_is_rejected_with_a_short_detail(event_type: str, field: str) -> None:
    message = next(m for m in real_messages() if event_type_of(m) == event_type)
    payload = json.loads(message.data)
    payload[field] = huge_text()
    error = rejected(with_payload(message, payload), RAISED_LIMIT)
    expected = "bad_event_time" if field == EVENT_TIME_FIELD[event_type] else "schema_violation"
    assert error.reason == expected
    assert field in error.detail


@pytest.mark.parametrize("attribute", ["event_type", "schema_version"])
def test_a_10mb_attribute_is_rejected_with_a_short_detail(attribute: str) -> None:
    message = real_messages()[0]
    attributes = {**message.attributes, attribute: huge_text()}
    error = rejected(ReceivedMessage(message.data, attributes, "", None, None))
    assert error.reason == f"unknown_{attribute}"


def test_a_10mb_payload_of_garbage_is_rejected() -> None:
    message = real_messages()[0]
    assert rejected(with_data(message, huge_text().encode()), RAISED_LIMIT).reason == (
        "invalid_json"
    )
    as_list = json.dumps([huge_text()]).encode()
    assert rejected(with_data(message, as_list), RAISED_LIMIT).reason == "schema_violation"


def test_a_message_over_the_size_limit_is_too_large_and_keeps_only_a_prefix() -> None:
    message = with_data(real_messages()[0], huge_text().encode())
    error = rejected(message)
    assert error.reason == "too_large"
    assert f"{len(message.data):,} bytes" in error.detail
    assert hashlib.sha256(message.data).hexdigest() in error.detail
    dead = to_dead_letter(message, "parse", error)
    assert dead.data == message.data[:TOO_LARGE_KEPT_BYTES]
    # At the limit exactly, the message is parsed (here: rejected for its content).
    assert rejected(with_data(message, b"x" * DEFAULT_MAX_MESSAGE_BYTES)).reason == "invalid_json"


# ---------------------------------------------------------------------------
# Tagging whatever text parses
# ---------------------------------------------------------------------------

texty = st.one_of(
    st.text(max_size=300),
    st.text(alphabet="0123456789 -.+()@_abcxyzGBDE/:,$\n", max_size=300),
)


@FEWER
@given(real, texty)
def test_any_free_text_that_parses_is_tagged(message: ReceivedMessage, text: str) -> None:
    payload = json.loads(message.data)
    payload[TEXT_FIELD[event_type_of(message)]] = text
    event = outcome(with_payload(message, payload))
    assert isinstance(event, FeedbackEvent)


@pytest.mark.parametrize("unit", ["7 ", "4111 ", "(12) ", "a@", "GB82 ", "call 2019 ", "refund "])
def test_free_text_of_maximum_length_is_tagged(unit: str) -> None:
    message = next(m for m in real_messages() if event_type_of(m) == "agent_note")
    payload = json.loads(message.data)
    payload["note"] = (unit * (20_000 // len(unit) + 1))[:20_000]
    assert isinstance(outcome(with_payload(message, payload)), FeedbackEvent)


def test_real_messages_all_parse_and_tag() -> None:
    for message in real_messages():
        assert isinstance(outcome(message), FeedbackEvent)


# ---------------------------------------------------------------------------
# The long runner
# ---------------------------------------------------------------------------


def test_fuzz_runner_finds_no_crash_in_2000_examples(tmp_path, capsys) -> None:
    summary_path = tmp_path / "fuzz.json"

    code = fuzz_parser.main(["--examples", "2000", "--seed", "3", "--json", str(summary_path)])

    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    assert code == 0, capsys.readouterr().out
    assert (summary["crashes"], summary["contract_violations"]) == (0, 0)
    assert summary["examples"] == sum(summary["outcomes"].values()) == 2000
    assert set(summary["outcomes"]) <= {"parsed", *REJECTION_REASONS}
    assert summary["outcomes"]["parsed"] > 0 and len(summary["outcomes"]) > 4
    assert math.isfinite(summary["slowest_ms"])
    assert re.search(r"crashes: 0\b", capsys.readouterr().out)
