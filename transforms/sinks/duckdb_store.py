"""The DuckDB file the pipeline loads and department owners query.

One writer per file: DuckDB lets one process open a file read-write, so the
store is shared by every DoFn instance and thread of this process (the legacy
DirectRunner re-creates DoFns per bundle; reopening the file and running DDL per
bundle would dominate the cost). Writes are serialised by a lock and go in as
Arrow tables, hundreds to thousands of rows per transaction, which is ~30x
faster than row-by-row inserts here.

Idempotence: every table is written by its rule in the registry
(:mod:`voc.transforms.sinks.tables`): fact tables insert only new ``event_id``
keys, tags are written only for events inserted in the same transaction, dead
letters keep their first row. A redelivered message therefore never adds a row,
even if the taxonomy changed in between.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from voc.transforms.records import REPLAY_ATTRIBUTE, TaggedEvent, to_dead_letter
from voc.transforms.sinks.duckdb_schema import prepare
from voc.transforms.sinks.event_identity import (
    STORE_STAGE,
    StoredVersion,
    conflict_error,
    find_conflicts,
    version_of,
)
from voc.transforms.sinks.tables import (
    DEAD_LETTERS,
    DEFAULT_SINK_SETTINGS,
    FACT_TABLE,
    TABLES,
    Record,
    Row,
    SinkSettings,
    Table,
    dead_letter_rows,
)

T = TypeVar("T")

# -- pure: records -> rows ----------------------------------------------------


class WriteResult(dict):
    """New rows per table name, and the event_ids the transaction stored first."""

    def __init__(self) -> None:
        super().__init__()
        self.new_event_ids: set[str] = set()


@dataclass
class WriteBatch:
    """Rows of one transaction, by table name, and the records they came from."""

    now: datetime
    records: list[Record] = field(default_factory=list)
    rows: dict[str, list[Row]] = field(default_factory=lambda: {t.name: [] for t in TABLES})

    def __len__(self) -> int:
        return len(self.records)


def build_batch(
    records: Iterable[Record],
    now: datetime | None = None,
    settings: SinkSettings = DEFAULT_SINK_SETTINGS,
) -> WriteBatch:
    batch = WriteBatch(now or datetime.now(UTC))
    for record in records:
        batch.records.append(record)
        for table in TABLES:
            batch.rows[table.name].extend(table.rows(record, batch.now, settings))
    return batch


def rows_to_write(
    batch: WriteBatch, conflicts: list[tuple[TaggedEvent, StoredVersion]]
) -> dict[str, list[Row]]:
    """The batch's rows less those of events whose id another event holds, plus a
    dead letter for each of those."""
    if not conflicts:
        return batch.rows
    losing = set()
    for tagged, _ in conflicts:
        version = version_of(tagged)
        losing.add((tagged.event.event_id, version.table, version.payload_sha256))
    rows = {}
    for table in TABLES:
        kept = batch.rows.get(table.name, [])
        if table.holds_events or table.only_for_new_events:
            kept = [row for row in kept if _version_key(table, row) not in losing]
        rows[table.name] = kept
    rows[DEAD_LETTERS.name] = rows[DEAD_LETTERS.name] + [
        row
        for tagged, first in conflicts
        for row in dead_letter_rows(
            to_dead_letter(tagged.event.message, STORE_STAGE, conflict_error(tagged, first)),
            batch.now,
        )
    ]
    return rows


def _version_key(table: Table, row: Row) -> tuple[str, str, str | None]:
    fact_table = table.name if table.holds_events else FACT_TABLE[row["source"]]
    return (row["event_id"], fact_table, row["payload_sha256"])


def resolved_replays(batch: WriteBatch, conflicts: list[tuple[TaggedEvent, StoredVersion]]):
    """Dead letters whose replay is stored as an event in this batch."""
    losing = {id(tagged) for tagged, _ in conflicts}
    return [
        replay_of
        for record in batch.records
        if isinstance(record, TaggedEvent) and id(record) not in losing
        if (replay_of := record.event.message.attributes.get(REPLAY_ATTRIBUTE))
    ]


# -- the store -----------------------------------------------------------------


class DuckDBStore:
    """The one read-write connection of this process to one DuckDB file.

    The connection is opened on first use, not in the constructor, so a file
    that is locked by another process, or on a full disk, is one more condition
    the caller retries (see :mod:`voc.transforms.sinks.retry_sink`) rather than a crash.
    """

    # Statements each transaction's cursor runs before it begins (a lake names its
    # default database here).
    cursor_setup: tuple[str, ...] = ()

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
                prepare(con)
            except Exception:
                con.close()
                raise
            self.con = con
        return self.con

    def write(self, batch: WriteBatch) -> WriteResult:
        """One transaction for the whole batch, every table in the registry's order.

        Returns how many rows of each table were new (the rest were redeliveries, or
        repeats inside the batch, that the keys ignored), and which events were new.
        """

        def write_facts(cur) -> WriteResult:
            events = [r for r in batch.records if isinstance(r, TaggedEvent)]
            conflicts = find_conflicts(events, _stored_versions(cur, events))
            all_rows = rows_to_write(batch, conflicts)
            result = WriteResult()
            for table in TABLES:
                rows = all_rows[table.name]
                if table.only_for_new_events:
                    rows = [row for row in rows if row["event_id"] in result.new_event_ids]
                new_keys = _write_table(cur, table, rows)
                if table.holds_events:
                    result.new_event_ids.update(key[0] for key in new_keys)
                result[table.name] = len(new_keys)
            resolved = resolved_replays(batch, conflicts)
            if resolved:
                cur.execute(
                    "update dead_letters set resolved_at = ? "
                    "where dead_letter_id in (select unnest(?)) and resolved_at is null",
                    [datetime.now(UTC), resolved],
                )
            return result

        return self.in_transaction(write_facts)

    def in_transaction(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work(cursor)`` in one transaction on this process's connection.

        Every writer of the file goes through here (facts, derived rows, the
        reconciliation): DuckDB allows one read-write process, and the lock keeps
        this process's threads to one transaction at a time.
        """
        with self.lock:
            cur = self._connection().cursor()
            try:
                for statement in self.cursor_setup:
                    cur.execute(statement)
                cur.execute("begin transaction")
                result = work(cur)
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
        return result

    def _disconnect(self) -> None:
        """Drop a connection DuckDB invalidated; the next write opens a fresh one."""
        if self.con is not None:
            with suppress(duckdb.Error):
                self.con.close()
            self.con = None

    def close(self) -> None:
        with self.lock:
            self._disconnect()


def _stored_versions(cur, events: list[TaggedEvent]) -> dict[str, StoredVersion]:
    """The versions already stored under these events' ids, in any fact table."""
    ids = sorted({tagged.event.event_id for tagged in events})
    if not ids:
        return {}
    stored = {}
    with registered_ids(cur, ids):
        for table in TABLES:
            if table.holds_events:
                found = cur.execute(
                    f"select event_id, payload_sha256, message_id from {table.name} "
                    "semi join voc_batch_ids using (event_id)"
                ).fetchall()
                for event_id, content, message_id in found:
                    stored.setdefault(event_id, StoredVersion(table.name, content, message_id))
    return stored


@contextmanager
def registered_ids(cur, ids: list[str]) -> Iterator[None]:
    """Event ids as the Arrow view ``voc_batch_ids`` (one column, ``event_id``).

    Not a list parameter: DuckDB's binding converts a list element by element and
    tries to import pandas for each one (2.6 s for 20,000 ids here without pandas
    installed, against 0.1 s joined with an Arrow table).
    """
    cur.register("voc_batch_ids", pa.table({"event_id": pa.array(ids, pa.string())}))
    try:
        yield
    finally:
        cur.unregister("voc_batch_ids")


def _write_table(cur, table: Table, rows: list[Row]) -> list[tuple[Any, ...]]:
    """Write rows by the table's rule; returns the keys that were new."""
    if not rows:
        return []
    key = ", ".join(table.key)
    if table.on_conflict is None:
        with registered(cur, rows, table.schema):
            return cur.execute(
                f"insert or ignore into {table.name} by name select * from voc_batch "
                f"returning {key}"
            ).fetchall()
    latest = latest_per_key(rows, table.key)
    with registered(cur, latest, table.schema):
        known = set(
            cur.execute(
                f"select {key} from {table.name} semi join voc_batch using ({key})"
            ).fetchall()
        )
        cur.execute(
            f"insert into {table.name} by name select * from voc_batch "
            f"on conflict ({key}) {table.on_conflict}"
        )
    keys = [tuple(row[k] for k in table.key) for row in latest]
    return [k for k in keys if k not in known]


def latest_per_key(rows: list[Row], key: tuple[str, ...]) -> list[Row]:
    """One row per key, the last one given: as it would have ended in separate
    transactions (an upsert statement refuses a key twice)."""
    return list({tuple(row[k] for k in key): row for row in rows}.values())


@contextmanager
def registered(cur, rows: list[dict[str, Any]], schema: pa.Schema) -> Iterator[None]:
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
