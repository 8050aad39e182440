"""The event-time knobs of the derived branches, in one value the graph passes around.

Every branch that reasons about event time (the interaction join, rollups, late
data, alerts, repeat contacts) and the reconciliation that recomputes them from
the facts read the same settings, so a recomputation can only differ from the
stream if the facts differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class EventTimeSettings:
    # The source's watermark trails the newest event time it has read by this much:
    # an event at most this much older than one read before it is not late.
    max_out_of_orderness: timedelta = timedelta(minutes=10)
    # How long after a rollup window's end (by the watermark) late data still updates
    # its row; later facts go to late_events and are folded in by a reconciliation.
    allowed_lateness: timedelta = timedelta(hours=2)
    # Width of the fixed event-time rollup windows; must divide a day.
    rollup_window: timedelta = timedelta(hours=1)
    # An interaction's join state lives this long (event time) after its latest part.
    join_horizon: timedelta = timedelta(days=7)
    # A customer who comes back within this long about the same cause is a repeat contact.
    repeat_window: timedelta = timedelta(days=7)
    # An alert opens when a cause's window volume scores at least this far above its
    # baseline, and only on at least alert_min_count events.
    alert_threshold: float = 4.0
    alert_min_count: int = 5
    # Keyed state is sharded this many ways per branch (see voc.transforms.derived).
    state_shards: int = 16

    def __post_init__(self) -> None:
        day = timedelta(days=1)
        if self.rollup_window <= timedelta(0) or day % self.rollup_window:
            raise ValueError(f"rollup window {self.rollup_window} must divide a day")
        for name in ("max_out_of_orderness", "allowed_lateness"):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"{name.replace('_', ' ')} must not be negative")
        for name in ("join_horizon", "repeat_window"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name.replace('_', ' ')} must be positive")
        if self.alert_threshold <= 0 or self.alert_min_count < 1:
            raise ValueError("alert threshold must be positive and its minimum count >= 1")
        if self.state_shards < 1:
            raise ValueError("state shards must be >= 1")


DEFAULT_SETTINGS = EventTimeSettings()
