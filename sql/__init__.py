"""The SQL voc ships, found by purpose.

    sql/migrations/NNN_name.sql   tables: created and altered once per file, in order
    sql/macros/<macro>.sql        table macros the views share: re-created at every start
    sql/views/<view>.sql          what owners query: re-created at every start
    sql/cx/<view>.sql             the cx schema's cross-department views, the same way
    sql/queries/<name>.sql        example questions, also used by `voc summary`

A view file holds only its select (a CTE chain); its name is the file's name.
Keeping views out of migrations means changing a view is an edit to one file,
not a new migration, and every file gets the current definition on its next
start. Each view has a YAML beside it: who reads it, what a row is, and column
tests that the test suite runs against fixtures.
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable
from typing import NamedTuple

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_OBJECT_NAME = re.compile(r"^([a-z][a-z0-9_]*)\.sql$")


class Migration(NamedTuple):
    version: int
    name: str
    sql: str


class View(NamedTuple):
    name: str
    sql: str  # the select, without "create view"

    @property
    def create_statement(self) -> str:
        return f"create or replace view {self.name} as\n{self.sql}"


def folder(purpose: str) -> Traversable:
    return resources.files("voc.sql") / purpose


def migrations() -> list[Migration]:
    """Every file in sql/migrations, in version order."""
    found = []
    for entry in folder("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


class Macro(NamedTuple):
    name: str
    sql: str  # the whole "create or replace macro" statement: a macro needs its parameters


def _named_objects(purpose: str) -> list[tuple[str, str]]:
    """(name, text) of every ``<name>.sql`` in one folder, by name."""
    found = []
    for entry in folder(purpose).iterdir():
        match = _OBJECT_NAME.match(entry.name)
        if match:
            found.append((match[1], entry.read_text(encoding="utf-8").strip()))
    return sorted(found)


def macros() -> list[Macro]:
    """Every table macro in sql/macros, by name; views may call them."""
    return [Macro(name, text) for name, text in _named_objects("macros")]


def views() -> list[View]:
    """Every view in sql/views, by name (the creator resolves dependencies between them)."""
    return [View(name, text) for name, text in _named_objects("views")]


def query(name: str) -> str:
    """An example question from sql/queries."""
    return (folder("queries") / f"{name}.sql").read_text(encoding="utf-8")


def cx_views() -> list[View]:
    """Every view of the cx schema (sql/cx), by name; created as ``cx.<name>``.

    The department schemas need no files: each of their views is one line that
    calls a table macro of sql/macros with the department's name.
    """
    return [View(name, text) for name, text in _named_objects("cx")]
