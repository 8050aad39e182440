"""Spike alerts of every cause a rollup shard holds, as rows of the alerts table.

:mod:`.spike_alerts` judges one cause's series of window volumes; this module
keeps one baseline per (department, cause), feeds it each closed window in
order, and turns its events into ``alerts`` rows with example verbatims of the
opening window. A cause is evaluated on its own windows only (the gaps between
them count as zero), so its alerts are a function of its own series: the
stream, a restarted stream fed the stored history, and a recomputation from
the facts all open and close the same alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from voc.transforms.derived.rollups import CauseWindow, examples_json, to_datetime
from voc.transforms.derived.settings import EventTimeSettings
from voc.transforms.derived.spike_alerts import AlertEvent, AlertRule, BaselineState, replay

Cause = tuple[str, str]  # (department, cause_id)


class CauseHistory(NamedTuple):
    """A cause's closed windows before a replay, read back from issue_rollups, so a
    restarted job's baseline is the one it had (alerts need weeks of history)."""

    department: str
    cause_id: str
    series: tuple[tuple[float, int], ...]  # (window start epoch, volume), in order
    open_examples: str  # examples of the alert open at the end of the series, or ""


def alert_id(department: str, cause_id: str, opened: datetime) -> str:
    return f"{department}:{cause_id}:{opened.strftime('%Y-%m-%dT%H:%MZ')}"


def alert_row(
    cause: Cause, event: AlertEvent, examples: str, updated_at: datetime
) -> dict[str, Any]:
    department, cause_id = cause
    return {
        "alert_id": alert_id(department, cause_id, event.opened_window_start),
        "department": department,
        "cause_id": cause_id,
        "status": event.status,
        "opened_window_start": event.opened_window_start,
        "last_window_start": event.last_window_start,
        "closed_window_start": event.closed_window_start,
        "observed": event.observed,
        "expected": round(event.expected, 4),
        "score": round(event.score, 4),
        "peak_observed": event.peak_observed,
        "peak_score": round(event.peak_score, 4),
        "method": event.method,
        "examples": examples,
        "updated_at": updated_at,
    }


@dataclass
class CauseAlerts:
    baselines: dict[Cause, BaselineState] = field(default_factory=dict)
    # The open alert's examples (of its opening window), per cause.
    open_examples: dict[Cause, str] = field(default_factory=dict)

    def learn(self, history: CauseHistory, settings: EventTimeSettings) -> None:
        """Take a cause's stored history as if its windows had been evaluated here."""
        cause = (history.department, history.cause_id)
        series = [(to_datetime(start), volume) for start, volume in history.series]
        self._run(cause, series, {}, settings)
        if history.open_examples:
            self.open_examples[cause] = history.open_examples

    def evaluate(
        self,
        volumes: dict[CauseWindow, int],
        examples: dict[CauseWindow, list],
        settings: EventTimeSettings,
    ) -> list[tuple[Cause, AlertEvent, str]]:
        """Feed each cause its closed windows, in order; returns (cause, event, examples)."""
        by_cause: dict[Cause, list[tuple[datetime, int]]] = {}
        for window, volume in sorted(volumes.items()):
            by_cause.setdefault((window.department, window.cause_id), []).append(
                (to_datetime(window.window_start), volume)
            )
        found = []
        for cause, series in sorted(by_cause.items()):
            found.extend(self._run(cause, series, examples, settings))
        return found

    def _run(
        self,
        cause: Cause,
        series: list[tuple[datetime, int]],
        examples: dict[CauseWindow, list],
        settings: EventTimeSettings,
    ) -> list[tuple[Cause, AlertEvent, str]]:
        state = self.baselines.get(cause)
        if state is not None:
            # A window at or before the last one evaluated (a replay overlapping the
            # stored history) was already learned.
            series = [(start, v) for start, v in series if start.timestamp() > state.last_start]
        if not series:
            return []
        state, events = replay(series, AlertRule.from_settings(settings), state)
        self.baselines[cause] = state
        found = []
        for event in events:
            if event.kind == "opened":
                opening = CauseWindow(event.opened_window_start.timestamp(), *cause)
                self.open_examples[cause] = examples_json(examples.get(opening, []))
            shown = self.open_examples.get(cause, "[]")
            if event.kind == "closed":
                self.open_examples.pop(cause, None)
            found.append((cause, event, shown))
        return found


def alert_rows_for(events: list[tuple[Cause, AlertEvent, str]], now: datetime) -> list[dict]:
    return [alert_row(cause, event, shown, now) for cause, event, shown in events]


def alerts_of_series(
    department: str,
    cause_id: str,
    series: dict[float, int],
    examples: dict[CauseWindow, list],
    settings: EventTimeSettings,
    now: datetime,
) -> list[dict[str, Any]]:
    """The alerts rows a whole series of one cause's window volumes ends with."""
    alerts = CauseAlerts()
    volumes = {CauseWindow(start, department, cause_id): volume for start, volume in series.items()}
    latest: dict[str, dict[str, Any]] = {}
    for row in alert_rows_for(alerts.evaluate(volumes, examples, settings), now):
        latest[row["alert_id"]] = row
    return list(latest.values())
