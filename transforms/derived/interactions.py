"""One interaction from its parts: a survey and the agent notes of one interaction_id.

Pure: the stream's join (:mod:`voc.transforms.derived.join_interactions`) calls
:func:`interaction_row` on the parts it holds in state each time a part arrives,
and the reconciliation calls it on the parts it reads back from the fact tables.
The row depends only on the set of parts, never on their arrival order, so the
stream and a recomputation agree whatever order the parts came in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from voc.transforms.records import StoredCause, StoredFact
from voc.transforms.score_sentiment import label_for_compound

# The customer's own words count twice an agent's account of them in the overall
# sentiment: the survey is what the customer said, the note is what the agent heard.
SURVEY_WEIGHT = 2.0
NOTE_WEIGHT = 1.0
# Feedback no rule matched is tagged "unclassified"; it is not a cause of the contact.
NO_CAUSE = "unclassified"


# A part as the join keeps it in state: a plain tuple of what the row reads (no text,
# no evidence; event time as epoch seconds). Measured: a shard of parts kept as
# StoredFact dataclasses took 4x longer to encode and decode than as tuples, and the
# DirectRunner encodes a state value on every write and decodes it on every read.
Part = tuple


def compact_part(fact: StoredFact) -> Part:
    return (
        fact.event_id,
        fact.event_type,
        fact.interaction_id,
        fact.channel,
        fact.event_time.timestamp(),
        fact.sentiment_score,
        fact.sentiment_label,
        tuple((c.cause_id, c.sub_cause_id, c.department) for c in fact.causes),
        fact.customer_id,
        fact.csat,
        fact.nps,
        fact.ces,
        fact.resolved,
        fact.handle_seconds,
        fact.hold_seconds,
        fact.transfers,
    )


def part_fact(part: Part) -> StoredFact:
    """The StoredFact a compact part stands for (without text or evidence)."""
    (event_id, event_type, interaction_id, channel, epoch, score, label, causes,
     customer_id, csat, nps, ces, resolved, handle, hold, transfers) = part  # fmt: skip
    return StoredFact(
        event_id=event_id,
        event_type=event_type,
        interaction_id=interaction_id,
        channel=channel,
        event_time=datetime.fromtimestamp(epoch, UTC),
        sentiment_score=score,
        sentiment_label=label,
        causes=tuple(StoredCause(cause, sub, department, "") for cause, sub, department in causes),
        customer_id=customer_id,
        csat=csat,
        nps=nps,
        ces=ces,
        resolved=resolved,
        handle_seconds=handle,
        hold_seconds=hold,
        transfers=transfers,
    )


def _latest(parts: Iterable[StoredFact]) -> StoredFact | None:
    """Latest by event time; on a tie the smaller event_id, as interaction_parts picks."""
    return min(parts, key=lambda p: (-p.event_time.timestamp(), p.event_id), default=None)


def _sum(values: Iterable[int | None]) -> int | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


class Contact(NamedTuple):
    """What repeat-contact detection needs of an interaction (no text, no scores)."""

    customer_id: str
    interaction_id: str
    started_at: float  # epoch seconds of the interaction's first part
    channel: str
    causes: tuple[tuple[str, str], ...]  # (cause_id, department), sorted


def causes_of(parts: Iterable[StoredFact]) -> dict[tuple[str, str, str], set[str]]:
    """(cause_id, sub_cause_id, department) -> the event types that named it."""
    found: dict[tuple[str, str, str], set[str]] = {}
    for part in parts:
        for cause in part.causes:
            if cause.cause_id == NO_CAUSE:
                continue
            key = (cause.cause_id, cause.sub_cause_id, cause.department)
            found.setdefault(key, set()).add(part.event_type)
    return found


def overall_sentiment(parts: Iterable[StoredFact]) -> float | None:
    """Weighted mean of the scored texts' compound scores (None: none was scored)."""
    total = weight = 0.0
    for part in parts:
        if part.sentiment_score is None:
            continue
        w = SURVEY_WEIGHT if part.event_type == "survey" else NOTE_WEIGHT
        total += w * part.sentiment_score
        weight += w
    return round(total / weight, 6) if weight else None


def interaction_row(parts: Mapping[str, StoredFact], updated_at: datetime) -> dict[str, Any]:
    """The interactions row of one interaction_id's parts (event_id -> part)."""
    values = sorted(parts.values(), key=lambda p: p.event_id)
    surveys = [p for p in values if p.event_type == "survey"]
    notes = sorted(
        (p for p in values if p.event_type != "survey"),
        key=lambda p: (p.event_time, p.event_id),
    )
    survey = _latest(surveys)
    latest_note = _latest(notes)
    causes = causes_of(values)
    score = overall_sentiment(values)
    times = [p.event_time for p in values]
    return {
        "interaction_id": values[0].interaction_id,
        # The agent's system knows the channel for sure; the survey tool may guess.
        "channel": (latest_note or survey).channel,
        "first_event_at": min(times),
        "last_event_at": max(times),
        "survey_event_id": survey.event_id if survey else None,
        "note_event_ids": [note.event_id for note in notes],
        "submitted_at": survey.event_time if survey else None,
        "csat": survey.csat if survey else None,
        "nps": survey.nps if survey else None,
        "customer_effort": survey.ces if survey else None,
        "resolved": survey.resolved if survey else None,
        "handle_seconds": _sum(note.handle_seconds for note in notes),
        "hold_seconds": _sum(note.hold_seconds for note in notes),
        "transfers": _sum(note.transfers for note in notes),
        "causes": sorted({cause for cause, _, _ in causes}),
        "departments": sorted({department for _, _, department in causes}),
        "cause_sources": json.dumps(
            [
                {
                    "cause_id": cause,
                    "sub_cause_id": sub,
                    "department": department,
                    "sources": sorted(sources),
                }
                for (cause, sub, department), sources in sorted(causes.items())
            ],
            separators=(",", ":"),
        ),
        "sentiment_score": score,
        "sentiment_label": None if score is None else label_for_compound(score),
        "complete": survey is not None and bool(notes),
        "updated_at": updated_at,
    }


def contact_of(parts: Mapping[str, StoredFact]) -> Contact | None:
    """The interaction as a customer's contact; None without a survey (only surveys
    say who the customer is)."""
    survey = _latest(p for p in parts.values() if p.event_type == "survey")
    if survey is None or not survey.customer_id:
        return None
    values = parts.values()
    channel = (_latest(p for p in values if p.event_type != "survey") or survey).channel
    causes = sorted({(cause, department) for cause, _, department in causes_of(values)})
    return Contact(
        customer_id=survey.customer_id,
        interaction_id=survey.interaction_id,
        started_at=min(p.event_time for p in values).timestamp(),
        channel=channel,
        causes=tuple(causes),
    )
