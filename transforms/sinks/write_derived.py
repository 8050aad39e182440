"""Write the derived branches' rows to DuckDB: one transaction per bundle, never an ack.

The derived tables are recomputable from the facts, so this sink holds no ack
handle and a failed write is not retried past the job's stop grace: the next
start's reconciliation rebuilds what it could not write. Rows are upserted by
each table's rule (:mod:`voc.transforms.sinks.derived_tables`), so a row the
runner delivers twice, or two bundles committing in either order, leave the
same table.

On a lake (``--sink ducklake``) the same rules are a ``MERGE INTO`` per table
(:func:`merge_statement`: DuckLake has no keys for ``on conflict``), in one
DuckLake transaction per bundle, retried whole on a commit conflict as the facts
are; the file keeps its ``insert ... on conflict``.

``resolved_first_contact`` is not written by any branch: it is recomputed here,
in the same transaction, for every interaction a row of this batch touches, from
``repeat_contacts``. A repeat found before its earlier interaction's row exists,
or after, gives the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from voc.transforms.records import DerivedRow
from voc.transforms.sinks.derived_tables import (
    DERIVED_TABLES,
    PART_JOINED,
    REPEATS_OF,
    DerivedTable,
)
from voc.transforms.sinks.duckdb_store import latest_per_key, registered, shared_store
from voc.transforms.sinks.ducklake_catalog import LakeSpec
from voc.transforms.sinks.ducklake_store import retry_conflicts, shared_lake_store
from voc.transforms.sinks.ducklake_views import on_lake
from voc.transforms.sinks.retry_sink import retry_transient
from voc.transforms.sinks.tables import FACT_TABLE


def write_derived_rows(cur, rows: Iterable[DerivedRow]) -> dict[str, int]:
    """Upsert the rows in the caller's transaction; returns rows given per table."""
    by_table: dict[str, list[dict]] = defaultdict(list)
    for derived in rows:
        by_table[derived.table].append(derived.row)
    counts = {name: len(table_rows) for name, table_rows in by_table.items()}
    lake = on_lake(cur)
    if by_table.get(REPEATS_OF):
        ids = sorted({row["interaction_id"] for row in by_table[REPEATS_OF]})
        # The earlier side of a deleted pair may now have resolved first time. Read,
        # then delete (a lake refuses ``delete ... returning``); one transaction.
        where = (
            "where earlier_interaction_id in (select unnest(?))"
            " or later_interaction_id in (select unnest(?))"
        )
        touched_repeats = [
            row[0]
            for row in cur.execute(
                f"select earlier_interaction_id from repeat_contacts {where}", [ids, ids]
            ).fetchall()
        ]
        if touched_repeats:
            cur.execute(f"delete from repeat_contacts {where}", [ids, ids])
    else:
        touched_repeats = []
    for name, table in DERIVED_TABLES.items():
        if by_table.get(name):
            # A branch emits a key's states in order: the last one is the newest.
            rows_of_table = latest_per_key(by_table[name], table.key)
            if lake:
                with registered(cur, rows_of_table, table.schema):
                    cur.execute(merge_statement(table))
            else:
                _upsert(cur, table, rows_of_table)
    if by_table.get(PART_JOINED):
        _set_joined(cur, by_table[PART_JOINED])
    touched = {row["interaction_id"] for row in by_table.get("interactions", [])}
    touched.update(row["earlier_interaction_id"] for row in by_table.get("repeat_contacts", []))
    touched.update(touched_repeats)
    if touched:
        refresh_first_contact(cur, sorted(touched))
    return counts


def _upsert(cur, table: DerivedTable, rows: list[dict]) -> None:
    key = ", ".join(table.key)
    with registered(cur, rows, table.schema):
        if table.newer is None:
            cur.execute(f"insert or ignore into {table.name} by name select * from voc_batch")
            return
        columns = [name for name in table.schema.names if name not in table.key]
        assignments = ", ".join(f"{name} = excluded.{name}" for name in columns)
        cur.execute(
            f"insert into {table.name} by name select * from voc_batch "
            f"on conflict ({key}) do update set {assignments} where {table.newer}"
        )


def merge_statement(table: DerivedTable) -> str:
    """The table's upsert rule as one ``MERGE INTO`` from ``voc_batch`` (one row per
    key): ``newer`` verbatim (it names the stored row by the table's name and the
    incoming one ``excluded``), no update at all when a known key keeps its row."""
    name = table.name
    on = " and ".join(f"{name}.{k} = excluded.{k}" for k in table.key)
    statement = f"merge into {name} as {name} using voc_batch as excluded on ({on})"
    if table.newer is not None:
        columns = [c for c in table.schema.names if c not in table.key]
        assignments = ", ".join(f"{c} = excluded.{c}" for c in columns)
        statement += f" when matched and ({table.newer}) then update set {assignments}"
    return statement + " when not matched then insert by name"


def _set_joined(cur, flags: list[dict]) -> None:
    for event_type, fact_table in FACT_TABLE.items():
        for joined in (True, False):
            ids = [
                f["event_id"]
                for f in flags
                if f["event_type"] == event_type and f["joined"] is joined
            ]
            if ids:
                # A part refused once stays refused: a later replay must not join it.
                cur.execute(
                    f"update {fact_table} set joined = ? where event_id in (select unnest(?))"
                    " and joined is distinct from false",
                    [joined, ids],
                )


def refresh_first_contact(cur, interaction_ids: list[str]) -> None:
    """resolved_first_contact of these interactions, from repeat_contacts: false when
    the customer came back about a same cause, null when no survey says who they are."""
    cur.execute(
        "update interactions set resolved_first_contact = case"
        " when survey_event_id is null then null"
        " else not exists (select 1 from repeat_contacts r"
        "  where r.earlier_interaction_id = interactions.interaction_id) end"
        " where interaction_id in (select unnest(?))",
        [interaction_ids],
    )


class WriteDerivedFn(beam.DoFn):
    def __init__(self, db_path: str, lake: LakeSpec | None = None) -> None:
        self.db_path = db_path
        self.lake = lake
        self.rows = Metrics.counter("voc.derived", "rows_written")

    def setup(self) -> None:
        self.store = shared_lake_store(self.lake) if self.lake else shared_store(self.db_path)

    def start_bundle(self) -> None:
        self.pending: list[DerivedRow] = []

    def process(self, row: DerivedRow) -> None:
        self.pending.append(row)

    def finish_bundle(self) -> None:
        if not self.pending:
            return
        pending = self.pending
        what = f"writing {len(pending):,} derived rows to {self.store.path}"

        def write() -> dict[str, int]:
            return self.store.in_transaction(lambda cur: write_derived_rows(cur, pending))

        if self.lake is not None:
            retry_transient(lambda: retry_conflicts(write, what), what=what)
        else:
            retry_transient(write, what=what)
        self.rows.inc(len(pending))
        self.pending = []


class WriteDerived(beam.PTransform):
    """Sink for PCollection[DerivedRow]."""

    def __init__(self, db_path: str, lake: LakeSpec | None = None) -> None:
        super().__init__()
        self.db_path = db_path
        self.lake = lake

    def expand(self, rows):
        return rows | "WriteDerivedRows" >> beam.ParDo(WriteDerivedFn(self.db_path, self.lake))
