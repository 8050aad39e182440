"""What the SQL tests share: discovering views and queries, and loading their fixtures.

A fixture folder, ``tests/sql/fixtures/<name>/``, holds ``given.yaml`` (rows to
insert, per table) and ``expected.yaml`` (the rows the view or query returns, in
order, every column). Fixtures give only the columns that matter to the case;
the other NOT NULL columns get a default of their type, so a fixture stays
readable and survives a migration that adds a column.

A table macro documented with a YAML beside it (``sql/macros/<macro>.yaml``) is
tested the same way; its fixture folder also holds ``select.sql``, the call whose
rows expected.yaml lists (a macro needs its arguments), e.g.
``select * from recovery_queue_of('billing')``.

``given.yaml`` may also hold ``variables:``, DuckDB session variables set before
the rows go in: ``voc_now`` pins the clock of the views that measure ages from
now() (pipeline_status), so their expected rows can be exact.

``given.yaml`` may start from a shared data set: ``include: NAME`` loads
``fixtures/_shared/NAME.yaml`` first (its variables and rows), then the file's own.
The owners' example queries share one week of a small company that way.

The department views' macros (``<view>_of``) are called in their select.sql for the
``billing`` department over the last 7 days, as the ``billing.<view>`` view does;
test_department_views.py checks that the view gives the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import duckdb
import yaml

from voc import sql
from voc.sql import checks
from voc.transforms.sinks.duckdb_schema import create_department_schemas, prepare

FIXTURES = Path(__file__).parent / "fixtures"
PURPOSES = ("views", "queries", "macros")
# The given.yaml key holding session variables rather than a table's rows.
VARIABLES = "variables"
# The given.yaml key naming a shared data set in fixtures/_shared/ to load first.
INCLUDE = "include"
SHARED = FIXTURES / "_shared"
# The department the department-view macros' fixtures are read through.
FIXTURE_DEPARTMENT = "billing"

# A value for every NOT NULL column a fixture leaves out, by DuckDB type. A new
# type makes insert_rows fail with its name, rather than guess.
TYPE_DEFAULTS: dict[str, Any] = {
    "VARCHAR": "",
    "JSON": "{}",
    "BLOB": b"",
    "BOOLEAN": False,
    "TINYINT": 0,
    "INTEGER": 0,
    "BIGINT": 0,
    "DOUBLE": 0.0,
    "TIMESTAMP WITH TIME ZONE": datetime(2026, 1, 1, tzinfo=UTC),
    "VARCHAR[]": [],
}


@dataclass(frozen=True)
class Relation:
    """One view or example query: where its SQL, YAML and fixtures live."""

    purpose: str  # views | queries | macros
    name: str

    @property
    def id(self) -> str:
        return f"{self.purpose}/{self.name}"

    @property
    def spec_file(self) -> Traversable:
        return sql.folder(self.purpose) / f"{self.name}.yaml"

    @property
    def fixture_dir(self) -> Path:
        return FIXTURES / self.name

    def spec(self) -> checks.Spec:
        return checks.load_spec(self.spec_file)

    def select(self, spec: checks.Spec) -> str:
        """The SQL whose rows expected.yaml lists: a view by its grain, a query as it is,
        a macro as its fixture calls it."""
        if self.purpose == "queries":
            return sql.query(self.name)
        if self.purpose == "macros":
            return (self.fixture_dir / "select.sql").read_text(encoding="utf-8")
        assert spec.grain, f"{self.spec_file.name}: a view needs a grain to order its rows by"
        return f"select * from {self.name} order by {', '.join(spec.grain)}"

    def checked(self) -> str:
        """What the column tests run against: the view itself, or the query's text."""
        if self.purpose == "macros":
            return self.select(self.spec())
        return self.name if self.purpose == "views" else sql.query(self.name)


def discover(suffix: str = ".sql") -> list[Relation]:
    """Every file with ``suffix`` in sql/views and sql/queries, and every documented
    table macro (a YAML beside it) in sql/macros, as a Relation."""
    return sorted(
        (
            Relation(purpose, entry.name.removesuffix(suffix))
            for purpose in PURPOSES
            for entry in sql.folder(purpose).iterdir()
            if entry.name.endswith(suffix)
            if purpose != "macros" or _documented_macro(entry.name.removesuffix(suffix))
        ),
        key=lambda r: r.id,
    )


def _documented_macro(name: str) -> bool:
    folder = sql.folder("macros")
    return (folder / f"{name}.yaml").is_file() and (folder / f"{name}.sql").is_file()


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def prepared() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with every migration applied and every view created."""
    con = duckdb.connect()
    prepare(con)
    return con


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert fixture rows; NOT NULL columns without a table default get TYPE_DEFAULTS."""
    required = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_name = ? and is_nullable = 'NO' and column_default is null",
        [table],
    ).fetchall()
    # Consecutive rows naming the same columns go in with one insert: the shared
    # fixtures have a hundred rows, and the order of arrival is kept.
    batches: list[tuple[tuple[str, ...], list[list[Any]]]] = []
    for row in rows:
        filled = {
            column: TYPE_DEFAULTS[data_type]
            for column, data_type in required
            if column not in row and data_type in TYPE_DEFAULTS
        }
        missing = [c for c, t in required if c not in row and t not in TYPE_DEFAULTS]
        assert not missing, f"{table}: no default for NOT NULL columns {missing}; give them"
        values = row | filled
        columns = tuple(values)
        if batches and batches[-1][0] == columns:
            batches[-1][1].append(list(values.values()))
        else:
            batches.append((columns, [list(values.values())]))
    for columns, batch in batches:
        row_placeholders = "(" + ", ".join("?" for _ in columns) + ")"
        con.execute(
            f"insert into {table} ({', '.join(columns)}) values "
            + ", ".join(row_placeholders for _ in batch),
            [value for values in batch for value in values],
        )


def with_included(given: dict[str, Any]) -> dict[str, Any]:
    """given.yaml with its ``include:`` resolved: the shared set's variables and rows,
    then the file's own (rows of a table both name are concatenated)."""
    name = given.get(INCLUDE)
    if name is None:
        return given
    shared = read_yaml(SHARED / f"{name}.yaml")
    merged: dict[str, Any] = {}
    for source in (shared, given):
        for key, value in source.items():
            if key == INCLUDE:
                continue
            if key == VARIABLES:
                merged[VARIABLES] = merged.get(VARIABLES, {}) | value
            else:
                merged[key] = merged.get(key, []) + value
    return merged


def load_given(con: duckdb.DuckDBPyConnection, given: dict[str, Any], *, reverse: bool) -> None:
    """Set given.yaml's variables, then insert its rows; ``reverse`` inserts tables and
    rows last first (arrival order). The department schemas are re-created after the
    rows are in, as the next read-write open would (a department seen in the rows
    gets its schema)."""
    given = with_included(given)
    for name, value in given.get(VARIABLES, {}).items():
        assert name.isidentifier(), f"{VARIABLES}: {name!r} is not a variable name"
        con.execute(f"set variable {name} = ?", [value])
    tables = [(table, rows) for table, rows in given.items() if table != VARIABLES]
    for table, rows in reversed(tables) if reverse else tables:
        insert_rows(con, table, list(reversed(rows)) if reverse else rows)
    create_department_schemas(con)


def fetch_rows(con: duckdb.DuckDBPyConnection, select: str) -> list[dict[str, Any]]:
    cursor = con.execute(select)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


@dataclass(frozen=True)
class DepartmentMacro:
    """A department table macro with a YAML beside it: its fixtures and how it is called."""

    name: str  # e.g. open_issues_of

    @property
    def view(self) -> str:
        return self.name.removesuffix("_of")

    @property
    def id(self) -> str:
        return f"macros/{self.name}"

    @property
    def spec_file(self) -> Traversable:
        return sql.folder("macros") / f"{self.name}.yaml"

    @property
    def fixture_dir(self) -> Path:
        return FIXTURES / self.name

    def spec(self) -> checks.Spec:
        return checks.load_spec(self.spec_file)

    def select(self) -> str:
        """The call whose rows expected.yaml lists: the fixture's select.sql (for the
        department views' macros, the billing department over the last 7 days)."""
        return (self.fixture_dir / "select.sql").read_text(encoding="utf-8")

    def department_view(self, department: str = FIXTURE_DEPARTMENT) -> str:
        return f"{department}.{self.view}"


def discover_macros() -> list[DepartmentMacro]:
    """Every ``sql/macros/<view>_of.sql`` that has a YAML beside it."""
    folder = sql.folder("macros")
    return sorted(
        (
            DepartmentMacro(entry.name.removesuffix(".yaml"))
            for entry in folder.iterdir()
            if entry.name.endswith("_of.yaml") and (folder / (entry.name[:-5] + ".sql")).is_file()
        ),
        key=lambda m: m.name,
    )
