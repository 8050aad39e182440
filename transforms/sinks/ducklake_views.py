"""What owners read from a lake: one row per key, then the same views as a file.

Two workers that store the same event at the same moment both append it (see
:mod:`voc.transforms.sinks.ducklake_store`), so a lake table may hold a key twice
until ``voc lake maintain`` runs. Owners never see that: an owner connection is an
in-memory DuckDB with the lake attached read-only as ``lake``, in which every lake
table is a view *under its own name* that keeps one row per key, and over those
views the very macros, views and department schemas a file gets
(:func:`voc.transforms.sinks.duckdb_schema.apply_views`). A query, a digest or the
recovery queue cannot tell it is reading a lake.

The row kept of a fact is the first one written, by the time the sink stamped it
(then the Pub/Sub message id, then every column, so the choice is the same on every
read and in ``voc lake maintain``). An event's tags are kept as one set: those
written with the fact row that is kept (the same transaction stamps ``tagged_at``
and ``ingested_at`` with one time), so two taxonomies never mix on one event.

The derived tables (interactions, rollups, alerts, ...) are states that replace
each other, so of those the *newest* row per key is kept (``WRITTEN_LAST``): the
one a file's upsert would have left.

A writer reads through the same rule: :func:`read_deduplicated` shadows tables,
in one lake transaction's cursor, with temporary views of the same name, so the
file's SQL (the facts a replay or a reconciliation reads) runs unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from voc.transforms.sinks.duckdb_schema import apply_views
from voc.transforms.sinks.ducklake_catalog import ALIAS, LakeSpec, connect_lake
from voc.transforms.sinks.ducklake_schema import TableShape, reference_shapes, shape

# Which row of a key is the first written: by these columns, then all the others.
WRITTEN_FIRST = {
    "surveys": ("ingested_at", "message_id"),
    "agent_notes": ("ingested_at", "message_id"),
    "feedback_tags": ("tagged_at",),
    "recovery_items": ("created_at", "survey_event_id"),
    "dead_letters": ("received_at", "message_id"),
    "late_events": ("detected_at",),
}
# Derived tables: the newest row of a key is kept, by these columns (descending).
WRITTEN_LAST = {
    "interactions": ("updated_at",),
    "issue_rollups": ("updated_at",),
    "alerts": ("updated_at",),
    "repeat_contacts": ("detected_at",),
    "pipeline_progress": ("observed_at",),
}
# Tables whose rows come as a set per partition (an event's tags): the set written
# first is kept whole.
VERSION_SETS = {"feedback_tags": ("event_id", "tagged_at")}


@dataclass(frozen=True)
class Dedup:
    """How one table is deduplicated: over ``partition``, keeping the first-written rows."""

    table: TableShape
    partition: tuple[str, ...]

    @property
    def order(self) -> str:
        last = WRITTEN_LAST.get(self.table.name, ())
        first = WRITTEN_FIRST.get(self.table.name, ())
        stamps = [f"{c} desc" for c in last] + list(first)
        rest = [c for c in self.table.column_names if c not in first and c not in last]
        return ", ".join([*stamps, *rest])

    def select(self, source: str) -> str:
        """The table's rows with one row per key (one version set per partition)."""
        if not self.table.key:
            return f"select * from {source}"
        key = ", ".join(self.table.key)
        keep = f"row_number() over (partition by {key} order by {self.order}) = 1"
        version = VERSION_SETS.get(self.table.name)
        if version is not None:
            part, stamp = version
            keep = f"{stamp} = min({stamp}) over (partition by {part}) and {keep}"
        return f"select * from {source} qualify {keep}"


def dedup_of(table: TableShape) -> Dedup:
    version = VERSION_SETS.get(table.name)
    return Dedup(table, (version[0],) if version else table.key)


def dedup_views(alias: str = ALIAS) -> list[tuple[str, str]]:
    """(table, ``create or replace view``) for every lake table, in the main schema."""
    return [
        (
            table.name,
            f"create or replace view main.{table.name} as\n"
            f"{dedup_of(table).select(f'{alias}.{table.name}')}",
        )
        for table in reference_shapes()
    ]


def on_lake(cur: duckdb.DuckDBPyConnection) -> bool:
    """Is this a lake transaction's cursor (``DuckLakeStore.in_transaction`` makes the
    lake its default database) rather than a file's?"""
    return cur.execute("select current_database()").fetchone()[0] == ALIAS


def read_deduplicated(cur: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    """In a lake cursor, make the unqualified ``names`` read one row per key (temporary
    views, gone with the cursor); a file's cursor is left alone. Only for reading: an
    update of a shadowed name in the same cursor would hit the view."""
    if not on_lake(cur):
        return
    for name in names:
        cur.execute(
            f"create or replace temp view {name} as "
            f"{dedup_of(shape(name)).select(f'{ALIAS}.{name}')}"
        )


def prepare_owner_views(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> list[str]:
    """In ``con`` (the lake attached as ``alias``): a deduplicating view per table,
    then the file's macros, views and department schemas; returns the department views."""
    present = {
        row[0]
        for row in con.execute(
            "select table_name from duckdb_tables() where database_name = ?", [alias]
        ).fetchall()
    }
    for name, statement in dedup_views(alias):
        if name in present:
            con.execute(statement)
    return apply_views(con)


def owner_lake_connection(spec: LakeSpec) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB over the lake, read-only, with the owners' views in place."""
    con = connect_lake(spec, read_only=True)
    try:
        prepare_owner_views(con)
    except Exception:
        con.close()
        raise
    return con
