"""Bring a DuckDB file to the current schema: pending migrations, then macros and views.

Migrations (``sql/migrations``) create and alter tables, once per file, each in
its own transaction, recorded in ``schema_migrations``. Views (``sql/views``)
and the table macros they call (``sql/macros``) are re-created on every
read-write open, so a file written by an older release reads through the
current views as soon as the job or ``voc dlq`` opens it, and changing a view
needs no migration.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from voc import sql


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations this file has not seen yet; returns their names."""
    con.execute(
        "create table if not exists schema_migrations ("
        " version integer primary key, name varchar not null, applied_at timestamptz not null)"
    )
    done = {row[0] for row in con.execute("select version from schema_migrations").fetchall()}
    applied = []
    for migration in sql.migrations():
        if migration.version in done:
            continue
        con.execute("begin transaction")
        try:
            con.execute(migration.sql)
            con.execute(
                "insert into schema_migrations values (?, ?, ?)",
                [migration.version, migration.name, datetime.now(UTC)],
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        applied.append(migration.name)
    return applied


def create_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """(Re-)create every macro, then every view; returns the views' names in the order
    they were created.

    A view may read another view, so one that fails because a view it reads is not
    there yet is tried again after the rest: no order to keep by hand. Each view is
    its own statement (an error would abort a surrounding transaction), which is
    harmless: ``create or replace`` leaves the old definition until the new one is in.
    """
    for macro in sql.macros():
        con.execute(macro.sql)
    pending = sql.views()
    created: list[str] = []
    while pending:
        failed: list[tuple[sql.View, duckdb.Error]] = []
        for view in pending:
            try:
                con.execute(view.create_statement)
                created.append(view.name)
            except duckdb.CatalogException as error:
                failed.append((view, error))
        if len(failed) == len(pending):
            raise failed[0][1]
        pending = [view for view, _ in failed]
    return created


def prepare(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Migrate, then re-create the views; returns the migrations applied."""
    applied = apply_migrations(con)
    create_views(con)
    return applied
