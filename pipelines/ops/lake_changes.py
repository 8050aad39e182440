"""Owners' changes and the departments table, written to a DuckLake.

A file has one writer, so owner changes reach it through the job that holds it
(:mod:`voc.pipelines.ops.owner_changes`). A lake has many writers and no job
owns it: a command applies its change itself, in one DuckLake transaction, with
the very function that applies it to a file (:func:`owner_changes.apply`), the
lake made the transaction's default catalog (``use lake``) so that the same SQL
names the lake's tables.

Idempotency without keys. ``apply`` first looks the change's id up in
``owner_changes_applied`` and does nothing if it is there; the lookup and the
writes are one transaction, so a retry after a commit conflict, or after a
commit whose reply was lost, re-reads the ids and adds nothing. Two processes
applying the *same* change at the same moment may both append it (DuckLake does
not count two appends as a conflict): every row they write carries the same key
(``change_id``, ``action_id``, ``(item_id, changed_at)``), and the owners' views
keep one row per key (:mod:`voc.transforms.sinks.ducklake_views`), as they do
for the sink's facts. What a lake cannot do is serialise two *different*
changes of one item made at the same moment: both are checked against the same
snapshot, and both land in the item's history (docs/ducklake.md).

Commit conflicts (a purge or a replay mark updating dead letters the sink is
merging) are retried with the sink's backoff (:func:`ducklake_store.retry_conflicts`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import duckdb

from voc.pipelines.ops.owner_changes import Change, ChangeOutcome, OwnerChangeError, apply
from voc.pipelines.ops.owner_connection import STORE_ENV
from voc.transforms.error_text import first_line
from voc.transforms.sinks.duckdb_extensions import ExtensionMissing
from voc.transforms.sinks.duckdb_schema import check_department_name
from voc.transforms.sinks.ducklake_catalog import ALIAS, LakeSpecError, parse_catalog
from voc.transforms.sinks.ducklake_store import DuckLakeStore, retry_conflicts

DEPARTMENT_COLUMNS = (
    "department",
    "description",
    "owner",
    "contact",
    "digest_schedule",
    "delivery",
)


def apply_in_lake(cur: duckdb.DuckDBPyConnection, change: Change) -> ChangeOutcome:
    """``apply`` inside a lake transaction: unqualified table names resolve in the lake."""
    cur.execute(f"use {ALIAS}")
    return apply(cur, change)


def apply_to_lake(store: str, change: Change) -> ChangeOutcome:
    """Attach the lake (``ducklake:postgres:...``), apply ``change`` in one transaction
    (retried on a commit conflict), detach. OwnerChangeError (one line) if the lake
    cannot be reached; a refusal is a returned outcome."""
    try:
        spec = parse_catalog(store)
    except LakeSpecError as error:
        raise OwnerChangeError(f"{STORE_ENV}: {error}") from None
    lake = DuckLakeStore(spec)
    try:
        lake.open()
        outcome = retry_conflicts(
            lambda: lake.in_transaction(lambda cur: apply_in_lake(cur, change)),
            f"applying change {change.change_id} to {spec.describe()}",
        )
    except (duckdb.Error, ExtensionMissing) as error:
        why = first_line(error)
        if "data_path is not set" in why:
            why = "the catalog holds no lake (voc run --sink ducklake creates it)"
        raise OwnerChangeError(f"{spec.describe()}: {why}") from None
    finally:
        lake.close()
    return replace(outcome, via=f"lake {spec.describe()}")


def _as_stored(rows: list[dict]) -> list[tuple]:
    return sorted(tuple(row.get(column) for column in DEPARTMENT_COLUMNS) for row in rows)


def replace_departments(cur: duckdb.DuckDBPyConnection, rows: list[dict]) -> bool:
    """In a lake transaction: the ``departments`` rows become ``rows``; returns whether
    anything changed. Unchanged rows are left alone, so a job that restarts with the
    same registry writes no snapshot and conflicts with nobody."""
    for row in rows:
        check_department_name(row["department"])
    columns = ", ".join(DEPARTMENT_COLUMNS)
    stored = sorted(cur.execute(f"select {columns} from {ALIAS}.departments").fetchall())
    if stored == _as_stored(rows):
        return False
    now = datetime.now(UTC)
    cur.execute(f"delete from {ALIAS}.departments")
    if rows:
        marks = ", ".join("?" * (len(DEPARTMENT_COLUMNS) + 1))
        cur.executemany(
            f"insert into {ALIAS}.departments ({columns}, updated_at) values ({marks})",
            [[*values, now] for values in _as_stored(rows)],
        )
    return True


def write_lake_departments(lake: DuckLakeStore, rows: list[dict]) -> bool:
    """The job's start on a lake: the departments table from the taxonomy and the owners
    registry, one transaction, retried on a conflict with another starting job."""
    return retry_conflicts(
        lambda: lake.in_transaction(lambda cur: replace_departments(cur, rows)),
        f"writing the departments to {lake.path}",
    )
