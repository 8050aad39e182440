"""Parse and validate raw Pub/Sub messages against the versioned event contracts.

Every message either becomes a :class:`FeedbackEvent` or a :class:`DeadLetter`
that keeps its raw bytes, attributes and a reason a person can act on. Nothing
is dropped and nothing raises out of :class:`ParseEventsFn`: a transform that
fails a bundle on bad input would block the stream on one poison message.

Contracts: attributes ``event_type`` (``survey`` | ``agent_note``),
``schema_version`` and ``event_time``; the payload is UTF-8 JSON valid against
``schemas/<event_type>.v<version>.json``.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

import apache_beam as beam
import fastjsonschema
from apache_beam.metrics import Metrics
from jsonschema import Draft202012Validator, FormatChecker

from transforms.pull_pubsub import AckHandle, ReceivedMessage

EVENT_TYPES = ("survey", "agent_note")
# The payload field that carries each event type's event time.
EVENT_TIME_FIELD = {"survey": "submitted_at", "agent_note": "created_at"}
REQUIRED_ATTRIBUTES = ("event_type", "schema_version", "event_time")
# Set by `voc dlq replay` on a re-published dead letter: the dead_letter_id it replays.
REPLAY_ATTRIBUTE = "voc_replay_of"
# Longest error text kept in a dead letter; the raw bytes are kept whole.
_MAX_ERROR_CHARS = 2000


class InvalidMessage(ValueError):
    """A message that breaks the contract; ``reason`` is a stable code for grouping."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class FeedbackEvent:
    """A message that honours its contract."""

    event_type: str
    schema_version: int
    event_id: str
    interaction_id: str
    event_time: datetime
    payload: dict[str, Any]
    message: ReceivedMessage


@dataclass(frozen=True)
class DeadLetter:
    """A message no step could handle, kept whole so it can be replayed after a fix.

    Restricted: ``data`` is the raw payload and may hold PII; this is the only
    table where raw payloads are kept.
    """

    dead_letter_id: str
    stage: str
    reason: str
    error: str
    exception_type: str
    stack: str
    data: bytes
    attributes: dict[str, str]
    message_id: str
    publish_time: datetime | None
    received_at: datetime
    ack: AckHandle | None


def dead_letter_id(message: ReceivedMessage) -> str:
    """Stable across redeliveries of one published message, so they make one row.

    Pub/Sub's message id is stable under redelivery; without one (files, tests)
    the content hash is. A replayed dead letter is a new Pub/Sub message, so it
    names the row it came from (``voc_replay_of``) and fails into that row again.
    """
    replay_of = message.attributes.get(REPLAY_ATTRIBUTE)
    if replay_of:
        return replay_of
    if message.message_id:
        return f"msg:{message.message_id}"
    digest = hashlib.sha256(message.data)
    for key in sorted(message.attributes):
        digest.update(b"\0" + key.encode() + b"=" + message.attributes[key].encode())
    return f"sha256:{digest.hexdigest()}"


def to_dead_letter(message: ReceivedMessage, stage: str, error: Exception) -> DeadLetter:
    reason = error.reason if isinstance(error, InvalidMessage) else type(error).__name__
    return DeadLetter(
        dead_letter_id=dead_letter_id(message),
        stage=stage,
        reason=reason,
        error=str(error)[:_MAX_ERROR_CHARS],
        exception_type=type(error).__name__,
        stack="" if isinstance(error, InvalidMessage) else _short_stack(error),
        data=message.data,
        attributes=dict(message.attributes),
        message_id=message.message_id,
        publish_time=message.publish_time,
        received_at=datetime.now(UTC),
        ack=message.ack,
    )


def _short_stack(error: Exception) -> str:
    return "".join(traceback.format_exception(error, limit=-8))[-_MAX_ERROR_CHARS:]


@dataclass(frozen=True)
class Contract:
    """One event contract, compiled twice on purpose.

    ``check`` is fastjsonschema's generated code (~2 us an event, 25x faster than
    jsonschema): every event pays it. ``explain`` is jsonschema, which names every
    problem with its path; only rejected events pay for it.
    """

    check: Any
    explain: Draft202012Validator


@cache
def contract_for(event_type: str, schema_version: int) -> Contract:
    """The compiled contract; cached because compiling is slow."""
    name = f"{event_type}.v{schema_version}.json"
    schema_file = resources.files("schemas") / name
    if not schema_file.is_file():
        raise InvalidMessage(
            "unknown_schema_version",
            f"no contract {name} for event_type={event_type!r} schema_version={schema_version}",
        )
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    # Formats are not checked by either: event times are parsed (and rejected with
    # their own reason) below, which is stricter than a format regex.
    return Contract(
        check=fastjsonschema.compile(schema, use_formats=False),
        explain=Draft202012Validator(schema, format_checker=FormatChecker()),
    )


def _schema_problem(contract: Contract, payload: dict, event_type: str, version: int) -> str | None:
    try:
        contract.check(payload)
        return None
    except fastjsonschema.JsonSchemaValueException as fast_error:
        errors = sorted(contract.explain.iter_errors(payload), key=lambda e: list(e.absolute_path))
        if not errors:  # the two disagree only on formats; fall back to the fast message
            return f"{event_type} v{version}: {fast_error.message[:300]}"
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(payload)"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"{event_type} v{version} at {where}: {first.message[:300]}{more}"


def parse_timestamp(value: str) -> datetime:
    """RFC 3339 with an offset (``Z`` accepted); naive times are ambiguous, so rejected."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return parsed.astimezone(UTC)


def parse_message(message: ReceivedMessage) -> FeedbackEvent:
    """Validate one message; raises InvalidMessage naming the first problem found."""
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
    try:
        schema_version = int(attributes["schema_version"])
    except ValueError:
        raise InvalidMessage(
            "unknown_schema_version",
            f"schema_version={attributes['schema_version'][:64]!r} is not a whole number",
        ) from None
    contract = contract_for(event_type, schema_version)

    try:
        text = message.data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidMessage(
            "invalid_utf8", f"payload is not UTF-8 ({error.reason} at byte {error.start})"
        ) from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidMessage("invalid_json", f"payload is not JSON: {error}") from None
    except RecursionError:
        raise InvalidMessage("invalid_json", "payload nests too deeply") from None
    if not isinstance(payload, dict):
        raise InvalidMessage(
            "schema_violation", f"payload is a JSON {type(payload).__name__}, not an object"
        )

    problem = _schema_problem(contract, payload, event_type, schema_version)
    if problem is not None:
        raise InvalidMessage("schema_violation", problem)

    time_field = EVENT_TIME_FIELD[event_type]
    try:
        event_time = parse_timestamp(payload[time_field])
    except ValueError as error:
        raise InvalidMessage("bad_event_time", f"{time_field}: {error}") from None
    return FeedbackEvent(
        event_type=event_type,
        schema_version=schema_version,
        event_id=payload["event_id"],
        interaction_id=payload["interaction_id"],
        event_time=event_time,
        payload=payload,
        message=message,
    )


class ParseEventsFn(beam.DoFn):
    """Main output: FeedbackEvent (timestamped at its event time); DEAD_LETTERS: DeadLetter."""

    DEAD_LETTERS = "dead_letters"

    def __init__(self) -> None:
        self.parsed = Metrics.counter("voc.parse", "parsed")

    def process(self, message: ReceivedMessage):
        try:
            event = parse_message(message)
        except Exception as error:  # every failure is data, never a crash
            dead = to_dead_letter(message, "parse", error)
            Metrics.counter("voc.parse", f"rejected_{dead.reason}").inc()
            yield beam.pvalue.TaggedOutput(self.DEAD_LETTERS, dead)
            return
        self.parsed.inc()
        yield beam.window.TimestampedValue(event, event.event_time.timestamp())


class ParseEvents(beam.PTransform):
    """Returns a DoOutputsTuple with ``events`` and ``dead_letters``."""

    def expand(self, messages):
        outputs = messages | "Parse" >> beam.ParDo(ParseEventsFn()).with_outputs(
            ParseEventsFn.DEAD_LETTERS, main="events"
        )
        return outputs
