"""Repeat contacts: the same customer back within the repeat window about the same cause.

A customer who has to contact us again about what they contacted us for means
the first contact did not resolve it: the earlier interaction is marked
``resolved_first_contact = false``. Pure: the stream calls :func:`repeat_pairs`
on one customer's recent contacts whenever one of them changes, and the
reconciliation on all of a customer's contacts; a pair depends only on the two
contacts, so both find the same pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from voc.transforms.derived.interactions import Contact


def repeat_pairs(
    contacts: Iterable[Contact], window: timedelta, only_with: str | None = None
) -> list[tuple[Contact, Contact, str, str]]:
    """(earlier, later, cause_id, department) for every pair of one customer's contacts
    where the later one started within ``window`` after the earlier and both name the
    cause. ``only_with``: only pairs that include this interaction_id."""
    ordered = sorted(contacts, key=lambda c: (c.started_at, c.interaction_id))
    pairs = []
    for i, earlier in enumerate(ordered):
        earlier_causes = dict(earlier.causes)
        if not earlier_causes:
            continue
        for later in ordered[i + 1 :]:
            if later.started_at - earlier.started_at > window.total_seconds():
                break
            if later.interaction_id == earlier.interaction_id:
                continue
            if only_with is not None and only_with not in (
                earlier.interaction_id,
                later.interaction_id,
            ):
                continue
            for cause, department in later.causes:
                if cause in earlier_causes:
                    pairs.append((earlier, later, cause, department))
    return pairs


def repeat_row(
    earlier: Contact, later: Contact, cause_id: str, department: str, detected_at: datetime
) -> dict[str, Any]:
    return {
        "earlier_interaction_id": earlier.interaction_id,
        "later_interaction_id": later.interaction_id,
        "cause_id": cause_id,
        "department": department,
        "channel": earlier.channel,
        "earlier_at": datetime.fromtimestamp(earlier.started_at, UTC),
        "later_at": datetime.fromtimestamp(later.started_at, UTC),
        "gap_hours": round((later.started_at - earlier.started_at) / 3600, 4),
        "detected_at": detected_at,
    }
