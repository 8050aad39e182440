"""The DuckDB file the pipeline loads and department owners query.

One writer per file: DuckDB lets one process open a file read-write, so the
store is shared by every DoFn instance and thread of this process (the legacy
DirectRunner re-creates DoFns per bundle; reopening the file and running DDL per
bundle would dominate the cost). Writes are serialised by a lock and go in as
Arrow tables, hundreds to thousands of rows per transaction, which is ~30x
faster than row-by-row inserts here.

Idempotence: fact tables are keyed on ``event_id`` and written with
``INSERT OR IGNORE ... RETURNING``; tags are written only for events that were
really inserted in the same transaction. A redelivered message therefore never
adds a row, even if the taxonomy changed in between.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from voc.transforms.records import REPLAY_ATTRIBUTE, DeadLetter, TaggedEvent

_TS = pa.timestamp("us", tz="UTC")

# Arrow schemas of the batches; column names match sql/migrations. Inserts go
# BY NAME, so column order here does not matter.
_FACT_COMMON = [
    ("event_id", pa.string()),
    ("interaction_id", pa.string()),
    ("channel", pa.string()),
    ("sentiment_score", pa.float64()),
    ("sentiment_label", pa.string()),
    ("schema_version", pa.int32()),
    ("message_id", pa.string()),
    ("published_at", _TS),
    ("ingested_at", _TS),
]
SURVEY_COLUMNS = pa.schema(
    [
        *_FACT_COMMON,
        ("customer_id", pa.string()),
        ("submitted_at", _TS),
        ("csat", pa.int8()),
        ("nps", pa.int8()),
        ("ces", pa.int8()),
        ("resolved", pa.bool_()),
        ("comment", pa.string()),
        ("language", pa.string()),
        ("product_area", pa.string()),
    ]
)
NOTE_COLUMNS = pa.schema(
    [
        *_FACT_COMMON,
        ("agent_id", pa.string()),
        ("team", pa.string()),
        ("created_at", _TS),
        ("handle_seconds", pa.int32()),
        ("hold_seconds", pa.int32()),
        ("transfers", pa.int32()),
        ("note", pa.string()),
    ]
)
TAG_COLUMNS = pa.schema(
    [
        ("event_id", pa.string()),
        ("source", pa.string()),
        ("interaction_id", pa.string()),
        ("event_time", _TS),
        ("cause_id", pa.string()),
        ("department", pa.string()),
        ("evidence", pa.string()),
        ("sentiment_score", pa.float64()),
        ("sentiment_label", pa.string()),
        ("taxonomy_version", pa.int32()),
        ("tagged_at", _TS),
        ("first_for_department", pa.bool_()),
        ("csat", pa.int8()),
    ]
)
DEAD_LETTER_COLUMNS = pa.schema(
    [
        ("dead_letter_id", pa.string()),
        ("received_at", _TS),
        ("stage", pa.string()),
        ("reason", pa.string()),
        ("error", pa.string()),
        ("exception_type", pa.string()),
        ("stack", pa.string()),
        ("message_id", pa.string()),
        ("published_at", _TS),
        ("attributes", pa.string()),
        ("data", pa.binary()),
    ]
)
FACT_TABLE = {"survey": "surveys", "agent_note": "agent_notes"}


# -- pure: records -> rows ----------------------------------------------------


def fact_row(tagged: TaggedEvent, now: datetime) -> dict[str, Any]:
    event, payload = tagged.event, tagged.event.payload
    row: dict[str, Any] = {
        "event_id": event.event_id,
        "interaction_id": event.interaction_id,
        "channel": payload["channel"],
        "sentiment_score": tagged.sentiment.compound,
        "sentiment_label": tagged.sentiment.label,
        "schema_version": event.schema_version,
        "message_id": event.message.message_id or None,
        "published_at": event.message.publish_time,
        "ingested_at": now,
    }
    if event.event_type == "survey":
        row.update(
            customer_id=payload["customer_id"],
            submitted_at=event.event_time,
            csat=payload.get("csat"),
            nps=payload.get("nps"),
            ces=payload.get("ces"),
            resolved=payload["resolved"],
            comment=tagged.text,
            language=payload["language"],
            # Survey v2 and later; v1 never has it, so NULL there.
            product_area=payload.get("product_area"),
        )
    else:
        row.update(
            agent_id=payload["agent_id"],
            team=payload["team"],
            created_at=event.event_time,
            handle_seconds=payload["handle_seconds"],
            hold_seconds=payload["hold_seconds"],
            transfers=payload["transfers"],
            note=tagged.text,
        )
    return row


def tag_rows(tagged: TaggedEvent, now: datetime) -> list[dict[str, Any]]:
    event = tagged.event
    csat = event.payload.get("csat") if event.event_type == "survey" else None
    seen_departments: set[str] = set()
    rows = []
    for cause in tagged.causes:
        rows.append(
            {
                "event_id": event.event_id,
                "source": event.event_type,
                "interaction_id": event.interaction_id,
                "event_time": event.event_time,
                "cause_id": cause.cause_id,
                "department": cause.department,
                "evidence": cause.evidence,
                "sentiment_score": tagged.sentiment.compound,
                "sentiment_label": tagged.sentiment.label,
                "taxonomy_version": tagged.taxonomy_version,
                "tagged_at": now,
                # Lets department queries count events without count(distinct).
                "first_for_department": cause.department not in seen_departments,
                "csat": csat,
            }
        )
        seen_departments.add(cause.department)
    return rows


def dead_letter_row(dead: DeadLetter) -> dict[str, Any]:
    return {
        "dead_letter_id": dead.dead_letter_id,
        "received_at": dead.received_at,
        "stage": dead.stage,
        "reason": dead.reason,
        "error": dead.error,
        "exception_type": dead.exception_type,
        "stack": dead.stack,
        "message_id": dead.message_id or None,
        "published_at": dead.publish_time,
        "attributes": json.dumps(dead.attributes, sort_keys=True),
        "data": dead.data,
    }


@dataclass
class WriteBatch:
    """Rows of one transaction, grouped by table."""

    surveys: list[dict[str, Any]] = field(default_factory=list)
    agent_notes: list[dict[str, Any]] = field(default_factory=list)
    feedback_tags: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    # Dead letters whose replay was stored as an event in this batch.
    resolved_dead_letters: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.surveys) + len(self.agent_notes) + len(self.dead_letters)


def build_batch(
    records: Iterable[TaggedEvent | DeadLetter], now: datetime | None = None
) -> WriteBatch:
    now = now or datetime.now(UTC)
    batch = WriteBatch()
    for record in records:
        if isinstance(record, DeadLetter):
            batch.dead_letters.append(dead_letter_row(record))
        else:
            getattr(batch, FACT_TABLE[record.event.event_type]).append(fact_row(record, now))
            batch.feedback_tags.extend(tag_rows(record, now))
            replay_of = record.event.message.attributes.get(REPLAY_ATTRIBUTE)
            if replay_of:
                batch.resolved_dead_letters.append(replay_of)
    return batch


@dataclass(frozen=True)
class WriteResult:
    """How many rows were new; the rest were redeliveries the key ignored."""

    surveys: int
    agent_notes: int
    feedback_tags: int
    dead_letters: int


# -- migrations ---------------------------------------------------------------

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every file in sql/migrations, in order."""
    folder = resources.files("voc.sql") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations this file has not seen yet; returns their names."""
    con.execute(
        "create table if not exists schema_migrations ("
        " version integer primary key, name varchar not null, applied_at timestamptz not null)"
    )
    done = {row[0] for row in con.execute("select version from schema_migrations").fetchall()}
    applied = []
    for version, name, sql in migration_files():
        if version in done:
            continue
        con.execute("begin transaction")
        try:
            con.execute(sql)
            con.execute(
                "insert into schema_migrations values (?, ?, ?)",
                [version, name, datetime.now(UTC)],
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        applied.append(name)
    return applied


# -- the store -----------------------------------------------------------------


class DuckDBStore:
    """The one read-write connection of this process to one DuckDB file.

    The connection is opened on first use, not in the constructor, so a file
    that is locked by another process, or on a full disk, is one more condition
    the caller retries (see :mod:`voc.transforms.sinks.retry_sink`) rather than a crash.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.con: duckdb.DuckDBPyConnection | None = None
        self.lock = threading.Lock()

    def open(self) -> None:
        """Connect and migrate if not done yet; errors leave the store closed."""
        with self.lock:
            self._connection()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self.con is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(self.path)
            try:
                apply_migrations(con)
            except Exception:
                con.close()
                raise
            self.con = con
        return self.con

    def write(self, batch: WriteBatch) -> WriteResult:
        """One transaction for the whole batch: facts, their tags and dead letters."""
        with self.lock:
            cur = self._connection().cursor()
            try:
                cur.execute("begin transaction")
                new_surveys = self._insert_new(
                    cur, "surveys", batch.surveys, SURVEY_COLUMNS, "event_id"
                )
                new_notes = self._insert_new(
                    cur, "agent_notes", batch.agent_notes, NOTE_COLUMNS, "event_id"
                )
                new_ids = set(new_surveys) | set(new_notes)
                tags = [row for row in batch.feedback_tags if row["event_id"] in new_ids]
                new_tags = self._insert_new(cur, "feedback_tags", tags, TAG_COLUMNS, "event_id")
                new_dead = self._upsert_dead_letters(cur, batch.dead_letters)
                if batch.resolved_dead_letters:
                    cur.execute(
                        "update dead_letters set resolved_at = ? "
                        "where dead_letter_id in (select unnest(?)) and resolved_at is null",
                        [datetime.now(UTC), batch.resolved_dead_letters],
                    )
                cur.execute("commit")
            except Exception as error:
                # A failed commit has already ended the transaction; rolling back
                # again would raise and hide the error that matters.
                with suppress(duckdb.Error):
                    cur.execute("rollback")
                if isinstance(error, duckdb.FatalException) or "invalidated" in str(error):
                    self._disconnect()
                raise
            finally:
                with suppress(duckdb.Error):
                    cur.close()
        return WriteResult(len(new_surveys), len(new_notes), len(new_tags), len(new_dead))

    @staticmethod
    def _upsert_dead_letters(cur, rows: list[dict[str, Any]]) -> list[str]:
        """Insert new dead letters; a known one (a redelivery, or a replay that failed
        again) keeps its row and raw bytes but takes the latest failure. Returns the
        ids that were new."""
        if not rows:
            return []
        latest = list({row["dead_letter_id"]: row for row in rows}.values())
        with _registered(cur, latest, DEAD_LETTER_COLUMNS):
            known = {
                row[0]
                for row in cur.execute(
                    "select dead_letter_id from dead_letters "
                    "where dead_letter_id in (select dead_letter_id from voc_batch)"
                ).fetchall()
            }
            cur.execute(
                "insert into dead_letters by name select * from voc_batch "
                "on conflict (dead_letter_id) do update set stage = excluded.stage, "
                "reason = excluded.reason, error = excluded.error, "
                "exception_type = excluded.exception_type, stack = excluded.stack, "
                "last_failed_at = excluded.received_at"
            )
        return [row["dead_letter_id"] for row in latest if row["dead_letter_id"] not in known]

    def _disconnect(self) -> None:
        """Drop a connection DuckDB invalidated; the next write opens a fresh one."""
        if self.con is not None:
            with suppress(duckdb.Error):
                self.con.close()
            self.con = None

    @staticmethod
    def _insert_new(
        cur, table: str, rows: list[dict[str, Any]], schema: pa.Schema, key: str
    ) -> list[str]:
        if not rows:
            return []
        with _registered(cur, rows, schema):
            returned = cur.execute(
                f"insert or ignore into {table} by name select * from voc_batch returning {key}"
            ).fetchall()
        return [row[0] for row in returned]

    def close(self) -> None:
        with self.lock:
            self._disconnect()


@contextmanager
def _registered(cur, rows: list[dict[str, Any]], schema: pa.Schema) -> Iterator[None]:
    """The rows as the Arrow view ``voc_batch`` for the statements inside the block."""
    cur.register("voc_batch", pa.Table.from_pylist(rows, schema=schema))
    try:
        yield
    finally:
        cur.unregister("voc_batch")


_STORES: dict[str, DuckDBStore] = {}
_STORES_LOCK = threading.Lock()


def shared_store(path: str) -> DuckDBStore:
    key = path if path == ":memory:" else str(Path(path).resolve())
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = DuckDBStore(path)
    return store


def close_shared_stores() -> None:
    """Release the files (and their lock) once the pipeline has finished."""
    with _STORES_LOCK:
        for store in _STORES.values():
            store.close()
        _STORES.clear()
