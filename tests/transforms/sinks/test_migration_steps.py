"""Migrations upgrade a populated file on DuckDB 1.5, and survive a half-applied run."""

from __future__ import annotations

import duckdb

from voc import sql
from voc.transforms.sinks.duckdb_schema import apply_migrations
from voc.transforms.sinks.migration_steps import migration_steps, statements


def test_every_alter_is_its_own_step_and_the_rest_are_grouped():
    text = """-- a comment; with a semicolon
create table if not exists a (x int);
alter table a add column if not exists y int;
alter table a add column if not exists z int;
update a set y = 1;
update a set z = 2;
"""
    assert migration_steps(text) == [
        "create table if not exists a (x int);",
        "alter table a add column if not exists y int;",
        "alter table a add column if not exists z int;",
        "update a set y = 1;\nupdate a set z = 2;",
    ]


def test_every_shipped_migration_splits_into_complete_statements():
    for migration in sql.migrations():
        for statement in statements(migration.sql):
            # A statement cut in the middle would not parse on its own.
            duckdb.connect().extract_statements(statement)


def test_a_populated_file_upgrades_through_every_migration():
    """Two columns added to a table with rows, in one transaction, fail to commit on
    DuckDB 1.5: the reason migrations are cut into steps."""
    con = duckdb.connect()
    first = sql.migrations()[0]
    con.execute(first.sql)
    con.execute(
        "create table schema_migrations (version integer primary key, name varchar not null,"
        " applied_at timestamptz not null)"
    )
    con.execute("insert into schema_migrations values (1, ?, now())", [first.name])
    con.execute(
        "insert into feedback_tags values ('s-1', 'survey', 'i-1', now(), 'a', 'billing', '',"
        " 0.5, 'positive', 1, now())"
    )
    applied = apply_migrations(con)
    assert applied == [m.name for m in sql.migrations()[1:]]
    assert con.execute("select first_for_department from feedback_tags").fetchall() == [(True,)]


# 009 drops the view that 002 once created before making a table of that name, and
# "drop view if exists" fails once the table is there. Only a file older than 009 has
# the view, and every such file was written by DuckDB 2.0, which 1.5 cannot open.
REPLACES_A_VIEW = {"009_event_time_derived_tables.sql"}


def _migrated_up_to(version: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "create table schema_migrations (version integer primary key, name varchar not null,"
        " applied_at timestamptz not null)"
    )
    for migration in sql.migrations():
        if migration.version < version:
            con.execute(migration.sql)
            con.execute(
                "insert into schema_migrations values (?, ?, now())",
                [migration.version, migration.name],
            )
    return con


def test_a_half_applied_migration_runs_again():
    """A crash after some steps committed leaves them in place: running the whole
    migration again must not trip over them."""
    tried = 0
    for migration in sql.migrations():
        steps = migration_steps(migration.sql)
        if len(steps) < 2 or migration.name in REPLACES_A_VIEW:
            continue
        con = _migrated_up_to(migration.version)
        for step in steps[: len(steps) // 2 + 1]:
            con.execute(step)
        assert apply_migrations(con)[0] == migration.name
        tried += 1
    assert tried >= 5
