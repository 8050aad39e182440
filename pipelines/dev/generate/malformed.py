"""Malformed messages, broken in the ways production streams break them.

A pipeline's dead-letter path is only trusted once it has seen every defect it
must catch, from bytes that are not JSON to a well-formed event on a contract
version nobody publishes, so each defect here is one the parser must reject.
"""

from __future__ import annotations

import json
from typing import Any

from voc.pipelines.dev.generate.messages import GeneratedMessage, compact
from voc.pipelines.dev.generate.world import World
from voc.pipelines.topology import SURVEYS_TOPIC
from voc.schemas.contracts import contract_file_name, contracts_folder


def _required_fields(event_type: str) -> tuple[str, ...]:
    """The contract's own list, so a field a contract makes required is also damaged."""
    schema_file = contracts_folder() / contract_file_name(event_type, 1)
    return tuple(json.loads(schema_file.read_text(encoding="utf-8"))["required"])


SURVEY_REQUIRED = _required_fields("survey")
NOTE_REQUIRED = _required_fields("agent_note")
# Values that break one field's type or range, per event type, for those two defects.
_FIELD_DAMAGE: dict[str, dict[str, tuple[tuple[str, Any], ...]]] = {
    "wrong_type": {
        "survey": (("csat", "five"), ("nps", "10"), ("resolved", "yes"), ("ces", 3.5)),
        "agent_note": (("hold_seconds", "300"), ("transfers", 1.5), ("note", None)),
    },
    "out_of_range": {
        "survey": (("csat", 6), ("csat", 0), ("nps", 11), ("nps", -1), ("ces", 8), ("ces", 0)),
        "agent_note": (("hold_seconds", -30), ("transfers", 101), ("handle_seconds", 90000)),
    },
}
MALFORMED_DEFECTS = (
    "invalid_json",
    "truncated_json",
    "invalid_utf8",
    "missing_field",
    "wrong_type",
    "out_of_range",
    "unknown_event_type",
    "missing_event_type",
    "unknown_schema_version",
)


def malformed(world: World, defect: str) -> GeneratedMessage:
    """A fresh message broken in one way production streams break.

    Built from a new valid payload (with its own event id) so that no two
    malformed messages share bytes and attributes.
    """
    rng = world.rng
    interaction = world.interaction()
    _, base, _ = rng.choice(interaction.messages)
    payload: dict[str, Any] = json.loads(base.data)
    attributes = dict(base.attributes)
    event_id: str | None = payload["event_id"]
    is_survey = base.topic == SURVEYS_TOPIC
    data = base.data

    if defect == "invalid_json":
        variant = rng.randrange(4)
        if variant == 0:
            data = data[:-1] + b",}"  # trailing comma
        elif variant == 1:
            data = data.replace(b'"', b"'")  # single quotes
        elif variant == 2:
            data = data.replace(b'"event_id":', b"event_id:", 1)  # unquoted key
        else:
            data = data + b"\n" + data  # two objects in one message
        event_id = None
    elif defect == "truncated_json":
        keep_from = data.index(event_id.encode()) + len(event_id)
        data = data[: rng.randint(keep_from, len(data) - 1)]
        event_id = None
    elif defect == "invalid_utf8":
        position = rng.randint(1, len(data) - 1)
        junk = rng.choice((b"\xff", b"\xa3", b"\xc3\x28", b"\xe9"))
        data = data[:position] + junk + data[position:]
        event_id = None
    elif defect == "missing_field":
        missing = rng.choice(SURVEY_REQUIRED if is_survey else NOTE_REQUIRED)
        del payload[missing]
        if missing == "event_id":
            event_id = None
        data = compact(payload)
    elif defect in _FIELD_DAMAGE:
        key, value = rng.choice(_FIELD_DAMAGE[defect]["survey" if is_survey else "agent_note"])
        payload[key] = value
        data = compact(payload)
    elif defect == "unknown_event_type":
        attributes["event_type"] = rng.choice(
            ("complaint", "Survey", "agent-note", "survey_v2", "chat_transcript")
        )
    elif defect == "missing_event_type":
        del attributes["event_type"]
    elif defect == "unknown_schema_version":
        attributes["schema_version"] = "99"
    else:  # pragma: no cover - MALFORMED_DEFECTS lists every branch
        raise ValueError(f"unknown defect {defect!r}")
    return GeneratedMessage(
        topic=base.topic,
        data=data,
        attributes=attributes,
        kind="malformed",
        event_type=attributes.get("event_type"),
        event_id=event_id,
        cause_ids=(),
    )
