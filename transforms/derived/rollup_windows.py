"""Fixed event-time windows of issue rollups, late data, and spike alerts, in one stateful step.

Keyed by a shard of (department, cause), so every channel and both levels of a
cause, and the cause's alert baseline, live in one state.

Why windows by hand instead of ``WindowInto`` + ``CombinePerKey``: Beam drops data
behind the allowed lateness silently (a counter, no output), and the issue asks
that such data land in ``late_events`` with its reason. Here the step sees the
watermark through its own event-time timer (it fires at each open window's
deadline, window end + allowed lateness), so it can tell late data apart:

- a fact whose window's deadline the watermark has passed (as last observed) is
  written to ``late_events`` and kept out of the rollup; the reconciliation folds
  it in (the job runs it at every start, ``voc reconcile`` on demand);
- any other fact is added to its window's accumulator and the window's row is
  upserted at once, ``final = false``: late data within the lateness updates the
  same row, never a second one;
- when the timer passes a window's deadline its row is written ``final = true``,
  and each cause of the shard is evaluated for spikes window by window (windows
  without data count as zero), in window order.

The observed watermark trails the true one by at most a window (the timer fires at
deadlines only), so a fact can be accepted that Beam would have called late by
less than that: it is counted, never lost.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.timestamp import Timestamp

from voc.transforms.derived.cause_alerts import CauseAlerts, CauseHistory, alert_rows_for
from voc.transforms.derived.interactions import NO_CAUSE
from voc.transforms.derived.join_interactions import progress_row
from voc.transforms.derived.rollups import (
    Accumulator,
    CauseWindow,
    RollupKey,
    contacts_per_cause,
    contributions,
    fold_into,
    rollup_row,
    to_datetime,
    window_start,
)
from voc.transforms.derived.settings import EventTimeSettings
from voc.transforms.derived.shard_batches import stable_shard
from voc.transforms.records import DerivedRow, StoredFact

LATE_REASON = "beyond_allowed_lateness"


def cause_key(department: str, cause_id: str) -> str:
    """The key a cause's shard is chosen by (stable_shard of it)."""
    return f"{department}\x1f{cause_id}"


# Where a fact without a cause goes: it counts in no rollup, but a late one is still
# recorded in late_events.
NO_CAUSE_KEY = cause_key("", "")


def rollup_keys_of(element: StoredFact | CauseHistory) -> list[str]:
    """The cause keys whose shards an element goes to."""
    if isinstance(element, CauseHistory):
        return [cause_key(element.department, element.cause_id)]
    keys = [cause_key(c.department, c.cause_id) for c in element.causes if c.cause_id != NO_CAUSE]
    return keys or [NO_CAUSE_KEY]


@dataclass
class RollupShard:
    windows: dict[RollupKey, Accumulator] = field(default_factory=dict)
    # Alert example candidates per cause and window (see rollups.keep_example).
    examples: dict[CauseWindow, list] = field(default_factory=dict)
    alerts: CauseAlerts = field(default_factory=CauseAlerts)
    watermark: float = -math.inf
    # The deadline of the newest window a fact fell in here or elsewhere (an empty
    # batch says how far event time came), and the one the timer waits for when no
    # window is open: a shard of rare causes keeps observing the watermark, so it
    # can tell a later fact late. Once set, the tick is not moved until it fires:
    # moved with every batch it would never fire while the stream flows.
    newest_deadline: float = -math.inf
    tick: float | None = None

    def next_deadline(self, width: float, lateness: float) -> float | None:
        """The timer's next time; arms the tick if none is pending, so the state must be
        written after this is called (a tick lost from state would move each batch)."""
        if self.tick is None and self.newest_deadline > self.watermark:
            self.tick = self.newest_deadline
        deadlines = {key.window_start + width + lateness for key in self.windows}
        if self.tick is not None:
            deadlines.add(self.tick)
        return min(deadlines) if deadlines else None

    def observe(self, fired: float) -> None:
        """The timer fired at ``fired``: the watermark is at least there."""
        self.watermark = max(self.watermark, fired)
        if self.tick is not None and self.tick <= fired:
            self.tick = None


def deadline_of(epoch: float, width: timedelta, lateness: timedelta) -> float:
    """When the window holding ``epoch`` closes for good: its end plus the lateness."""
    seconds = width.total_seconds()
    return (epoch // seconds + 1) * seconds + lateness.total_seconds()


@dataclass(frozen=True)
class LateFact:
    fact: StoredFact
    window_start: float
    watermark: float


def add_facts(
    shard: RollupShard,
    facts: tuple[StoredFact | CauseHistory, ...],
    settings: EventTimeSettings,
    belongs: Callable[[str], bool] = lambda key: True,
) -> tuple[set[RollupKey], list[LateFact]]:
    """Fold facts into their windows; returns the keys changed and the late facts.

    ``belongs(cause_key)`` says whether a cause is this shard's (a fact with causes
    in several shards reaches each of them). A CauseHistory (a restart's stored
    past) only teaches the cause's alert baseline."""
    width = settings.rollup_window
    touched: set[RollupKey] = set()
    late: list[LateFact] = []
    for fact in facts:
        if isinstance(fact, CauseHistory):
            shard.alerts.learn(fact, settings)
            continue
        start = window_start(fact.event_time, width)
        counted = contributions(fact, width)
        mine = [
            (key, evidence)
            for key, evidence in counted
            if belongs(cause_key(key.department, key.cause_id))
        ]
        if not mine and (counted or not belongs(NO_CAUSE_KEY)):
            continue
        deadline = deadline_of(fact.event_time.timestamp(), width, settings.allowed_lateness)
        shard.newest_deadline = max(shard.newest_deadline, deadline)
        if deadline <= shard.watermark:
            late.append(LateFact(fact, start, shard.watermark))
            continue
        fold_into(shard.windows, shard.examples, fact, mine)
        touched.update(key for key, _ in mine)
    return touched, late


def close_windows(
    shard: RollupShard, fired: float, settings: EventTimeSettings
) -> tuple[list[tuple[RollupKey, Accumulator]], dict[CauseWindow, int], dict[CauseWindow, list]]:
    """Remove the windows whose deadline is at or before ``fired``; returns them, the
    contacts of each (cause, window) across channels, and their examples."""
    width = settings.rollup_window.total_seconds()
    lateness = settings.allowed_lateness.total_seconds()
    shard.observe(fired)
    closed = sorted(
        (
            (key, acc)
            for key, acc in shard.windows.items()
            if key.window_start + width + lateness <= fired
        ),
        key=lambda item: item[0],
    )
    for key, _ in closed:
        del shard.windows[key]
    volumes = contacts_per_cause(closed)
    examples = {cause: shard.examples.pop(cause, []) for cause in volumes}
    return closed, volumes, examples


def late_row(late: LateFact, width: timedelta, detected_at: datetime) -> DerivedRow:
    end = late.window_start + width.total_seconds()
    return DerivedRow(
        "late_events",
        {
            "event_id": late.fact.event_id,
            "event_type": late.fact.event_type,
            "event_time": late.fact.event_time,
            "window_start": to_datetime(late.window_start),
            "watermark": to_datetime(late.watermark),
            "lateness_seconds": round(late.watermark - end, 3),
            "reason": LATE_REASON,
            "detected_at": detected_at,
            "folded_at": None,
        },
    )


class RollupWindowsFn(beam.DoFn):
    """(shard, facts) -> issue_rollups rows, late_events rows, alerts rows."""

    STATE = userstate.ReadModifyWriteStateSpec("rollups", PickleCoder())
    CLOSE = userstate.TimerSpec("close", TimeDomain.WATERMARK)

    def __init__(self, settings: EventTimeSettings) -> None:
        self.settings = settings

    def _set_timer(self, shard: RollupShard, timer) -> None:
        deadline = shard.next_deadline(
            self.settings.rollup_window.total_seconds(),
            self.settings.allowed_lateness.total_seconds(),
        )
        if deadline is not None:
            timer.set(Timestamp(deadline))

    def process(
        self,
        element,
        timestamp=beam.DoFn.TimestampParam,
        state=beam.DoFn.StateParam(STATE),
        close=beam.DoFn.TimerParam(CLOSE),
    ):
        shard_number, facts = element
        shards = self.settings.state_shards
        shard = state.read() or RollupShard()
        if not facts:  # event time came this far elsewhere: chase it with the timer
            newest = deadline_of(
                timestamp.micros / 1e6, self.settings.rollup_window,
                self.settings.allowed_lateness,
            )  # fmt: skip
            if newest > shard.newest_deadline:
                shard.newest_deadline = newest
                self._set_timer(shard, close)
                state.write(shard)
            return
        touched, late = add_facts(
            shard, facts, self.settings, lambda key: stable_shard(key, shards) == shard_number
        )
        self._set_timer(shard, close)
        state.write(shard)
        now = datetime.now(UTC)
        width = self.settings.rollup_window
        for key in sorted(touched):
            yield DerivedRow(
                "issue_rollups", rollup_row(key, shard.windows[key], width, False, now)
            )
        for item in late:
            yield late_row(item, width, now)

    @userstate.on_timer(CLOSE)
    def close(
        self,
        key=beam.DoFn.KeyParam,
        fired=beam.DoFn.TimestampParam,
        state=beam.DoFn.StateParam(STATE),
        close=beam.DoFn.TimerParam(CLOSE),
    ):
        shard = state.read() or RollupShard()
        at = fired.micros / 1e6
        closed, volumes, examples = close_windows(shard, at, self.settings)
        events = shard.alerts.evaluate(volumes, examples, self.settings)
        self._set_timer(shard, close)
        state.write(shard)
        now = datetime.now(UTC)
        width = self.settings.rollup_window
        for rollup_key, acc in closed:
            yield DerivedRow("issue_rollups", rollup_row(rollup_key, acc, width, True, now))
        for row in alert_rows_for(events, now):
            yield DerivedRow("alerts", row)
        yield progress_row("rollups", key, shard.watermark, len(shard.windows), shard)
