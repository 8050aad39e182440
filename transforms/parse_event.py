"""Parse and validate raw Pub/Sub messages against the versioned event contracts.

Every message either becomes a :class:`FeedbackEvent` or a :class:`DeadLetter`
that keeps its raw bytes, attributes and a reason a person can act on. Nothing
is dropped and nothing raises out of :class:`ParseEventsFn`: a transform that
fails a bundle on bad input would block the stream on one poison message.

Contracts: attributes ``event_type`` (``survey`` | ``agent_note``),
``schema_version`` and ``event_time``; the payload is UTF-8 JSON valid against
``schemas/events/<event_type>.v<version>.json``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import apache_beam as beam
import fastjsonschema
from apache_beam.metrics import Metrics

from voc.schemas.contracts import Contract, compile_contract, contract_file_name, contracts_folder
from voc.transforms.records import FeedbackEvent, InvalidMessage, ReceivedMessage, to_dead_letter

EVENT_TYPES = ("survey", "agent_note")
# No valid event comes near this (a comment is at most 20,000 characters), while
# Pub/Sub delivers up to 10 MB: anything above is refused before it is decoded.
DEFAULT_MAX_MESSAGE_BYTES = 2 * 1024 * 1024
PUBSUB_MAX_MESSAGE_BYTES = 10_000_000
# What the dead letter of a too-large message keeps of it, beside its size and hash.
TOO_LARGE_KEPT_BYTES = 64 * 1024
# Identifier fields: keys and join columns, where a control character (a NUL, a
# newline) would make two ids look alike to a person or break a CSV export.
ID_FIELDS = ("event_id", "interaction_id", "customer_id", "agent_id", "team")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class ParseLimits:
    """What a message may be, beyond its contract; options of the job."""

    max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    # Clocks of survey tools and agent desktops drift, and time zones get mislabelled;
    # a day ahead is generous for both.
    future_skew: timedelta = timedelta(days=1)
    # Older than this is a replay of something that should not be replayed, or a
    # broken clock (0001-01-01), not feedback anyone will act on.
    max_age: timedelta = timedelta(days=5 * 365)


# The payload field that carries each event type's event time.
EVENT_TIME_FIELD = {"survey": "submitted_at", "agent_note": "created_at"}
REQUIRED_ATTRIBUTES = ("event_type", "schema_version", "event_time")
# Every reason parse_message rejects a message with. A closed set so dead letters can be
# grouped and alerted on; a dead letter whose reason is not in it (an exception type
# name) is a bug in this module, not a bad message.
REJECTION_REASONS = (
    # Larger than --max-message-bytes: the dead letter keeps a prefix and the hash.
    "too_large",
    "missing_attribute",  # a required attribute is absent or empty
    "unknown_event_type",  # event_type is not one of EVENT_TYPES
    "unknown_schema_version",  # schema_version is not a plain number, or has no contract
    "invalid_utf8",  # the payload bytes are not UTF-8
    # Not strict JSON: bad syntax, a byte order mark, NaN/Infinity, a number out of range,
    # a duplicate key, an unpaired surrogate escape, or nesting too deep to parse.
    "invalid_json",
    "schema_violation",  # JSON, but not an object valid against its contract
    "bad_event_time",  # the event-time field or attribute is not an RFC 3339 date-time
    # Later than now plus ParseLimits.future_skew, or older than ParseLimits.max_age: a
    # year-9999 event would break every "last N days" question owners ask.
    "implausible_event_time",
    # The event_time or event_id attribute says something else than the payload.
    "attribute_mismatch",
)


@cache
def contract_for(event_type: str, schema_version: int) -> Contract:
    """The compiled contract; cached because compiling is slow."""
    name = contract_file_name(event_type, schema_version)
    schema_file = contracts_folder() / name
    if not schema_file.is_file():
        raise InvalidMessage(
            "unknown_schema_version",
            f"no contract {name} for event_type={event_type!r} schema_version={schema_version}",
        )
    return compile_contract(json.loads(schema_file.read_text(encoding="utf-8")))


def _schema_problem(contract: Contract, payload: dict, event_type: str, version: int) -> str | None:
    try:
        contract.check(payload)
        return None
    except fastjsonschema.JsonSchemaValueException as fast_error:
        fast_message = f"{event_type} v{version}: {fast_error.message[:300]}"
        try:
            errors = sorted(
                contract.explain.iter_errors(payload),
                key=lambda e: [str(p) for p in e.absolute_path],
            )
        except RecursionError:
            # jsonschema's messages repr the offending value; a value nested nearly as
            # deep as the JSON parser allows overflows that repr. The fast message
            # names the field too, just less precisely.
            return fast_message
        if not errors:  # the two disagree only on formats; fall back to the fast message
            return fast_message
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(payload)"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"{event_type} v{version} at {where}: {first.message[:300]}{more}"


# RFC 3339 date-time (section 5.6), offset required. "T", "Z" may be lower case and "T"
# a space, as the RFC allows.
# Fractions are cut at nanoseconds, which also bounds what a message can quote.
_RFC3339_LOCAL = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
_RFC3339 = re.compile(_RFC3339_LOCAL + r"(?:[Zz]|[+\-][0-9]{2}:[0-9]{2})")
_NAIVE_RFC3339 = re.compile(_RFC3339_LOCAL)


def parse_timestamp(value: str) -> datetime:
    """RFC 3339 with an offset (``Z`` accepted); naive times are ambiguous, so rejected.

    The shape is checked first because ``datetime.fromisoformat`` takes far more than
    RFC 3339 (week dates, the basic format, hour-only offsets, even a trailing NUL), and
    anything it takes would be stored as an event time that other readers of the raw
    payload would parse differently or not at all. The value is untrusted and unbounded
    (the contract has no maxLength for it), so messages quote only its start.
    """
    if not _RFC3339.fullmatch(value):
        if _NAIVE_RFC3339.fullmatch(value):
            raise ValueError(f"{value!r} has no UTC offset")
        raise ValueError(f"{value[:64]!r} is not an RFC 3339 date-time with a UTC offset")
    parsed = datetime.fromisoformat(value.upper())
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before datetime.min in UTC
        raise ValueError(f"{value!r} is out of range once converted to UTC") from None


# A schema_version attribute is a plain decimal number. int() alone would also take
# " 1", "01", "+1", "1_0" or non-ASCII digits, and hundreds of digits would reach the
# filesystem as a file name too long to look up.
SCHEMA_VERSION = re.compile(r"0|[1-9][0-9]{0,8}")
# An escaped UTF-16 surrogate in a JSON string; only then can a decoded string hold a
# lone surrogate, which cannot be encoded as UTF-8 and would fail the sink's batch.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _NotStrictJson(ValueError):
    """JSON that Python's parser accepts but other readers of the same bytes would not.

    The raw payload is kept next to the parsed event (and replayed from dead letters),
    so it must mean the same thing to every reader: RFC 8259 leaves duplicate keys and
    lone surrogates to the implementation, and NaN/Infinity are not JSON at all.
    """


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _NotStrictJson(f"payload has the key {key[:64]!r} more than once")
            seen.add(key)
    return obj


def _reject_constant(name: str) -> float:
    raise _NotStrictJson(f"payload is not JSON: {name} is not a JSON number")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise _NotStrictJson(f"payload has the number {literal[:32]} out of range")
    return number


# One decoder for every message: building one per call would double the cost of parsing.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_without_duplicates,
    parse_constant=_reject_constant,
    parse_float=_finite_float,
)


def _decode_json(text: str) -> Any:
    """The payload as strict JSON, or InvalidMessage("invalid_json", ...) saying why not."""
    if text.startswith("\ufeff"):
        raise InvalidMessage("invalid_json", "payload starts with a byte order mark (U+FEFF)")
    try:
        return _DECODER.decode(text)
    except _NotStrictJson as error:
        raise InvalidMessage("invalid_json", str(error)) from None
    except RecursionError:
        raise InvalidMessage("invalid_json", "payload nests too deeply") from None
    except ValueError as error:
        # JSONDecodeError, or an integer literal past Python's digit limit, which the json
        # module lets through unwrapped; its advice to call sys.set_int_max_str_digits()
        # (after the ";") is for programmers, not for whoever reads the dead letter.
        first_line = (str(error).splitlines() or [type(error).__name__])[0].split(";")[0]
        raise InvalidMessage("invalid_json", f"payload is not JSON: {first_line[:300]}") from None


def _unpaired_surrogate_field(payload: dict[str, Any]) -> str | None:
    for key, value in payload.items():
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return key
    return None


def parse_message(
    message: ReceivedMessage,
    limits: ParseLimits = ParseLimits(),
    now: datetime | None = None,
) -> FeedbackEvent:
    """Validate one message; raises InvalidMessage naming the first problem found."""
    max_bytes = limits.max_bytes
    if len(message.data) > max_bytes:
        raise InvalidMessage(
            "too_large",
            f"payload is {len(message.data):,} bytes, over the {max_bytes:,}-byte limit "
            f"(sha256 {hashlib.sha256(message.data).hexdigest()}; the dead letter keeps the "
            f"first {TOO_LARGE_KEPT_BYTES:,} bytes)",
            kept_bytes=TOO_LARGE_KEPT_BYTES,
        )
    attributes = message.attributes
    missing = [name for name in REQUIRED_ATTRIBUTES if not attributes.get(name)]
    if missing:
        raise InvalidMessage("missing_attribute", f"attribute(s) {', '.join(missing)} missing")
    event_type = attributes["event_type"]
    if event_type not in EVENT_TYPES:
        raise InvalidMessage(
            "unknown_event_type",
            f"event_type={event_type[:64]!r}; expected one of {', '.join(EVENT_TYPES)}",
        )
    if not SCHEMA_VERSION.fullmatch(attributes["schema_version"]):
        raise InvalidMessage(
            "unknown_schema_version",
            f"schema_version={attributes['schema_version'][:64]!r} is not a plain version number",
        )
    schema_version = int(attributes["schema_version"])
    contract = contract_for(event_type, schema_version)

    try:
        text = message.data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidMessage(
            "invalid_utf8", f"payload is not UTF-8 ({error.reason} at byte {error.start})"
        ) from None
    payload = _decode_json(text)
    if not isinstance(payload, dict):
        raise InvalidMessage(
            "schema_violation", f"payload is a JSON {type(payload).__name__}, not an object"
        )

    problem = _schema_problem(contract, payload, event_type, schema_version)
    if problem is not None:
        raise InvalidMessage("schema_violation", problem)
    if _SURROGATE_ESCAPE.search(text):
        field = _unpaired_surrogate_field(payload)
        if field is not None:
            raise InvalidMessage(
                "invalid_json", f"{field}: string has an unpaired UTF-16 surrogate escape"
            )

    _check_ids(payload)
    time_field = EVENT_TIME_FIELD[event_type]
    try:
        event_time = parse_timestamp(payload[time_field])
    except ValueError as error:
        raise InvalidMessage("bad_event_time", f"{time_field}: {error}") from None
    _check_attributes_agree(attributes, payload, time_field, event_time)
    _check_plausible(event_time, time_field, limits, now or datetime.now(UTC))
    return FeedbackEvent(
        event_type=event_type,
        schema_version=schema_version,
        event_id=payload["event_id"],
        interaction_id=payload["interaction_id"],
        event_time=event_time,
        payload=payload,
        message=message,
    )


def _check_ids(payload: dict[str, Any]) -> None:
    for field in ID_FIELDS:
        value = payload.get(field)
        if isinstance(value, str):
            found = _CONTROL_CHARACTER.search(value)
            if found:
                raise InvalidMessage(
                    "schema_violation",
                    f"{field}: contains the control character U+{ord(found[0]):04X}",
                )


def _check_attributes_agree(
    attributes: dict[str, str], payload: dict[str, Any], time_field: str, event_time: datetime
) -> None:
    """The attributes are what routing and deduplication see (Dataflow's id_label, a
    topic's filters); the payload is what is stored. If they disagree, one of them is
    wrong and storing the payload would hide that."""
    try:
        attribute_time = parse_timestamp(attributes["event_time"])
    except ValueError as error:
        raise InvalidMessage("bad_event_time", f"attribute event_time: {error}") from None
    if attribute_time != event_time:
        raise InvalidMessage(
            "attribute_mismatch",
            f"attribute event_time {attributes['event_time'][:40]!r} is not {time_field} "
            f"{payload[time_field][:40]!r}",
        )
    attribute_id = attributes.get("event_id")
    if attribute_id is not None and attribute_id != payload["event_id"]:
        raise InvalidMessage(
            "attribute_mismatch",
            f"attribute event_id {attribute_id[:64]!r} is not the payload's "
            f"{payload['event_id'][:64]!r}",
        )


def _check_plausible(
    event_time: datetime, time_field: str, limits: ParseLimits, now: datetime
) -> None:
    # Differences, not now +/- a limit: a limit as wide as timedelta.max must not overflow.
    if event_time - now > limits.future_skew:
        raise InvalidMessage(
            "implausible_event_time",
            f"{time_field} {event_time.isoformat()} is more than {limits.future_skew} ahead "
            f"of now ({now.isoformat(timespec='seconds')})",
        )
    if now - event_time > limits.max_age:
        raise InvalidMessage(
            "implausible_event_time",
            f"{time_field} {event_time.isoformat()} is older than {limits.max_age.days:,} days",
        )


class ParseEventsFn(beam.DoFn):
    """Main output: FeedbackEvent (timestamped at its event time); DEAD_LETTERS: DeadLetter."""

    DEAD_LETTERS = "dead_letters"

    def __init__(self, limits: ParseLimits = ParseLimits()) -> None:
        self.limits = limits
        self.parsed = Metrics.counter("voc.parse", "parsed")

    def process(self, message: ReceivedMessage):
        try:
            event = parse_message(message, self.limits)
        except Exception as error:  # every failure is data, never a crash
            dead = to_dead_letter(message, "parse", error)
            Metrics.counter("voc.parse", f"rejected_{dead.reason}").inc()
            yield beam.pvalue.TaggedOutput(self.DEAD_LETTERS, dead)
            return
        self.parsed.inc()
        yield beam.window.TimestampedValue(event, event.event_time.timestamp())


class ParseEvents(beam.PTransform):
    """Returns a DoOutputsTuple with ``events`` and ``dead_letters``."""

    def __init__(self, limits: ParseLimits = ParseLimits()) -> None:
        super().__init__()
        self.limits = limits

    def expand(self, messages):
        parse = ParseEventsFn(self.limits)
        outputs = messages | "Parse" >> beam.ParDo(parse).with_outputs(
            ParseEventsFn.DEAD_LETTERS, main="events"
        )
        return outputs
