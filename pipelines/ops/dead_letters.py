"""``voc dlq``: look at, replay and purge the dead-letter table.

    voc dlq list                             unresolved dead letters grouped by reason
    voc dlq list --reason schema_violation   the rows behind one reason
    voc dlq replay --reason unknown_schema_version   re-publish after a fix
    voc dlq purge --older-than 30d           retention for the raw payloads

The table is restricted: ``data`` holds raw payloads, personal data included,
which is why it is the only place they are kept and why purging has a command.

A replay re-publishes a dead letter's raw bytes and attributes, adding
``voc_replay_of=<dead_letter_id>``. When the fix worked, the job stores the event
(keyed on event_id, so replaying twice cannot double it) and marks the dead
letter resolved; when it did not, the same row takes the new failure. Either
way nothing is counted twice.

DuckDB allows one writing process per file: while a job runs, the CLI reads
through the job and sends the purge and the replay marks to the job's inbox
(:mod:`voc.pipelines.ops.owner_changes`); the functions here only need a
connection, whichever process holds it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from voc.pipelines.topology import TOPIC_FOR_EVENT_TYPE
from voc.transforms.records import REPLAY_ATTRIBUTE

_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# The longest retention accepted: the purge cutoff (now - age) must stay a real date
# (datetime ends at year 1), and a century is beyond any retention policy.
MAX_AGE = timedelta(days=36_525)
# 100 years is 52,596,000 minutes: a number with more digits is too long in any unit,
# and is refused before int() or timedelta() could overflow on it.
_MAX_AGE_DIGITS = 8


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``: retention periods as operators write them."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30d, 12h, 90m or 2w")
    digits, unit = match.groups()
    fits = len(digits.lstrip("0")) <= _MAX_AGE_DIGITS
    age = timedelta(**{_UNIT[unit]: int(digits)}) if fits else None
    if age is None or age > MAX_AGE:
        raise ValueError(f"{text!r} is more than 100 years")
    return age


def _filters(
    reason: str | None, stage: str | None, include_resolved: bool
) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if not include_resolved:
        clauses.append("resolved_at is null")
    if reason is not None:
        clauses.append("reason = ?")
        params.append(reason)
    if stage is not None:
        clauses.append("stage = ?")
        params.append(stage)
    return (" where " + " and ".join(clauses)) if clauses else "", params


def summarize(
    con: duckdb.DuckDBPyConnection, include_resolved: bool = False
) -> tuple[list[str], list[tuple]]:
    """Dead letters grouped by stage and reason, biggest group first."""
    where, params = _filters(None, None, include_resolved)
    columns = [
        "stage",
        "reason",
        "count",
        "replayed",
        "resolved",
        "first_seen",
        "last_seen",
        "example",
    ]
    rows = con.execute(
        f"""
        select stage, reason, count(*),
               count(*) filter (where replay_count > 0),
               count(*) filter (where resolved_at is not null),
               min(received_at)::timestamp(0),
               max(coalesce(last_failed_at, received_at))::timestamp(0),
               left(min(error), 80)
        from dead_letters{where}
        group by stage, reason
        order by count(*) desc, stage, reason
        """,
        params,
    ).fetchall()
    return columns, rows


def entries(
    con: duckdb.DuckDBPyConnection,
    reason: str,
    stage: str | None = None,
    include_resolved: bool = False,
    limit: int = 50,
) -> tuple[list[str], list[tuple]]:
    """The rows behind one reason, newest first; the raw payload only by size."""
    where, params = _filters(reason, stage, include_resolved)
    columns = ["dead_letter_id", "received_at", "stage", "replays", "bytes", "error"]
    rows = con.execute(
        f"""
        select dead_letter_id, received_at::timestamp(0), stage, replay_count,
               octet_length(data), left(error, 100)
        from dead_letters{where}
        order by received_at desc
        limit {int(limit)}
        """,
        params,
    ).fetchall()
    return columns, rows


@dataclass(frozen=True)
class ReplayMessage:
    """A dead letter on its way back to its topic."""

    dead_letter_id: str
    topic: str
    data: bytes
    attributes: dict[str, str]


@dataclass(frozen=True)
class ReplayPlan:
    messages: list[ReplayMessage]
    # dead_letter_id -> why it cannot be replayed (no topic to send it to).
    skipped: dict[str, str]


# Dead letters whose stored bytes are not the message: replaying them would publish
# something else than what was sent.
UNREPLAYABLE = {
    "too_large": "only the first bytes of a too-large message are kept; it cannot be replayed",
}


def plan_replay(
    con: duckdb.DuckDBPyConnection,
    reason: str,
    stage: str | None = None,
    include_resolved: bool = False,
    topic: str | None = None,
) -> ReplayPlan:
    """Which dead letters go back to which topic; ``topic`` overrides the event type's."""
    where, params = _filters(reason, stage, include_resolved)
    rows = con.execute(
        f"select dead_letter_id, reason, attributes, data from dead_letters{where} "
        "order by received_at",
        params,
    ).fetchall()
    messages, skipped = [], {}
    for dead_letter_id, row_reason, attributes_json, data in rows:
        if row_reason in UNREPLAYABLE:
            skipped[dead_letter_id] = UNREPLAYABLE[row_reason]
            continue
        attributes = {str(k): str(v) for k, v in json.loads(attributes_json).items()}
        target = topic or TOPIC_FOR_EVENT_TYPE.get(attributes.get("event_type", ""))
        if target is None:
            skipped[dead_letter_id] = (
                f"event_type={attributes.get('event_type')!r} names no topic; pass --topic"
            )
            continue
        attributes[REPLAY_ATTRIBUTE] = dead_letter_id
        messages.append(ReplayMessage(dead_letter_id, target, bytes(data), attributes))
    return ReplayPlan(messages, skipped)


def mark_replayed(
    con: duckdb.DuckDBPyConnection, dead_letter_ids: Sequence[str], now: datetime | None = None
) -> None:
    if not dead_letter_ids:
        return
    con.execute(
        "update dead_letters set replay_count = coalesce(replay_count, 0) + 1, "
        "last_replayed_at = ? where dead_letter_id in (select unnest(?))",
        [now or datetime.now(UTC), list(dead_letter_ids)],
    )


def replay(
    con: duckdb.DuckDBPyConnection,
    publish: Callable[[list[ReplayMessage]], Sequence[str]],
    reason: str,
    stage: str | None = None,
    include_resolved: bool = False,
    topic: str | None = None,
    mark: Callable[[list[str]], object] | None = None,
) -> ReplayPlan:
    """Publish first, then record the replay: a crash in between means a second
    replay of the same rows, which the keys make harmless; the other order could
    record a replay that never happened.

    ``con`` only needs to read (``execute(...).fetchall()``); ``mark`` records the
    replay (default: :func:`mark_replayed` on ``con``; the CLI sends it to the
    running job instead)."""
    plan = plan_replay(con, reason, stage, include_resolved, topic)
    if plan.messages:
        publish(plan.messages)
        ids = [message.dead_letter_id for message in plan.messages]
        if mark is None:
            mark_replayed(con, ids)
        else:
            mark(ids)
    return plan


def purge(
    con: duckdb.DuckDBPyConnection,
    older_than: timedelta,
    reason: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    checkpoint: bool = True,
) -> int:
    """Delete dead letters received before ``now - older_than``; returns how many.

    ``checkpoint=False`` inside a transaction (DuckDB checkpoints only outside one);
    the caller checkpoints after its commit."""
    cutoff = (now or datetime.now(UTC)) - older_than
    where, params = _filters(reason, None, include_resolved=True)
    where = (where + " and" if where else " where") + " received_at < ?"
    params.append(cutoff)
    count = con.execute(f"select count(*) from dead_letters{where}", params).fetchone()[0]
    if count and not dry_run:
        con.execute(f"delete from dead_letters{where}", params)
    if count and not dry_run and checkpoint:
        # Checkpoint now so the freed blocks are released to new data at once rather
        # than at the next automatic checkpoint (DuckDB does not zero them).
        con.execute("checkpoint")
    return count
