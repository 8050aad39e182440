"""Join the survey and agent notes of one interaction_id with state and event-time timers.

The parts of an interaction arrive in any order, minutes to days apart, on two
subscriptions. The first part creates the interactions row; each later part
updates it (the row is rebuilt from every part held, :func:`interaction_row`).
An interaction's state lives until the watermark passes its latest part's event
time plus the join horizon (default 7 days), then a tombstone remembers it for
one more horizon: a part arriving for a collected interaction is stored in its
fact table but flagged ``joined = false``, never merged into a row it no longer
has all the parts of, and never dropped.

State is keyed by a shard of interaction_id (see :mod:`.shard_batches`) and holds
the compact parts (no text, no evidence: the row reads neither). Its size per
open interaction is reported in ``pipeline_progress``.
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass, field
from datetime import UTC, datetime

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.timestamp import Timestamp

from voc.transforms.derived.interactions import (
    Part,
    compact_part,
    contact_of,
    interaction_row,
    part_fact,
)
from voc.transforms.derived.settings import EventTimeSettings
from voc.transforms.records import DerivedRow, StoredFact

CONTACTS = "contacts"
# Expiry times are rounded up to this grid, so a shard's timer fires at most once
# per grid step rather than once per interaction.
EXPIRY_GRID_SECONDS = 3600.0


def on_expiry_grid(epoch: float) -> float:
    return math.ceil(epoch / EXPIRY_GRID_SECONDS) * EXPIRY_GRID_SECONDS


@dataclass
class JoinShard:
    """One shard's join state."""

    # interaction_id -> event_id -> compact part
    parts: dict[str, dict[str, Part]] = field(default_factory=dict)
    # interaction_id -> epoch at which its state is collected
    expires: dict[str, float] = field(default_factory=dict)
    # interaction_id -> epoch until which late parts are refused (collected ones)
    tombstones: dict[str, float] = field(default_factory=dict)
    # The latest event-time timer that fired here: the watermark is at least this.
    watermark: float = -math.inf

    def next_deadline(self) -> float | None:
        deadlines = [*self.expires.values(), *self.tombstones.values()]
        return min(deadlines) if deadlines else None


def add_parts(
    shard: JoinShard, facts: tuple[StoredFact, ...], horizon_seconds: float
) -> tuple[set[str], list[tuple[StoredFact, bool]]]:
    """Fold facts into the shard; returns the interactions changed and each fact's
    verdict (joined or refused). Pure apart from mutating ``shard``."""
    touched: set[str] = set()
    verdicts = []
    for fact in facts:
        key = fact.interaction_id
        when = fact.event_time.timestamp()
        refused = (
            fact.joined is False
            or key in shard.tombstones
            # Past its interaction's horizon in event time, whether or not the
            # watermark has collected the state yet: the verdict must not depend
            # on when the timer fires.
            or when >= shard.expires.get(key, math.inf)
            or when + horizon_seconds <= shard.watermark
        )
        if refused:
            verdicts.append((fact, False))
            continue
        parts = shard.parts.setdefault(key, {})
        parts[fact.event_id] = compact_part(fact)
        expires = on_expiry_grid(when + horizon_seconds)
        shard.expires[key] = max(shard.expires.get(key, expires), expires)
        touched.add(key)
        verdicts.append((fact, True))
    return touched, verdicts


def collect_expired(shard: JoinShard, now_watermark: float, horizon_seconds: float) -> int:
    """Collect interactions and tombstones due by ``now_watermark``; returns how many
    interactions were collected."""
    shard.watermark = max(shard.watermark, now_watermark)
    due = [key for key, at in shard.expires.items() if at <= now_watermark]
    for key in due:
        del shard.parts[key]
        shard.tombstones[key] = shard.expires.pop(key) + horizon_seconds
    for key in [key for key, at in shard.tombstones.items() if at <= now_watermark]:
        del shard.tombstones[key]
    return len(due)


def joined_flag_row(fact: StoredFact, joined: bool) -> DerivedRow:
    return DerivedRow(
        "part_joined",
        {"event_id": fact.event_id, "event_type": fact.event_type, "joined": joined},
    )


def progress_row(branch: str, shard: int, watermark: float, open_keys: int, state: object):
    return DerivedRow(
        "pipeline_progress",
        {
            "branch": branch,
            "shard": shard,
            "watermark": datetime.fromtimestamp(watermark, UTC),
            "observed_at": datetime.now(UTC),
            "open_keys": open_keys,
            "state_bytes": len(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)),
        },
    )


class JoinInteractionsFn(beam.DoFn):
    """(shard, facts) -> interactions rows, joined flags, and contacts (tagged output)."""

    STATE = userstate.ReadModifyWriteStateSpec("join", PickleCoder())
    COLLECT = userstate.TimerSpec("collect", TimeDomain.WATERMARK)

    def __init__(self, settings: EventTimeSettings) -> None:
        self.horizon = settings.join_horizon.total_seconds()

    def process(
        self,
        element,
        state=beam.DoFn.StateParam(STATE),
        collect=beam.DoFn.TimerParam(COLLECT),
    ):
        _, facts = element
        shard = state.read() or JoinShard()
        touched, verdicts = add_parts(shard, facts, self.horizon)
        state.write(shard)
        deadline = shard.next_deadline()
        if deadline is not None:
            collect.set(Timestamp(deadline))
        now = datetime.now(UTC)
        for fact, joined in verdicts:
            yield joined_flag_row(fact, joined)
        for key in sorted(touched):
            parts = {event_id: part_fact(part) for event_id, part in shard.parts[key].items()}
            yield DerivedRow("interactions", interaction_row(parts, now))
            contact = contact_of(parts)
            if contact is not None:
                yield beam.pvalue.TaggedOutput(CONTACTS, contact)

    @userstate.on_timer(COLLECT)
    def collect(
        self,
        key=beam.DoFn.KeyParam,
        fired=beam.DoFn.TimestampParam,
        state=beam.DoFn.StateParam(STATE),
        collect=beam.DoFn.TimerParam(COLLECT),
    ):
        shard = state.read() or JoinShard()
        collect_expired(shard, fired.micros / 1e6, self.horizon)
        state.write(shard)
        deadline = shard.next_deadline()
        if deadline is not None:
            collect.set(Timestamp(deadline))
        yield progress_row("join", key, shard.watermark, len(shard.parts), shard)
