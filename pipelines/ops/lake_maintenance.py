"""``voc lake maintain``: make a lake's keys unique again, compact it, expire old snapshots.

Run on a schedule (hourly to daily) next to the writers; each step is its own
DuckLake transaction and retried on a commit conflict with a writer:

1. **Duplicates.** Writers racing on the same new event both append it (see
   :mod:`voc.transforms.sinks.ducklake_store`); the owners' views hide that. Here,
   per table, the partitions holding more rows than the view keeps are rewritten
   to exactly the rows the view keeps (the same :class:`Dedup` rule: a fact's
   first-written row, a derived table's newest), so after a run every key is
   stored once, physically.
2. **Inlined rows.** Small commits live in the catalog's tables; they are written
   out to Parquet (``ducklake_flush_inlined_data``).
3. **Compaction.** One Parquet file per bundle and table adds up; adjacent small
   files are merged (``ducklake_merge_adjacent_files``) and files carrying deletes
   rewritten (``ducklake_rewrite_data_files``).
4. **Snapshots.** Every commit is a snapshot (time travel); those older than
   ``--older-than`` are expired and the files only they used deleted
   (``ducklake_expire_snapshots``, ``ducklake_cleanup_old_files``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import duckdb

from voc.transforms.sinks.ducklake_catalog import ALIAS, LakeSpec
from voc.transforms.sinks.ducklake_schema import reference_shapes
from voc.transforms.sinks.ducklake_store import DuckLakeStore, retry_conflicts
from voc.transforms.sinks.ducklake_views import Dedup, dedup_of

DEFAULT_OLDER_THAN = timedelta(days=7)


@dataclass
class MaintenanceReport:
    duplicates_removed: dict[str, int] = field(default_factory=dict)
    inlined_rows_flushed: int = 0
    files_compacted: int = 0
    files_rewritten: int = 0
    snapshots_expired: int = 0
    files_deleted: int = 0

    def lines(self) -> list[str]:
        removed = {t: n for t, n in self.duplicates_removed.items() if n}
        dupes = ", ".join(f"{t} {n:,}" for t, n in sorted(removed.items())) or "none"
        return [
            f"duplicate rows removed: {dupes}",
            f"inlined rows written to Parquet: {self.inlined_rows_flushed:,}",
            f"small files merged: {self.files_compacted:,}; files with deletes rewritten: "
            f"{self.files_rewritten:,}",
            f"snapshots expired: {self.snapshots_expired:,}; old files deleted: "
            f"{self.files_deleted:,}",
        ]


def _row(columns: tuple[str, ...]) -> str:
    """The key columns as one comparable value (a one-column row() would not be)."""
    return "struct_pack(" + ", ".join(f"{c} := {c}" for c in columns) + ")"


def dedupe_table(cur: duckdb.DuckDBPyConnection, dedup: Dedup) -> int:
    """Rewrite the partitions of one table that hold duplicates to the rows the owners'
    view keeps; returns the rows removed. Runs in the caller's transaction."""
    name, part = dedup.table.name, dedup.partition
    if not part:
        return 0
    source = f"{ALIAS}.{name}"
    cols = ", ".join(part)
    cur.execute(
        f"create or replace temp table voc_dirty as "
        f"with stored as (select {cols}, count(*) as n from {source} group by all), "
        f"kept as (select {cols}, count(*) as n from ({dedup.select(source)}) group by all) "
        f"select {cols}, stored.n - kept.n as extra from stored join kept using ({cols}) "
        f"where stored.n > kept.n"
    )
    extra = cur.execute("select coalesce(sum(extra), 0) from voc_dirty").fetchone()[0]
    if extra:
        dirty = f"{_row(part)} in (select {_row(part)} from voc_dirty)"
        cur.execute(
            f"create or replace temp table voc_keep as "
            f"select * from ({dedup.select(source)}) where {dirty}"
        )
        cur.execute(f"delete from {source} where {dirty}")
        cur.execute(f"insert into {source} by name select * from voc_keep")
        cur.execute("drop table voc_keep")
    cur.execute("drop table voc_dirty")
    return int(extra)


def duplicate_count(cur: duckdb.DuckDBPyConnection, dedup: Dedup) -> int:
    """How many rows of the table the owners' view does not show."""
    source = f"{ALIAS}.{dedup.table.name}"
    stored = cur.execute(f"select count(*) from {source}").fetchone()[0]
    kept = cur.execute(f"select count(*) from ({dedup.select(source)})").fetchone()[0]
    return int(stored - kept)


def _present_tables(cur) -> set[str]:
    rows = cur.execute(
        "select table_name from duckdb_tables() where database_name = ?", [ALIAS]
    ).fetchall()
    return {row[0] for row in rows}


def _call(store: DuckLakeStore, sql: str, what: str) -> list[tuple]:
    return retry_conflicts(
        lambda: store.in_transaction(lambda cur: cur.execute(sql).fetchall()), what
    )


def maintain(spec: LakeSpec, older_than: timedelta = DEFAULT_OLDER_THAN) -> MaintenanceReport:
    """Every step above, in order; returns what each did."""
    store = DuckLakeStore(spec)
    report = MaintenanceReport()
    try:
        store.open()
        present = store.in_transaction(_present_tables)
        dedups = [dedup_of(t) for t in reference_shapes() if t.name in present]
        # One read first: most tables hold no duplicate, and need no transaction of their own.
        counts = store.in_transaction(lambda cur: [duplicate_count(cur, d) for d in dedups])
        for dedup, count in zip(dedups, counts, strict=True):
            table = dedup.table
            report.duplicates_removed[table.name] = 0
            if not count:
                continue
            report.duplicates_removed[table.name] = retry_conflicts(
                lambda d=dedup: store.in_transaction(lambda cur: dedupe_table(cur, d)),
                f"deduplicating {table.name}",
            )
        flushed = _call(
            store, f"call ducklake_flush_inlined_data('{ALIAS}')", "flushing inlined data"
        )
        report.inlined_rows_flushed = sum(int(row[-1] or 0) for row in flushed)
        merged = _call(
            store, f"call ducklake_merge_adjacent_files('{ALIAS}')", "merging small files"
        )
        report.files_compacted = sum(int(row[2] or 0) for row in merged)
        rewritten = _call(
            store, f"call ducklake_rewrite_data_files('{ALIAS}')", "rewriting files with deletes"
        )
        report.files_rewritten = sum(int(row[2] or 0) for row in rewritten)
        seconds = int(older_than.total_seconds())
        expired = _call(
            store,
            f"call ducklake_expire_snapshots('{ALIAS}', "
            f"older_than => now() - to_seconds({seconds}))",
            "expiring snapshots",
        )
        report.snapshots_expired = len(expired)
        deleted = _call(
            store,
            f"call ducklake_cleanup_old_files('{ALIAS}', "
            f"older_than => now() - to_seconds({seconds}))",
            "deleting old files",
        )
        report.files_deleted = len(deleted)
    finally:
        store.close()
    return report
