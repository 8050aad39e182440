"""Generated messages as a publisher would send them, with the generator's ground truth.

Valid messages are built here only, so that their topic, attributes and contract
version follow the same rules wherever an event is made, damaged or re-sent.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from voc.pipelines.dev.generate.phrases import PRODUCT_AREAS
from voc.pipelines.topology import TOPIC_FOR_EVENT_TYPE

# The contract version of agent notes and of most surveys.
SCHEMA_VERSION = "1"
# Some publishers already send survey v2 (schemas/events/survey.v2.json), which adds
# product_area; the rest are still on v1, as they would be mid-migration.
SURVEY_V2 = "2"
SURVEY_V2_RATE = 0.3
# Agent note v2 (schemas/events/agent_note.v2.json) adds the optional customer_id;
# about half the notes come from a support tool that already sends it.
NOTE_V2 = "2"
NOTE_V2_RATE = 0.5


@dataclass(frozen=True)
class GeneratedMessage:
    """One message as it would be published: topic, raw bytes and attributes, plus truth.

    kind, event_type, event_id and cause_ids are the generator's ground truth, kept
    beside the message so tests can check what the pipeline made of it. cause_ids
    are the causes this message itself carries (in its text, or in a note's
    hold/transfer numbers), primary first; a survey whose customer never names the
    cause carries none. For malformed messages event_type is the attribute as sent
    (possibly unknown or None) and event_id the id inside the payload when one
    survives the damage, else None.
    """

    topic: str
    data: bytes
    attributes: dict[str, str]
    kind: str  # "valid" | "duplicate" | "malformed"
    event_type: str | None
    event_id: str | None
    cause_ids: tuple[str, ...]


def survey_version(payload: dict[str, Any], primary: str) -> str:
    """Pick the survey's contract version, adding product_area to the payload for v2.

    Drawn from the bits of the (already random) event id rather than from the
    shared random source, so that mixing in v2 changed nothing else: seeds used by
    benchmarks and acceptance tests still make the same interactions, texts, valid
    messages and arrival order. (Malformed messages cut from a longer v2 payload
    draw different cut points, so those, and the draws after them, may differ.)
    """
    bits = uuid.UUID(payload["event_id"]).int  # the low 62 bits of a v4 UUID are random
    if (bits & 0xFFFFFFFF) >= SURVEY_V2_RATE * 2**32:
        return SCHEMA_VERSION
    areas = PRODUCT_AREAS.get(primary)
    if areas:
        payload["product_area"] = areas[(bits >> 32) % len(areas)]
    return SURVEY_V2


def note_version(payload: dict[str, Any], customer_id: str) -> str:
    """Pick the note's contract version, adding customer_id to the payload for v2.

    Drawn from the event id's bits, as :func:`survey_version` is, so that no other
    draw of the generator changes.
    """
    bits = uuid.UUID(payload["event_id"]).int
    if (bits & 0xFFFFFFFF) >= NOTE_V2_RATE * 2**32:
        return SCHEMA_VERSION
    payload["customer_id"] = customer_id
    return NOTE_V2


def valid_message(
    payload: dict[str, Any], cause_ids: tuple[str, ...], schema_version: str = SCHEMA_VERSION
) -> GeneratedMessage:
    is_survey = "submitted_at" in payload
    event_type = "survey" if is_survey else "agent_note"
    return GeneratedMessage(
        topic=TOPIC_FOR_EVENT_TYPE[event_type],
        data=compact(payload),
        attributes={
            "event_type": event_type,
            "schema_version": schema_version,
            "event_time": payload["submitted_at" if is_survey else "created_at"],
            # For Dataflow's native source, which drops re-publishes carrying the
            # same value (its id_label); locally the sink's key does the same.
            "event_id": payload["event_id"],
        },
        kind="valid",
        event_type=event_type,
        event_id=payload["event_id"],
        cause_ids=cause_ids,
    )


def compact(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
