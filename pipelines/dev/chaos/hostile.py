"""Hostile messages for the chaos run: oversized ones and conflicting duplicates."""

from __future__ import annotations

import dataclasses
import json
import random
import uuid
from collections.abc import Collection, Sequence

from voc.pipelines.dev.generate import GeneratedMessage
from voc.pipelines.dev.generate.messages import compact, valid_message

# The largest hostile message: Pub/Sub's 10 MB less room for attributes and framing.
_LARGEST_MESSAGE_BYTES = 9_990_000


def oversized_sizes(rng: random.Random, count: int) -> list[int]:
    """Payload sizes over the job's limit: its first byte over, Pub/Sub's largest,
    and random ones between."""
    from voc.transforms.parse_event import DEFAULT_MAX_MESSAGE_BYTES

    low, high = DEFAULT_MAX_MESSAGE_BYTES + 1, _LARGEST_MESSAGE_BYTES
    edges = [low, high][:count]
    return edges + [rng.randint(low, high) for _ in range(count - len(edges))]


def hostile_messages(
    rng: random.Random,
    originals: Sequence[GeneratedMessage],
    committed: Collection[str],
    count: int,
) -> list[GeneratedMessage]:
    """``count`` hostile messages: a quarter (at least one) oversized surveys, the rest
    conflicting versions of events in ``committed``, cycling through four kinds.

    Each conflict targets a different committed event, and the note or survey whose
    content a cross-table conflict borrows is never itself a target, so every
    message is exactly one conflict. Fewer come out if too few events are committed.
    """
    valid = [m for m in originals if m.kind == "valid" and m.event_id in committed]
    surveys = [m for m in valid if m.event_type == "survey"]
    notes = [m for m in valid if m.event_type == "agent_note"]
    if not surveys or not notes:
        return []
    rng.shuffle(surveys)
    rng.shuffle(notes)
    n_big = max(1, count // 4) if count else 0
    hostile = []
    for size in oversized_sizes(rng, n_big):
        base = rng.choice(surveys)
        payload = _payload(base)
        payload["event_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        hostile.append(_padded(payload, size, base.attributes["schema_version"]))
    # Donors lend their content to a cross-table conflict; targets get a conflict each.
    donor_survey, donor_note = surveys.pop(), notes.pop()
    kinds = (
        (surveys, lambda target: _edited(target, "comment", " Update: still not fixed.")),
        (notes, lambda target: _edited(target, "note", " Follow-up call, no change.")),
        (surveys, lambda target: _borrowed(donor_note, target)),
        (notes, lambda target: _borrowed(donor_survey, target)),
    )
    for number in range(count - n_big):
        pool, make = kinds[number % len(kinds)]
        if pool:
            hostile.append(dataclasses.replace(make(pool.pop()), kind="conflicting"))
    return hostile


def _payload(message: GeneratedMessage) -> dict:
    return json.loads(message.data)


def _edited(target: GeneratedMessage, text_field: str, addition: str) -> GeneratedMessage:
    """The same event (id, time, table) with other text: a second version."""
    payload = _payload(target)
    payload[text_field] += addition
    return valid_message(payload, (), target.attributes["schema_version"])


def _borrowed(donor: GeneratedMessage, target: GeneratedMessage) -> GeneratedMessage:
    """The donor's event under the target's id: a survey and a note sharing an id."""
    payload = _payload(donor)
    payload["event_id"] = target.event_id
    return valid_message(payload, (), donor.attributes["schema_version"])


def _padded(payload: dict, size: int, schema_version: str) -> GeneratedMessage:
    """A survey whose comment makes its payload exactly ``size`` bytes."""
    payload["comment"] = ""
    filler = "The app froze again and nobody calls back. " * (size // 43 + 1)
    payload["comment"] = filler[: size - len(compact(payload))]
    message = valid_message(payload, (), schema_version)
    assert len(message.data) == size, (len(message.data), size)
    return dataclasses.replace(message, kind="oversized")


# -- publishing, and publishing again after the emulator lost everything ------------
