"""Bring a DuckDB file to the current schema: pending migrations, then macros and views.

Migrations (``sql/migrations``) create and alter tables, once per file, in the
transactions :mod:`voc.transforms.sinks.migration_steps` cuts them into, recorded
in ``schema_migrations`` with the last one. Views (``sql/views``)
and the table macros they call (``sql/macros``) are re-created on every
read-write open, so a file written by an older release reads through the
current views as soon as the job or ``voc dlq`` opens it, and changing a view
needs no migration.

Then every department (the ``departments`` table, and any named in feedback_tags)
gets a schema of views, ``<department>.open_issues`` and the rest, each one line
calling a table macro of ``sql/macros`` with the department's name over the last
7 days; and the ``cx`` schema gets the cross-department views of ``sql/cx``
(docs/department-views.md).
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import UTC, datetime

import duckdb

from voc import sql
from voc.transforms.sinks.migration_steps import migration_steps


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
        steps = migration_steps(migration.sql) or [""]  # a retired number is recorded too
        for number, step in enumerate(steps, start=1):
            con.execute("begin transaction")
            try:
                if step:
                    con.execute(step)
                if number == len(steps):  # recorded with its last step, not before
                    con.execute(
                        "insert into schema_migrations values (?, ?, ?)",
                        [migration.version, migration.name, datetime.now(UTC)],
                    )
                con.execute("commit")
            except Exception:
                with suppress(duckdb.Error):  # a failed commit has already ended it
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
    # A macro is bound when it is created, so one that calls another macro (report_end())
    # waits for it the same way a view waits for the view it reads.
    _create_in_dependency_order(con, [(m.name, m.sql) for m in sql.macros()])
    return _create_in_dependency_order(
        con, [(view.name, view.create_statement) for view in sql.views()]
    )


def _create_in_dependency_order(
    con: duckdb.DuckDBPyConnection, pending: list[tuple[str, str]]
) -> list[str]:
    """Run each (name, create statement), retrying those that name an object not created
    yet until a round makes no progress; returns the names in the order they succeeded."""
    created: list[str] = []
    while pending:
        failed: list[tuple[tuple[str, str], duckdb.Error]] = []
        for name, statement in pending:
            try:
                con.execute(statement)
                created.append(name)
            except duckdb.CatalogException as error:
                failed.append(((name, statement), error))
        if len(failed) == len(pending):
            raise failed[0][1]
        pending = [item for item, _ in failed]
    return created


def prepare(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Migrate, then re-create the views and the department schemas; returns the
    migrations applied."""
    applied = apply_migrations(con)
    apply_views(con)
    return applied


def apply_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The macros, views and department schemas over whatever ``con`` calls the voc
    tables: a file's tables, or the owners' deduplicating views over a DuckLake
    (:mod:`voc.transforms.sinks.ducklake_views`); returns the department views made."""
    create_views(con)
    return create_department_schemas(con)


# -- one schema per department, and the cx schema -----------------------------------

# Department views over a period: [report_end() - 168 hours, report_end()), which is
# "the last 7 days" in hours (the same in every session time zone, DST or not).
DATED_VIEWS = ("open_issues", "verbatims", "trend_daily", "csat_by_channel", "alerts")
# Department views without a period: their macro takes only the department.
UNDATED_VIEWS = ("recovery_queue", "fix_impact")
PERIOD = "report_end() - interval 168 hours, report_end()"
CX_SCHEMA = "cx"
_DEPARTMENT = re.compile(r"[a-z][a-z0-9_]*")
# Schema names DuckDB or voc already use: a department cannot take them.
RESERVED_SCHEMAS = frozenset(
    {"main", "cx", "information_schema", "pg_catalog", "temp", "system", "memory"}
)


class DepartmentNameError(ValueError):
    """A department name that cannot be a schema name; the message is one line."""


def check_department_name(name: str) -> str:
    """``name`` if it is a safe schema name ([a-z][a-z0-9_]*, not reserved), else
    DepartmentNameError: department names become SQL identifiers unquoted."""
    if not isinstance(name, str) or not _DEPARTMENT.fullmatch(name):
        raise DepartmentNameError(
            f"department {name!r}: not a schema name (lowercase letter, then a-z, 0-9, _)"
        )
    if name in RESERVED_SCHEMAS:
        raise DepartmentNameError(f"department {name!r}: reserved schema name, choose another")
    return name


def department_view_statement(department: str, view: str) -> str:
    """The create statement of ``<department>.<view>``: the view's table macro for
    that department, over the last 7 days for the dated views."""
    check_department_name(department)
    period = f", {PERIOD}" if view in DATED_VIEWS else ""
    return (
        f"create or replace view {department}.{view} as\n"
        f"select * from {view}_of('{department}'{period})"
    )


def known_departments(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every department of the ``departments`` table and every one named in
    feedback_tags, by name (the latter is one scan of a dictionary-compressed column)."""
    rows = con.execute(
        "select department from departments "
        "union select distinct department from feedback_tags order by 1"
    ).fetchall()
    return [row[0] for row in rows]


def _table_macros(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select function_name from duckdb_functions() "
        "where function_type = 'table_macro' and schema_name = 'main'"
    ).fetchall()
    return {row[0] for row in rows}


def create_department_schemas(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create (or re-create) ``<dept>.<view>`` for every known department and every
    department view whose table macro exists, and the cx schema; returns the
    department views created as ``schema.view``.

    A view whose macro is missing (a release without it) is left out rather than
    failing the open. A department name that is not a safe schema name raises
    DepartmentNameError naming it.
    """
    macros = _table_macros(con)
    views = [v for v in DATED_VIEWS + UNDATED_VIEWS if f"{v}_of" in macros]
    created: list[str] = []
    for department in known_departments(con):
        check_department_name(department)
        con.execute(f"create schema if not exists {department}")
        for view in views:
            con.execute(department_view_statement(department, view))
            created.append(f"{department}.{view}")
    con.execute(f"create schema if not exists {CX_SCHEMA}")
    _create_in_dependency_order(
        con,
        [
            (view.name, f"create or replace view {CX_SCHEMA}.{view.name} as\n{view.sql}")
            for view in sql.cx_views()
        ],
    )
    return created


def write_departments(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> list[str]:
    """Replace the ``departments`` table's rows with ``rows`` (department, description,
    owner, contact, digest_schedule, delivery) and re-create the department schemas;
    returns the views created. The job calls it at start with its taxonomy's
    departments joined with the owners registry."""
    for row in rows:
        check_department_name(row["department"])
    now = datetime.now(UTC)
    con.execute("delete from departments")
    for row in rows:
        con.execute(
            "insert into departments (department, description, owner, contact, "
            "digest_schedule, delivery, updated_at) values (?, ?, ?, ?, ?, ?, ?)",
            [
                row["department"],
                row["description"],
                row.get("owner"),
                row.get("contact"),
                row.get("digest_schedule"),
                row.get("delivery"),
                now,
            ],
        )
    return create_department_schemas(con)
