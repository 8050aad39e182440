"""The tables the sink writes, one entry each: name, Arrow schema, key, rows, write rule.

The store and the sink only read this registry, so a new table is one entry
here plus one migration in ``sql/migrations/`` (which creates it); nothing in
the store changes. Column names match the migrations; inserts go BY NAME, so
the order of the columns here does not matter.

Write rules keep the tables exactly-once under at-least-once delivery:

- fact tables are keyed on ``event_id`` and insert only rows whose key is new,
  so a redelivered message never adds a row; an ``event_id`` reused with other
  content is a dead letter (:mod:`voc.transforms.sinks.event_identity`);
- rows derived from an event (its tags, its recovery item) are written only for
  events whose fact row was inserted in the same transaction, so a redelivery
  does not re-tag an event even if the taxonomy changed in between; such rows
  carry their event's ``event_id``, ``source`` and ``payload_sha256`` (a table
  without those columns simply does not store them: only the Arrow schema's
  columns are written);
- recovery items are keyed on the interaction, so a second survey of the same
  contact is ignored like a redelivery;
- dead letters keep their first row and raw bytes, and take the latest failure
  (a replay that failed again updates the row it came from).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from voc.transforms import recovery_items
from voc.transforms.records import (
    MODEL_RULE_PREFIX,
    UNSCORED,
    DeadLetter,
    SentimentScore,
    TaggedEvent,
)

Record = TaggedEvent | DeadLetter
Row = dict[str, Any]

_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class SinkSettings:
    """Job options the row builders need (``voc run --recovery-due``); the same for
    every row of a job, so they travel with the sink rather than with each record."""

    recovery_due: timedelta = recovery_items.DEFAULT_RECOVERY_DUE


DEFAULT_SINK_SETTINGS = SinkSettings()


@dataclass(frozen=True)
class Table:
    name: str
    schema: pa.Schema
    key: tuple[str, ...]
    # The rows one record contributes to this table (none for most pairs), given the
    # transaction's time and the job's sink settings.
    rows: Callable[[Record, datetime, SinkSettings], list[Row]]
    # Write only rows whose event_id was newly stored in a fact table in the same
    # transaction (rows derived from an event, never written on their own).
    only_for_new_events: bool = False
    # "do update set ..." for a key that exists; None: a known key is ignored.
    on_conflict: str | None = None
    # A fact table holds the events of this type; its new keys are the events the
    # same transaction stores. None for other tables.
    event_type: str | None = None

    @property
    def holds_events(self) -> bool:
        return self.event_type is not None


# -- rows of one record --------------------------------------------------------


def _fact_common(tagged: TaggedEvent, now: datetime) -> Row:
    event = tagged.event
    return {
        "event_id": event.event_id,
        "interaction_id": tagged.identifier("interaction_id"),
        "channel": event.payload["channel"],
        "sentiment_score": _score(tagged.sentiment),
        "sentiment_label": tagged.sentiment.label,
        "sentiment_confidence": tagged.sentiment.confidence,
        "detected_language": tagged.sentiment.language,
        "sentiment_model": tagged.sentiment.model_version or None,
        "schema_version": event.schema_version,
        "message_id": event.message.message_id or None,
        "published_at": event.message.publish_time,
        "ingested_at": now,
        "payload_sha256": tagged.payload_sha256,
    }


def _score(sentiment: SentimentScore) -> float | None:
    """Unscored text (a language the lexicon does not read) stores no score."""
    return None if sentiment.label == UNSCORED else sentiment.compound


def _is_event(record: Record, event_type: str) -> bool:
    return isinstance(record, TaggedEvent) and record.event.event_type == event_type


def survey_rows(
    record: Record, now: datetime, _settings: SinkSettings = DEFAULT_SINK_SETTINGS
) -> list[Row]:
    if not _is_event(record, "survey"):
        return []
    payload = record.event.payload
    experience = record.experience
    return [
        _fact_common(record, now)
        | {
            "customer_id": record.identifier("customer_id"),
            "submitted_at": record.event.event_time,
            "csat": payload.get("csat"),
            "nps": payload.get("nps"),
            "ces": payload.get("ces"),
            "resolved": payload["resolved"],
            "comment": record.text,
            "language": payload["language"],
            # Survey v2 and later; v1 never has it, so NULL there.
            "product_area": payload.get("product_area"),
            "experience_score": experience.score if experience else None,
            "contradiction": experience.contradiction if experience else None,
        }
    ]


def note_rows(
    record: Record, now: datetime, _settings: SinkSettings = DEFAULT_SINK_SETTINGS
) -> list[Row]:
    if not _is_event(record, "agent_note"):
        return []
    payload = record.event.payload
    return [
        _fact_common(record, now)
        | {
            "agent_id": record.identifier("agent_id"),
            "team": record.identifier("team"),
            # Agent note v2 and later, when the support tool knows the customer.
            "customer_id": record.identifier("customer_id"),
            "created_at": record.event.event_time,
            "handle_seconds": payload["handle_seconds"],
            "hold_seconds": payload["hold_seconds"],
            "transfers": payload["transfers"],
            "note": record.text,
        }
    ]


def tag_rows(
    record: Record, now: datetime, _settings: SinkSettings = DEFAULT_SINK_SETTINGS
) -> list[Row]:
    if not isinstance(record, TaggedEvent):
        return []
    event = record.event
    csat = event.payload.get("csat") if event.event_type == "survey" else None
    seen_departments: set[str] = set()
    rows = []
    for cause in record.causes:
        best = cause.spans[0] if cause.spans else None
        rows.append(
            {
                "event_id": event.event_id,
                "source": event.event_type,
                "interaction_id": record.identifier("interaction_id"),
                "event_time": event.event_time,
                "cause_id": cause.cause_id,
                "department": cause.department,
                "evidence": cause.evidence,
                "sentiment_score": _score(record.sentiment),
                "sentiment_label": record.sentiment.label,
                "taxonomy_version": record.taxonomy_version,
                "tagged_at": now,
                # Lets department queries count events without count(distinct).
                "first_for_department": cause.department not in seen_departments,
                "csat": csat,
                "payload_sha256": record.payload_sha256,
                "sub_cause_id": cause.sub_cause_id or None,
                "rule_id": best.rule_id if best else None,
                "evidence_start": best.start if best and best.start >= 0 else None,
                "evidence_end": best.end if best and best.start >= 0 else None,
                "confidence": cause.confidence if best else None,
                "evidence_spans": _spans_json(cause.spans),
                "taxonomy_release": record.taxonomy_release or None,
                "taxonomy_hash": record.taxonomy_hash or None,
                "evidence_sentiment": cause.sentiment,
                "model_version": _model_of(cause),
            }
        )
        seen_departments.add(cause.department)
    return rows


def _model_of(cause) -> str | None:
    rule_id = cause.rule_id
    return (
        rule_id.removeprefix(MODEL_RULE_PREFIX) if rule_id.startswith(MODEL_RULE_PREFIX) else None
    )


def _spans_json(spans) -> str:
    return json.dumps(
        [
            {"rule": s.rule_id, "start": s.start, "end": s.end, "confidence": s.confidence}
            for s in spans
        ]
    )


def dead_letter_rows(
    record: Record, _now: datetime, _settings: SinkSettings = DEFAULT_SINK_SETTINGS
) -> list[Row]:
    if not isinstance(record, DeadLetter):
        return []
    return [
        {
            "dead_letter_id": record.dead_letter_id,
            "received_at": record.received_at,
            "stage": record.stage,
            "reason": record.reason,
            "error": record.error,
            "exception_type": record.exception_type,
            "stack": record.stack,
            "message_id": record.message_id or None,
            "published_at": record.publish_time,
            "attributes": json.dumps(record.attributes, sort_keys=True),
            "data": record.data,
        }
    ]


def recovery_item_rows(
    record: Record, now: datetime, settings: SinkSettings = DEFAULT_SINK_SETTINGS
) -> list[Row]:
    """A follow-up for a detractor or strongly negative survey (the rule is
    :mod:`voc.transforms.recovery_items`), owned by its primary cause's department."""
    if not _is_event(record, "survey"):
        return []
    payload = record.event.payload
    score = _score(record.sentiment)
    reason = recovery_items.recovery_reason(payload.get("nps"), payload.get("csat"), score)
    if reason is None:
        return []
    owner = recovery_items.primary_cause([(c.cause_id, c.department) for c in record.causes])
    interaction_id = record.identifier("interaction_id")
    survey_at = record.event.event_time
    return [
        {
            "item_id": recovery_items.item_id(interaction_id),
            "interaction_id": interaction_id,
            "survey_event_id": record.event.event_id,
            "customer_id": record.identifier("customer_id"),
            "channel": payload["channel"],
            "department": owner.department,
            "cause_id": owner.cause_id,
            "reason": reason,
            "nps": payload.get("nps"),
            "csat": payload.get("csat"),
            "sentiment_score": score,
            "survey_at": survey_at,
            "due_at": survey_at + settings.recovery_due,
            "created_at": now,
            # The event the item derives from (not columns of the table): the store
            # writes it only if this transaction stored that survey.
            "event_id": record.event.event_id,
            "source": record.event.event_type,
            "payload_sha256": record.payload_sha256,
        }
    ]


# -- the registry ---------------------------------------------------------------

_FACT_COMMON = [
    ("event_id", pa.string()),
    ("interaction_id", pa.string()),
    ("channel", pa.string()),
    ("sentiment_score", pa.float64()),
    ("sentiment_label", pa.string()),
    ("sentiment_confidence", pa.float64()),
    ("detected_language", pa.string()),
    ("sentiment_model", pa.string()),
    ("schema_version", pa.int32()),
    ("message_id", pa.string()),
    ("published_at", _TS),
    ("ingested_at", _TS),
    ("payload_sha256", pa.string()),
]

SURVEYS = Table(
    name="surveys",
    schema=pa.schema(
        [
            *_FACT_COMMON,
            ("customer_id", pa.string()),
            ("submitted_at", _TS),
            ("csat", pa.int8()),
            ("nps", pa.int8()),
            ("ces", pa.int8()),
            ("resolved", pa.bool_()),
            ("comment", pa.string()),
            ("language", pa.string()),
            ("product_area", pa.string()),
            ("experience_score", pa.float64()),
            ("contradiction", pa.bool_()),
        ]
    ),
    key=("event_id",),
    rows=survey_rows,
    event_type="survey",
)

AGENT_NOTES = Table(
    name="agent_notes",
    schema=pa.schema(
        [
            *_FACT_COMMON,
            ("agent_id", pa.string()),
            ("team", pa.string()),
            ("customer_id", pa.string()),
            ("created_at", _TS),
            ("handle_seconds", pa.int32()),
            ("hold_seconds", pa.int32()),
            ("transfers", pa.int32()),
            ("note", pa.string()),
        ]
    ),
    key=("event_id",),
    rows=note_rows,
    event_type="agent_note",
)

FEEDBACK_TAGS = Table(
    name="feedback_tags",
    schema=pa.schema(
        [
            ("event_id", pa.string()),
            ("source", pa.string()),
            ("interaction_id", pa.string()),
            ("event_time", _TS),
            ("cause_id", pa.string()),
            ("department", pa.string()),
            ("evidence", pa.string()),
            ("sentiment_score", pa.float64()),
            ("sentiment_label", pa.string()),
            ("taxonomy_version", pa.int32()),
            ("tagged_at", _TS),
            ("first_for_department", pa.bool_()),
            ("csat", pa.int8()),
            ("payload_sha256", pa.string()),
            ("sub_cause_id", pa.string()),
            ("rule_id", pa.string()),
            ("evidence_start", pa.int32()),
            ("evidence_end", pa.int32()),
            ("confidence", pa.float64()),
            ("evidence_spans", pa.string()),
            ("taxonomy_release", pa.string()),
            ("taxonomy_hash", pa.string()),
            ("evidence_sentiment", pa.float64()),
            ("model_version", pa.string()),
        ]
    ),
    key=("event_id", "cause_id"),
    rows=tag_rows,
    only_for_new_events=True,
)

DEAD_LETTERS = Table(
    name="dead_letters",
    schema=pa.schema(
        [
            ("dead_letter_id", pa.string()),
            ("received_at", _TS),
            ("stage", pa.string()),
            ("reason", pa.string()),
            ("error", pa.string()),
            ("exception_type", pa.string()),
            ("stack", pa.string()),
            ("message_id", pa.string()),
            ("published_at", _TS),
            ("attributes", pa.string()),
            ("data", pa.binary()),
        ]
    ),
    key=("dead_letter_id",),
    rows=dead_letter_rows,
    # A redelivery, or a replay that failed again: keep the row and its raw bytes,
    # take the latest failure.
    on_conflict="do update set stage = excluded.stage, reason = excluded.reason, "
    "error = excluded.error, exception_type = excluded.exception_type, "
    "stack = excluded.stack, last_failed_at = excluded.received_at",
)

RECOVERY_ITEMS = Table(
    name="recovery_items",
    schema=pa.schema(
        [
            ("item_id", pa.string()),
            ("interaction_id", pa.string()),
            ("survey_event_id", pa.string()),
            ("customer_id", pa.string()),
            ("channel", pa.string()),
            ("department", pa.string()),
            ("cause_id", pa.string()),
            ("reason", pa.string()),
            ("nps", pa.int8()),
            ("csat", pa.int8()),
            ("sentiment_score", pa.float64()),
            ("survey_at", _TS),
            ("due_at", _TS),
            ("created_at", _TS),
        ]
    ),
    # One item per contact: a second survey of the interaction is ignored.
    key=("item_id",),
    rows=recovery_item_rows,
    only_for_new_events=True,
)

# In write order: fact tables before the rows derived from their events.
TABLES: tuple[Table, ...] = (SURVEYS, AGENT_NOTES, FEEDBACK_TAGS, RECOVERY_ITEMS, DEAD_LETTERS)
# Which fact table holds each event type.
FACT_TABLE = {table.event_type: table.name for table in TABLES if table.event_type}
