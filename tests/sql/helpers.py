"""What the SQL tests share: discovering views and queries, and loading their fixtures.

A fixture folder, ``tests/sql/fixtures/<name>/``, holds ``given.yaml`` (rows to
insert, per table) and ``expected.yaml`` (the rows the view or query returns, in
order, every column). Fixtures give only the columns that matter to the case;
the other NOT NULL columns get a default of their type, so a fixture stays
readable and survives a migration that adds a column.

``given.yaml`` may also hold ``variables:``, DuckDB session variables set before
the rows go in: ``voc_now`` pins the clock of the views that measure ages from
now() (pipeline_status), so their expected rows can be exact.
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
from voc.transforms.sinks.duckdb_schema import prepare

FIXTURES = Path(__file__).parent / "fixtures"
PURPOSES = ("views", "queries")
# The given.yaml key holding session variables rather than a table's rows.
VARIABLES = "variables"

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

    purpose: str  # views | queries
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
        """The SQL whose rows expected.yaml lists: a view by its grain, a query as it is."""
        if self.purpose == "queries":
            return sql.query(self.name)
        assert spec.grain, f"{self.spec_file.name}: a view needs a grain to order its rows by"
        return f"select * from {self.name} order by {', '.join(spec.grain)}"

    def checked(self) -> str:
        """What the column tests run against: the view itself, or the query's text."""
        return self.name if self.purpose == "views" else sql.query(self.name)


def discover(suffix: str = ".sql") -> list[Relation]:
    """Every file with ``suffix`` in sql/views and sql/queries, as a Relation."""
    return sorted(
        (
            Relation(purpose, entry.name.removesuffix(suffix))
            for purpose in PURPOSES
            for entry in sql.folder(purpose).iterdir()
            if entry.name.endswith(suffix)
        ),
        key=lambda r: r.id,
    )


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
    for row in rows:
        filled = {
            column: TYPE_DEFAULTS[data_type]
            for column, data_type in required
            if column not in row and data_type in TYPE_DEFAULTS
        }
        missing = [c for c, t in required if c not in row and t not in TYPE_DEFAULTS]
        assert not missing, f"{table}: no default for NOT NULL columns {missing}; give them"
        values = row | filled
        columns = ", ".join(values)
        placeholders = ", ".join("?" for _ in values)
        con.execute(
            f"insert into {table} ({columns}) values ({placeholders})", list(values.values())
        )


def load_given(con: duckdb.DuckDBPyConnection, given: dict[str, Any], *, reverse: bool) -> None:
    """Set given.yaml's variables, then insert its rows; ``reverse`` inserts tables and
    rows last first (arrival order)."""
    for name, value in given.get(VARIABLES, {}).items():
        assert name.isidentifier(), f"{VARIABLES}: {name!r} is not a variable name"
        con.execute(f"set variable {name} = ?", [value])
    tables = [(table, rows) for table, rows in given.items() if table != VARIABLES]
    for table, rows in reversed(tables) if reverse else tables:
        insert_rows(con, table, list(reversed(rows)) if reverse else rows)


def fetch_rows(con: duckdb.DuckDBPyConnection, select: str) -> list[dict[str, Any]]:
    cursor = con.execute(select)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
