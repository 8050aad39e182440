"""Find repeat contacts in the stream: contacts keyed by a shard of the customer.

Each time the join reports a contact (an interaction with a survey, so with a
customer), the customer's contacts within the repeat window are compared with
it (:func:`repeat_pairs`). A customer's contacts are kept until the watermark
passes their latest start plus the repeat window. The customer id stays inside
this state and never reaches a department-facing table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.timestamp import Timestamp

from voc.transforms.derived.interactions import Contact
from voc.transforms.derived.join_interactions import on_expiry_grid, progress_row
from voc.transforms.derived.repeat_contacts import repeat_pairs, repeat_row
from voc.transforms.derived.settings import EventTimeSettings
from voc.transforms.records import DerivedRow
from voc.transforms.sinks.derived_tables import REPEATS_OF


@dataclass
class CustomerShard:
    # customer_id -> interaction_id -> contact
    contacts: dict[str, dict[str, Contact]] = field(default_factory=dict)
    expires: dict[str, float] = field(default_factory=dict)
    watermark: float = -math.inf


def add_contacts(
    shard: CustomerShard, contacts: tuple[Contact, ...], window_seconds: float
) -> list[tuple[Contact, Contact, str, str]]:
    """Fold contacts in; returns the repeat pairs that involve any of them."""
    pairs = []
    for contact in contacts:
        known = shard.contacts.setdefault(contact.customer_id, {})
        known[contact.interaction_id] = contact
        expires = on_expiry_grid(max(c.started_at for c in known.values()) + window_seconds)
        shard.expires[contact.customer_id] = expires
    for contact in contacts:
        known = shard.contacts[contact.customer_id]
        pairs.extend(
            repeat_pairs(
                known.values(),
                timedelta(seconds=window_seconds),
                only_with=contact.interaction_id,
            )
        )
    return sorted(set(pairs), key=lambda p: (p[0].interaction_id, p[1].interaction_id, p[2]))


class FindRepeatContactsFn(beam.DoFn):
    """(shard, contacts) -> repeat_contacts rows."""

    STATE = userstate.ReadModifyWriteStateSpec("customers", PickleCoder())
    COLLECT = userstate.TimerSpec("collect", TimeDomain.WATERMARK)

    def __init__(self, settings: EventTimeSettings) -> None:
        self.window = settings.repeat_window.total_seconds()

    def process(
        self,
        element,
        state=beam.DoFn.StateParam(STATE),
        collect=beam.DoFn.TimerParam(COLLECT),
    ):
        _, contacts = element
        shard = state.read() or CustomerShard()
        pairs = add_contacts(shard, contacts, self.window)
        state.write(shard)
        if shard.expires:
            collect.set(Timestamp(min(shard.expires.values())))
        now = datetime.now(UTC)
        # The pairs of a changed contact replace its earlier ones: a part arriving
        # later can move when the contact started, or what it was about.
        for contact in sorted({c.interaction_id for c in contacts}):
            yield DerivedRow(REPEATS_OF, {"interaction_id": contact})
        for earlier, later, cause, department in pairs:
            yield DerivedRow("repeat_contacts", repeat_row(earlier, later, cause, department, now))

    @userstate.on_timer(COLLECT)
    def collect(
        self,
        key=beam.DoFn.KeyParam,
        fired=beam.DoFn.TimestampParam,
        state=beam.DoFn.StateParam(STATE),
        collect=beam.DoFn.TimerParam(COLLECT),
    ):
        shard = state.read() or CustomerShard()
        at = fired.micros / 1e6
        shard.watermark = max(shard.watermark, at)
        for customer in [c for c, due in shard.expires.items() if due <= at]:
            del shard.expires[customer]
            del shard.contacts[customer]
        state.write(shard)
        if shard.expires:
            collect.set(Timestamp(min(shard.expires.values())))
        yield progress_row("repeat_contacts", key, shard.watermark, len(shard.contacts), shard)
