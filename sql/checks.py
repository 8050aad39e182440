"""Column tests for the views and example queries voc ships, read from the YAML beside each.

Every ``sql/views/<view>.sql`` and ``sql/queries/<name>.sql`` has a
``<name>.yaml`` beside it (in the manner of dbt's ``schema.yml``): who reads
it, what one row is, and every column it returns with a description and the
tests that the SQL really guarantees. Owners read the YAML as documentation;
the test suite runs its tests against hand-written fixtures, and CI or an
owner can run them against a real file later with the same functions.

Tests (a column's ``tests`` list; as in dbt, a null passes every test but
``not_null``, so a nullable column can still be unique or take listed values):

- ``not_null``: no row has a null.
- ``unique``: no non-null value occurs twice.
- ``accepted_values: [a, b]``: every non-null value is one of those listed.
- ``relationships: {to: table, field: column}``: every non-null value is found
  in ``table.column`` (e.g. a view's event id is a real row of its fact table).

The documentation must also stay complete: a column the relation returns that
the YAML does not describe is a failure, and so is a column the YAML describes
that the relation does not return. A malformed spec (an unknown test name, a
column without a description) is rejected when it is loaded, because it is a
mistake in the YAML rather than in the data.

Each test is one query against the relation, so a failure line can name the
offending values; on a large file every test is a scan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import duckdb
import yaml

TEST_NAMES = ("not_null", "unique", "accepted_values", "relationships")

# How many offending values a failure line names; the count says how many there are.
EXAMPLES = 3

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RELATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_SPEC_KEYS = {"description", "readers", "row", "grain", "columns"}
_COLUMN_KEYS = {"name", "description", "tests"}


class SpecError(ValueError):
    """A YAML spec that cannot be trusted as documentation or as tests."""


@dataclass(frozen=True)
class ColumnTest:
    """One test on one column; ``argument`` holds what the test takes, if anything."""

    name: str
    argument: Any = None


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    tests: tuple[ColumnTest, ...] = ()


@dataclass(frozen=True)
class Spec:
    """What a view or query promises: its readers, its row, and every column it returns."""

    name: str
    description: str
    readers: tuple[str, ...]
    row: str
    grain: tuple[str, ...]
    columns: tuple[Column, ...]

    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


# -- loading ---------------------------------------------------------------------


def load_spec(source: Path | Traversable) -> Spec:
    """Read and validate ``<name>.yaml``; the relation's name is the file's stem."""
    name = source.name.removesuffix(".yaml")
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    return parse_spec(name, raw)


def parse_spec(name: str, raw: object) -> Spec:
    """Validate a spec already parsed from YAML; raises SpecError naming every problem.

    All problems are collected before raising, so one run shows everything an
    author has to fix rather than one mistake at a time.
    """
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise SpecError(f"{name}: the YAML must be a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _SPEC_KEYS)
    if unknown:
        problems.append(f"unknown keys {unknown} (known: {sorted(_SPEC_KEYS)})")
    description = _text(raw.get("description"), "description", problems)
    row = _text(raw.get("row"), "row", problems)
    readers = _strings(raw.get("readers"), "readers", problems, required=True)
    grain = _strings(raw.get("grain", []), "grain", problems, required=False)

    columns: list[Column] = []
    raw_columns = raw.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        problems.append("columns must be a non-empty list")
        raw_columns = []
    for position, raw_column in enumerate(raw_columns, start=1):
        column = _parse_column(raw_column, position, problems)
        if column is not None:
            columns.append(column)

    names = [column.name for column in columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        problems.append(f"columns documented twice: {duplicated}")
    undocumented_grain = [g for g in grain if g not in names]
    if undocumented_grain:
        problems.append(f"grain names columns that are not documented: {undocumented_grain}")

    if problems:
        raise SpecError(f"{name}: " + "; ".join(problems))
    return Spec(name, description, tuple(readers), row, tuple(grain), tuple(columns))


def _text(value: object, key: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{key} must be a non-empty string")
        return ""
    return value.strip()


def _strings(value: object, key: str, problems: list[str], *, required: bool) -> list[str]:
    valid = isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    if not valid or (required and not value):
        problems.append(f"{key} must be a {'non-empty ' if required else ''}list of strings")
        return []
    return list(value)


def _parse_column(raw: object, position: int, problems: list[str]) -> Column | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        problems.append(f"column #{position} must be a mapping with a name")
        return None
    name = raw["name"]
    where = f"column {name}"
    unknown = sorted(set(raw) - _COLUMN_KEYS)
    if unknown:
        problems.append(f"{where}: unknown keys {unknown} (known: {sorted(_COLUMN_KEYS)})")
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        problems.append(f"{where}: description must be a non-empty string")
        description = ""
    raw_tests = raw.get("tests", [])
    if not isinstance(raw_tests, list):
        problems.append(f"{where}: tests must be a list")
        raw_tests = []
    tests = [_parse_test(t, where, problems) for t in raw_tests]
    return Column(name, description.strip(), tuple(t for t in tests if t is not None))


def _parse_test(raw: object, where: str, problems: list[str]) -> ColumnTest | None:
    """A test is a bare name (``not_null``) or a one-key mapping (``accepted_values: [..]``)."""
    if isinstance(raw, str):
        name, argument = raw, None
    elif isinstance(raw, Mapping) and len(raw) == 1:
        [(name, argument)] = raw.items()
    else:
        problems.append(f"{where}: a test is a name or a one-key mapping, got {raw!r}")
        return None
    if name not in TEST_NAMES:
        problems.append(f"{where}: unknown test {name!r} (known: {', '.join(TEST_NAMES)})")
        return None
    if name in ("not_null", "unique"):
        if argument is not None:
            problems.append(f"{where}: {name} takes no argument")
            return None
        return ColumnTest(name)
    if name == "accepted_values":
        if not isinstance(argument, list) or not argument:
            problems.append(f"{where}: accepted_values needs a non-empty list of values")
            return None
        return ColumnTest(name, tuple(argument))
    # relationships
    if (
        not isinstance(argument, Mapping)
        or set(argument) != {"to", "field"}
        or not _RELATION_NAME.match(str(argument["to"]))
        or not _IDENTIFIER.match(str(argument["field"]))
    ):
        problems.append(f"{where}: relationships needs {{to: <table>, field: <column>}}")
        return None
    return ColumnTest(name, (str(argument["to"]), str(argument["field"])))


# -- running -----------------------------------------------------------------------


def run_column_tests(
    con: duckdb.DuckDBPyConnection, relation_sql_or_name: str, spec: Spec
) -> list[str]:
    """Run every column test of ``spec``; one human-readable line per failure, [] = pass.

    ``relation_sql_or_name`` is a view or table name, or the text of a select
    (an example query from ``sql/queries`` as it is). Columns are compared
    first, both ways, so the YAML cannot drift from what owners actually get;
    a documented column that is missing is reported once and its tests skipped.
    """
    relation = _relation(relation_sql_or_name)
    returned = [d[0] for d in con.execute(f"select * from {relation} limit 0").description]
    documented = spec.column_names()
    failures = [
        f"{spec.name}.{name}: returned by the relation but not documented in the YAML"
        for name in returned
        if name not in documented
    ]
    failures += [
        f"{spec.name}.{name}: documented in the YAML but not returned by the relation"
        for name in documented
        if name not in returned
    ]
    for column in spec.columns:
        if column.name not in returned:
            continue
        for test in column.tests:
            failure = _run_test(con, relation, column.name, test)
            if failure:
                failures.append(f"{spec.name}.{column.name}: {test.name} failed: {failure}")
    return failures


def _relation(relation_sql_or_name: str) -> str:
    """A name as a quoted identifier; a select as a parenthesised subquery.

    The closing parenthesis goes on its own line so that a select ending in a
    ``--`` comment does not comment it out.
    """
    text = relation_sql_or_name.strip()
    if _RELATION_NAME.match(text):
        return ".".join(_quote(part) for part in text.split("."))
    return f"(\n{text.rstrip(';').rstrip()}\n)"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _run_test(
    con: duckdb.DuckDBPyConnection, relation: str, column: str, test: ColumnTest
) -> str | None:
    """The failure text for one test, or None when it passes."""
    col = _quote(column)
    if test.name == "not_null":
        [(nulls,)] = con.execute(f"select count(*) from {relation} where {col} is null").fetchall()
        return f"{_plural(nulls, 'row')} with a null" if nulls else None
    if test.name == "unique":
        offenders = _offenders(
            con,
            f"select {col} as value, count(*) as n from {relation} "
            f"where {col} is not null group by {col} having count(*) > 1",
        )
        return _describe(offenders, "occurring more than once")
    if test.name == "accepted_values":
        accepted = test.argument
        placeholders = ", ".join("?" for _ in accepted)
        offenders = _offenders(
            con,
            f"select {col} as value, count(*) as n from {relation} "
            f"where {col} is not null and {col} not in ({placeholders}) group by {col}",
            list(accepted),
        )
        listed = ", ".join(str(v) for v in accepted)
        return _describe(offenders, f"not in [{listed}]")
    to, field = test.argument
    target = _relation(to)
    offenders = _offenders(
        con,
        f"select r.{col} as value, count(*) as n from {relation} as r "
        f"anti join {target} as t on t.{_quote(field)} = r.{col} "
        f"where r.{col} is not null group by r.{col}",
    )
    return _describe(offenders, f"not found in {to}.{field}")


def _offenders(
    con: duckdb.DuckDBPyConnection, grouped_sql: str, parameters: Sequence[Any] = ()
) -> list[tuple[Any, int, int]]:
    """(value, rows, how many offending values in all) for the first few offenders.

    ``grouped_sql`` returns one row per offending value with its row count; the
    window counts them all so the line can say how many there are without a
    second scan.
    """
    return con.execute(
        f"select value, n, count(*) over () from ({grouped_sql}) "
        f"order by n desc, value limit {EXAMPLES}",
        list(parameters),
    ).fetchall()


def _describe(offenders: list[tuple[Any, int, int]], what: str) -> str | None:
    if not offenders:
        return None
    total = offenders[0][2]
    examples = ", ".join(f"{value!r} ({_plural(n, 'row')})" for value, n, _ in offenders)
    more = f", and {total - len(offenders)} more" if total > len(offenders) else ""
    return f"{_plural(total, 'value')} {what}: {examples}{more}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
