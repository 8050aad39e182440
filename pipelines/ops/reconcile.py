"""Recompute the derived tables from the facts: repair them, or check the stream's.

    voc reconcile --duckdb voc.duckdb            # rebuild every derived table from the facts
    voc reconcile --duckdb voc.duckdb --check    # compare, change nothing; exit 1 on a difference

The stream derives interactions, rollups, alerts and repeat contacts with state
that a crash loses; the facts are the truth those tables are a function of. This
module is that function in batch: the same pure code the stream's steps call
(:mod:`voc.transforms.derived`), over every stored fact at once. Late events are
counted here (that is the "fold"): a window a late fact missed gets it back.

A job folds and rebuilds its recent past at every start (``prepare_start``);
this command does all of history, for a stopped job's file or a lake
(``--duckdb 'ducklake:postgres:...'``). On a lake every read goes through the
owners' one-row-per-key rule and a commit conflict is retried.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from voc.transforms.derived.cause_alerts import alerts_of_series
from voc.transforms.derived.interactions import contact_of, interaction_row
from voc.transforms.derived.repeat_contacts import repeat_pairs, repeat_row
from voc.transforms.derived.rollups import (
    Accumulator,
    CauseWindow,
    RollupKey,
    contacts_per_cause,
    contributions,
    fold_into,
    rollup_row,
)
from voc.transforms.derived.settings import EventTimeSettings
from voc.transforms.records import DerivedRow, StoredFact
from voc.transforms.sinks.derived_tables import DERIVED_TABLES
from voc.transforms.sinks.ducklake_store import DuckLakeStore, retry_conflicts
from voc.transforms.sinks.ducklake_views import read_deduplicated
from voc.transforms.sinks.stored_facts import newest_event_time, read_stored_facts
from voc.transforms.sinks.write_derived import write_derived_rows

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Recomputed tables, and the columns a comparison ignores (when a row was written).
RECOMPUTED = {
    "interactions": ("updated_at", "resolved_first_contact"),
    "issue_rollups": ("updated_at", "final"),
    "repeat_contacts": ("detected_at",),
    "alerts": ("updated_at",),
}


@dataclass
class Recomputed:
    rows: dict[str, list[dict[str, Any]]]
    facts: int


def recompute(
    facts: Iterable[StoredFact], settings: EventTimeSettings, now: datetime
) -> Recomputed:
    """Every derived row the facts imply (all windows final)."""
    parts: dict[str, dict[str, StoredFact]] = defaultdict(dict)
    windows: dict[RollupKey, Accumulator] = {}
    examples: dict[CauseWindow, list] = {}
    count = 0
    for fact in facts:
        count += 1
        if fact.joined is not False:
            parts[fact.interaction_id][fact.event_id] = fact
        fold_into(windows, examples, fact, contributions(fact, settings.rollup_window))

    interactions = [interaction_row(p, now) for _, p in sorted(parts.items())]
    by_customer = defaultdict(list)
    for interaction_parts in parts.values():
        contact = contact_of(interaction_parts)
        if contact is not None:
            by_customer[contact.customer_id].append(contact)
    repeats = [
        repeat_row(earlier, later, cause, department, now)
        for contacts in by_customer.values()
        for earlier, later, cause, department in repeat_pairs(contacts, settings.repeat_window)
    ]
    rollups = [
        rollup_row(key, acc, settings.rollup_window, True, now)
        for key, acc in sorted(windows.items())
    ]
    volumes: dict[tuple[str, str], dict[float, int]] = defaultdict(dict)
    for cause, contacts in contacts_per_cause(windows.items()).items():
        volumes[(cause.department, cause.cause_id)][cause.window_start] = contacts
    alerts = []
    for (department, cause), series in sorted(volumes.items()):
        alerts.extend(alerts_of_series(department, cause, series, examples, settings, now))
    return Recomputed(
        {
            "interactions": interactions,
            "repeat_contacts": repeats,
            "issue_rollups": rollups,
            "alerts": alerts,
        },
        count,
    )


def rebuild(cur, settings: EventTimeSettings) -> Recomputed:
    """Replace every recomputed table with the recomputation and fold the late events."""
    now = datetime.now(UTC)
    result = recompute(read_stored_facts(cur, EPOCH, now), settings, now)
    for name in RECOMPUTED:
        cur.execute(f"delete from {name}")
    # This also sets resolved_first_contact of every interaction it writes.
    write_derived_rows(
        cur, (DerivedRow(name, row) for name, rows in result.rows.items() for row in rows)
    )
    cur.execute("update late_events set folded_at = ? where folded_at is null", [now])
    return result


def differences(cur, settings: EventTimeSettings, limit: int = 5) -> list[str]:
    """How the stored derived tables differ from a recomputation (empty: they agree).

    Facts still waiting in late_events (not folded yet) are left out of the
    recomputation's rollups and alerts, as the stream left them out."""
    now = datetime.now(UTC)
    read_deduplicated(cur, (*RECOMPUTED, "late_events"))  # a lake's: one row per key
    facts = list(read_stored_facts(cur, EPOCH, now + timedelta(days=1)))
    unfolded = {
        row[0]
        for row in cur.execute(
            "select event_id from late_events where folded_at is null"
        ).fetchall()
    }
    result = recompute(facts, settings, now)
    if unfolded:
        counted = recompute([f for f in facts if f.event_id not in unfolded], settings, now)
        result.rows["issue_rollups"] = counted.rows["issue_rollups"]
        result.rows["alerts"] = counted.rows["alerts"]
    problems = []
    for name, ignored in RECOMPUTED.items():
        table = DERIVED_TABLES[name]
        columns = [c for c in table.schema.names if c not in ignored]
        keys = len(table.key)
        stored = {
            tuple(_comparable(v) for v in row[:keys]): tuple(_comparable(v) for v in row[keys:])
            for row in cur.execute(
                f"select {', '.join([*table.key, *columns])} from {name}"
            ).fetchall()
        }
        expected = {
            tuple(_comparable(row[k]) for k in table.key): tuple(
                _comparable(row[c]) for c in columns
            )
            for row in result.rows[name]
        }
        missing = sorted(set(expected) - set(stored))
        extra = sorted(set(stored) - set(expected))
        changed = sorted(k for k in set(expected) & set(stored) if expected[k] != stored[k])
        for label, keys in (
            ("missing", missing),
            ("not in the facts", extra),
            ("different", changed),
        ):
            if keys:
                shown = "; ".join(
                    _describe(columns, expected.get(k), stored.get(k)) for k in keys[:limit]
                )
                problems.append(f"{name}: {len(keys):,} rows {label}: {shown}")
    return problems


def _comparable(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    return value


def _describe(columns: list[str], expected: tuple | None, stored: tuple | None) -> str:
    if expected is None or stored is None:
        row = expected or stored
        return ", ".join(f"{c}={v!r}" for c, v in zip(columns[:3], row, strict=False))
    diffs = [
        f"{c}: stored {s!r}, facts say {e!r}"
        for c, e, s in zip(columns, expected, stored, strict=True)
        if e != s
    ]
    return f"{expected[0]!r} " + ", ".join(diffs[:3])


def replay_since(cur, settings: EventTimeSettings) -> datetime | None:
    """Where a starting job's replay of stored facts begins: far enough back to rebuild
    the join state (and its tombstones), the repeat window and the open rollup windows."""
    newest = newest_event_time(cur)
    if newest is None:
        return None
    reach = max(2 * settings.join_horizon, settings.join_horizon + settings.repeat_window)
    return newest - reach - settings.allowed_lateness


def prepare_start(store, settings: EventTimeSettings) -> tuple[datetime, datetime] | None:
    """Before a job starts: fold late events and say which stored facts to replay.

    Returns (since, stored_before) for the replay (None on an empty file). Late
    events inside the replay are folded by the replay itself (the rebuilt state
    has no watermark yet, so they count); one older than that makes this rebuild
    every derived table from the facts first, which is rare and thorough.
    """
    started = datetime.now(UTC)

    def work(cur):
        since = replay_since(cur, settings)
        if since is None:
            return None
        (older,) = cur.execute(
            "select count(*) from late_events where folded_at is null and event_time < ?",
            [since],
        ).fetchone()
        if older:
            rebuild(cur, settings)
        else:
            cur.execute("update late_events set folded_at = ? where folded_at is null", [started])
        return since, started

    if isinstance(store, DuckLakeStore):
        return in_lake_transaction(store, work, "preparing the start")
    return store.in_transaction(work)


def in_lake_transaction(store: DuckLakeStore, work, what: str):
    """``work(cur)`` in one lake transaction, again after a commit conflict (another
    writer changed a derived row this one read or deletes)."""
    return retry_conflicts(lambda: store.in_transaction(work), f"{what} on {store.path}")
