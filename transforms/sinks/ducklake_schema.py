"""The lake's tables, derived from ``sql/migrations``: one definition of the schema.

DuckLake refuses PRIMARY KEY and UNIQUE ("not supported in DuckLake"), refuses a
default on an added column, and some migration statements (backfills, dropping a
view) mean nothing in an empty lake. Rather than keep a second copy of the DDL,
voc applies the migrations to an in-memory DuckDB (the same function that
migrates a file), reads the resulting tables back from DuckDB's catalog, and
writes each one for the lake without its key constraints. The keys are kept as
data (:class:`TableShape.key`): they are what the owners' views deduplicate on
and what ``voc lake maintain`` makes unique again.

A later migration therefore reaches the lake by itself: a new table is created,
a new column added (without a default: DuckLake applies defaults only to tables
it creates; rows written before the column was added read NULL, as in a file).
A changed column type is not migrated (DuckLake cannot rewrite a column); it is
reported by :func:`schema_drift`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import duckdb

from voc.transforms.sinks.duckdb_schema import apply_migrations

# Bookkeeping of the file store, not data: the lake has no migration history.
NOT_IN_LAKE = frozenset({"schema_migrations"})


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None


@dataclass(frozen=True)
class TableShape:
    name: str
    columns: tuple[Column, ...]
    # The file's primary key: unique there, deduplicated on in the lake.
    key: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def shapes_of(con: duckdb.DuckDBPyConnection) -> tuple[TableShape, ...]:
    """Every base table of ``con``'s main schema, with its columns and primary key."""
    keys: dict[str, tuple[str, ...]] = {}
    for table, kind, names in con.execute(
        "select table_name, constraint_type, constraint_column_names from duckdb_constraints() "
        "where database_name = current_database() and schema_name = 'main' "
        "and constraint_type in ('PRIMARY KEY', 'UNIQUE') order by constraint_index"
    ).fetchall():
        if kind == "PRIMARY KEY" or table not in keys:
            keys[table] = tuple(names)
    columns: dict[str, list[Column]] = {}
    for table, name, data_type, nullable, default in con.execute(
        "select c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default "
        "from duckdb_columns() c join duckdb_tables() t "
        "on c.database_name = t.database_name and c.schema_name = t.schema_name "
        "and c.table_name = t.table_name "
        "where c.database_name = current_database() and c.schema_name = 'main' "
        "order by c.table_name, c.column_index"
    ).fetchall():
        columns.setdefault(table, []).append(Column(name, data_type, not nullable, default))
    return tuple(
        TableShape(name, tuple(cols), keys.get(name, ()))
        for name, cols in sorted(columns.items())
        if name not in NOT_IN_LAKE
    )


@cache
def reference_shapes() -> tuple[TableShape, ...]:
    """The tables every migration in sql/migrations makes, as a fresh file would have them."""
    con = duckdb.connect()
    try:
        apply_migrations(con)
        return shapes_of(con)
    finally:
        con.close()


def shape(name: str) -> TableShape:
    for table in reference_shapes():
        if table.name == name:
            return table
    raise KeyError(name)


def create_statement(table: TableShape, alias: str) -> str:
    """``create table if not exists`` for the lake: the same columns, NOT NULL and
    defaults, no PRIMARY KEY or UNIQUE."""
    columns = ",\n    ".join(_column_sql(column, with_default=True) for column in table.columns)
    return f"create table if not exists {alias}.{table.name} (\n    {columns}\n)"


def _column_sql(column: Column, with_default: bool) -> str:
    text = f"{column.name} {column.type}"
    if column.not_null and with_default:
        text += " not null"
    if with_default and column.default is not None:
        text += f" default {column.default}"
    return text


def lake_columns(con: duckdb.DuckDBPyConnection, alias: str) -> dict[str, dict[str, str]]:
    """table -> column -> type, as the lake has them now."""
    found: dict[str, dict[str, str]] = {}
    for table, name, data_type in con.execute(
        "select table_name, column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = 'main' order by column_index",
        [alias],
    ).fetchall():
        found.setdefault(table, {})[name] = data_type
    return found


def pending_statements(
    existing: dict[str, dict[str, str]], alias: str, shapes: tuple[TableShape, ...] | None = None
) -> list[str]:
    """What brings a lake whose tables are ``existing`` to the reference schema: the
    missing tables, then the missing columns (nullable, no default)."""
    statements = []
    for table in shapes or reference_shapes():
        have = existing.get(table.name)
        if have is None:
            statements.append(create_statement(table, alias))
            continue
        for column in table.columns:
            if column.name not in have:
                statements.append(
                    f"alter table {alias}.{table.name} add column if not exists "
                    f"{_column_sql(column, with_default=False)}"
                )
    return statements


def schema_drift(existing: dict[str, dict[str, str]]) -> list[str]:
    """Columns whose type in the lake differs from the migrations', one line each."""
    lines = []
    for table in reference_shapes():
        have = existing.get(table.name, {})
        for column in table.columns:
            if column.name in have and have[column.name] != column.type:
                lines.append(
                    f"{table.name}.{column.name}: {have[column.name]} in the lake, "
                    f"{column.type} in the migrations"
                )
    return lines


def migrate_lake(con: duckdb.DuckDBPyConnection, alias: str) -> list[str]:
    """Apply :func:`pending_statements` in the caller's transaction; returns them."""
    statements = pending_statements(lake_columns(con, alias), alias)
    for statement in statements:
        con.execute(statement)
    return statements
