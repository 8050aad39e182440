"""One event_id, one event: a reused id with other content is a conflict, never a silent drop.

At-least-once delivery means the same message arrives again, and the sink's keys
make that a no-op. But a publisher can also reuse an ``event_id`` for another
event (a bug, a replayed fixture, a survey and a note from systems that number
independently). Keyed on ``event_id`` alone, the second event vanished: no fact
row, no dead letter, and a survey whose id a note had taken lost its tags.

So an event is identified by its id *and* its content: the sha256 of its payload
written canonically (keys sorted, no spaces), stored beside the fact. The same id
with the same content is a redelivery (ignored); the same id with other content,
or in the other fact table, is a ``conflicting_duplicate`` dead letter that names
the first event's table, message id and payload hash and its own hash. The first
one stays; nothing is overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from voc.transforms.records import InvalidMessage, TaggedEvent
from voc.transforms.sinks.tables import FACT_TABLE

CONFLICT_REASON = "conflicting_duplicate"
# The stage of dead letters made by the sink itself (parse and tag are the others).
STORE_STAGE = "store"


class StoredVersion(NamedTuple):
    """What identifies the event an id already belongs to."""

    table: str
    payload_sha256: str | None  # None for rows stored before hashes were kept
    message_id: str | None


def version_of(tagged: TaggedEvent) -> StoredVersion:
    event = tagged.event
    return StoredVersion(
        FACT_TABLE[event.event_type], tagged.payload_sha256, event.message.message_id or None
    )


def is_same_event(first: StoredVersion, later: StoredVersion) -> bool:
    """A redelivery, or a conflict? A row stored without a hash is taken as the same
    event when it is in the same table: nothing says otherwise."""
    if first.table != later.table:
        return False
    return first.payload_sha256 is None or first.payload_sha256 == later.payload_sha256


def find_conflicts(
    events: Iterable[TaggedEvent], stored: Mapping[str, StoredVersion]
) -> list[tuple[TaggedEvent, StoredVersion]]:
    """The events whose id is already taken by another event, with that first event.

    ``stored`` holds the versions already in the tables; within ``events`` the first
    occurrence of an id wins, as it would have in separate transactions.
    """
    first: dict[str, StoredVersion] = dict(stored)
    conflicts = []
    for tagged in events:
        version = version_of(tagged)
        known = first.setdefault(tagged.event.event_id, version)
        if not is_same_event(known, version):
            conflicts.append((tagged, known))
    return conflicts


def conflict_error(tagged: TaggedEvent, first: StoredVersion) -> InvalidMessage:
    version = version_of(tagged)
    return InvalidMessage(
        CONFLICT_REASON,
        f"event_id {tagged.event.event_id[:80]!r} already belongs to a row of {first.table} "
        f"(message {first.message_id or 'unknown'}, payload sha256 "
        f"{first.payload_sha256 or 'not recorded'}); this {tagged.event.event_type} has "
        f"payload sha256 {version.payload_sha256}",
    )
