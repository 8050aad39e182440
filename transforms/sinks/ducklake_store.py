"""The DuckLake sink: the same tables and write contract as the DuckDB file, many writers.

``DuckLakeStore.write(batch) -> WriteResult`` is :class:`DuckDBStore.write`'s
contract (one transaction per bundle, every table of the registry in
:mod:`voc.transforms.sinks.tables`, the new rows per table and the events stored
first), on a lake with a PostgreSQL catalog that any number of worker processes
write at once.

Idempotency without keys. DuckLake has no PRIMARY KEY or UNIQUE constraint, so
``insert or ignore`` is not available. Each write is one DuckLake transaction that
reads the keys the lake already holds for the batch (a semi join of the batch
against the table, as of the transaction's snapshot) and inserts only the others;
a sequential redelivery therefore adds nothing, exactly as in a file. Two workers
that store the same new event *at the same moment* both see it absent and both
append: DuckLake does not treat two appends to one table as a conflict. That
window is closed on the read side: owners read every table through a view that
keeps one row per key, the earliest written (:mod:`voc.transforms.sinks.ducklake_views`),
and ``voc lake maintain`` deletes the physical duplicates. The cost of closing it
on the write side instead (a lock in PostgreSQL per key range, or a delete that
makes concurrent writers conflict) would serialise the writers, which is what
the lake is for not doing.

Upserts (a table with ``on_conflict``: dead letters take the latest failure) are a
``MERGE INTO``; a redelivered replay updates the row it came from. Writes that do
conflict (an update or delete of rows another transaction changed, two workers
creating the same table) fail at commit; the store retries the whole transaction
with backoff, re-reading the keys, so the retry sees what the other one committed.

Batches: one transaction per bundle. DuckLake stores an insert of few rows inline
in the catalog instead of a Parquet file (``data_inlining_row_limit``); bundles of
hundreds of rows make one Parquet file per table, and ``voc lake maintain``
merges the small files and expires old snapshots (docs/ducklake.md).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any, TypeVar

import duckdb

from voc.transforms.backoff import Backoff
from voc.transforms.records import TaggedEvent
from voc.transforms.sinks.duckdb_store import (
    DuckDBStore,
    WriteBatch,
    WriteResult,
    latest_per_key,
    registered,
    registered_ids,
    resolved_replays,
    rows_to_write,
)
from voc.transforms.sinks.ducklake_catalog import ALIAS, LakeSpec, connect_lake
from voc.transforms.sinks.ducklake_schema import migrate_lake
from voc.transforms.sinks.event_identity import StoredVersion, find_conflicts
from voc.transforms.sinks.tables import TABLES, Row, Table

_LOGGER = logging.getLogger("voc.sink")
T = TypeVar("T")

# Commit conflicts clear as soon as the other transaction is in: retry fast, with
# wide jitter so the writers that collided do not collide again.
CONFLICT_BACKOFF = Backoff(first=0.05, factor=2.0, cap=2.0, jitter=0.5)
MAX_CONFLICT_RETRIES = 30


def is_commit_conflict(error: BaseException) -> bool:
    """A DuckLake commit that lost to another transaction: retrying may succeed."""
    text = str(error)
    return isinstance(error, duckdb.Error) and (
        "Transaction conflict" in text or "Failed to commit DuckLake transaction" in text
    )


def retry_conflicts(
    work: Callable[[], T],
    what: str,
    backoff: Backoff = CONFLICT_BACKOFF,
    attempts: int = MAX_CONFLICT_RETRIES,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``work()``, again after each commit conflict, up to ``attempts`` times."""
    for attempt in range(attempts):
        try:
            return work()
        except duckdb.Error as error:
            if not is_commit_conflict(error) or attempt == attempts - 1:
                raise
            delay = backoff.delay(attempt)
            _LOGGER.info("%s: commit conflict with another writer; retry in %.2f s", what, delay)
            sleep(delay)
    raise AssertionError("unreachable")


_UPDATE_SET = re.compile(r"^\s*do\s+update\s+set\s+(?P<assignments>.+)$", re.IGNORECASE | re.DOTALL)


def merge_assignments(on_conflict: str) -> str:
    """An ``on conflict`` clause (``do update set a = excluded.b, ...``) as the
    ``update set`` of a MERGE whose source is ``s``: the registry stays the one
    place that says how a table upserts."""
    match = _UPDATE_SET.match(on_conflict)
    if match is None:
        raise ValueError(f"cannot write {on_conflict!r} as a MERGE (expected 'do update set')")
    return "update set " + re.sub(r"\bexcluded\.", "s.", match["assignments"].strip())


def first_per_key(rows: list[Row], key: tuple[str, ...]) -> list[Row]:
    """One row per key, the first given: what ``insert or ignore`` keeps in a file."""
    seen: dict[tuple, Row] = {}
    for row in rows:
        seen.setdefault(tuple(row[k] for k in key), row)
    return list(seen.values())


class DuckLakeStore(DuckDBStore):
    """This process's connection to one lake; threads take turns, processes do not.

    A DuckDBStore whose connection attaches the lake (and migrates it) and whose
    transactions make the lake the default database, so unqualified table names,
    the file's SQL of the derived tables included, resolve in the lake as they are;
    its own ``write`` replaces the file's keys with the lake's anti-join."""

    cursor_setup = (f"use {ALIAS}",)

    def __init__(self, spec: LakeSpec, inline_row_limit: int | None = None) -> None:
        super().__init__(spec.describe())
        self.spec = spec
        self.inline_row_limit = inline_row_limit

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self.con is None:
            con = connect_lake(self.spec)
            try:
                retry_conflicts(lambda: self._migrate(con), f"migrating {self.path}")
            except Exception:
                con.close()
                raise
            self.con = con
        return self.con

    def _migrate(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute("begin transaction")
        try:
            migrate_lake(con, ALIAS)
            if self.inline_row_limit is not None:
                con.execute(
                    f"call {ALIAS}.set_option('data_inlining_row_limit', ?)",
                    [self.inline_row_limit],
                )
            con.execute("commit")
        except Exception:
            with suppress(duckdb.Error):
                con.execute("rollback")
            raise

    def write(self, batch: WriteBatch) -> WriteResult:
        """One DuckLake transaction for the batch, retried whole on a commit conflict."""
        return retry_conflicts(
            lambda: self.in_transaction(lambda cur: write_facts(cur, batch)),
            f"writing {len(batch):,} rows to {self.path}",
        )


# -- one transaction ---------------------------------------------------------------


def write_facts(cur: duckdb.DuckDBPyConnection, batch: WriteBatch) -> WriteResult:
    """The rows of a batch, by the registry's rules, as keys the lake does not hold yet."""
    events = [r for r in batch.records if isinstance(r, TaggedEvent)]
    conflicts = find_conflicts(events, stored_versions(cur, events))
    all_rows = rows_to_write(batch, conflicts)
    result = WriteResult()
    for table in TABLES:
        rows = all_rows[table.name]
        if table.only_for_new_events:
            rows = [row for row in rows if row["event_id"] in result.new_event_ids]
        new_keys = write_table(cur, table, rows)
        if table.holds_events:
            result.new_event_ids.update(key[0] for key in new_keys)
        result[table.name] = len(new_keys)
    resolved = resolved_replays(batch, conflicts)
    if resolved:
        cur.execute(
            f"update {ALIAS}.dead_letters set resolved_at = ? "
            "where dead_letter_id in (select unnest(?)) and resolved_at is null",
            [datetime.now(UTC), resolved],
        )
    return result


def stored_versions(cur, events: list[TaggedEvent]) -> dict[str, StoredVersion]:
    """The versions the lake holds under these ids; of duplicates, the earliest written
    (the one the owners' views show)."""
    ids = sorted({tagged.event.event_id for tagged in events})
    if not ids:
        return {}
    stored: dict[str, StoredVersion] = {}
    with registered_ids(cur, ids):
        for table in TABLES:
            if table.holds_events:
                found = cur.execute(
                    f"select event_id, payload_sha256, message_id from {ALIAS}.{table.name} "
                    "semi join voc_batch_ids using (event_id) order by ingested_at, message_id"
                ).fetchall()
                for event_id, content, message_id in found:
                    stored.setdefault(event_id, StoredVersion(table.name, content, message_id))
    return stored


def write_table(cur, table: Table, rows: list[Row]) -> list[tuple[Any, ...]]:
    """Write rows by the table's rule; returns the keys that were new to the lake."""
    if not rows:
        return []
    key = ", ".join(table.key)
    target = f"{ALIAS}.{table.name}"
    if table.on_conflict is None:
        candidates = first_per_key(rows, table.key)
        with registered(cur, candidates, table.schema):
            known = set(
                cur.execute(
                    f"select {key} from {target} semi join voc_batch using ({key})"
                ).fetchall()
            )
        fresh = [row for row in candidates if tuple(row[k] for k in table.key) not in known]
        if fresh:
            with registered(cur, fresh, table.schema):
                cur.execute(f"insert into {target} by name select * from voc_batch")
        return [tuple(row[k] for k in table.key) for row in fresh]
    latest = latest_per_key(rows, table.key)
    on = " and ".join(f"t.{k} = s.{k}" for k in table.key)
    with registered(cur, latest, table.schema):
        known = set(
            cur.execute(f"select {key} from {target} semi join voc_batch using ({key})").fetchall()
        )
        cur.execute(
            f"merge into {target} as t using voc_batch as s on {on} "
            f"when matched then {merge_assignments(table.on_conflict)} "
            "when not matched then insert by name"
        )
    keys = [tuple(row[k] for k in table.key) for row in latest]
    return [k for k in keys if k not in known]


def _known_keys(cur, target: str, key: str) -> set[tuple]:
    """The keys of ``voc_batch`` the lake already holds, as of this transaction."""
    return set(
        cur.execute(f"select {key} from {target} semi join voc_batch using ({key})").fetchall()
    )


# -- one store per lake and process -------------------------------------------------

_STORES: dict[LakeSpec, DuckLakeStore] = {}
_STORES_LOCK = threading.Lock()


def shared_lake_store(spec: LakeSpec) -> DuckLakeStore:
    """The process's store for ``spec``: DoFns are re-created per bundle on the
    DirectRunner, and attaching plus migrating per bundle would dominate."""
    with _STORES_LOCK:
        store = _STORES.get(spec)
        if store is None:
            store = _STORES[spec] = DuckLakeStore(spec)
    return store


def close_lake_stores() -> None:
    with _STORES_LOCK:
        for store in _STORES.values():
            store.close()
        _STORES.clear()
