"""Every example query, department view and cx view runs on a file shaped like a real one.

The fixtures check exact rows on a handful of hand-written ones; this runs the same
SQL on the benchmark's generated file (bench/views.py: set-based SQL, 90 days, ten
departments, rollups, alerts, recovery items, cause actions), at a small size, with
the clock at the end of its data: every query must bind and run, and the department
views must find the week's feedback. The pipeline itself is not run: a file big
enough to fill every view through the emulator would take minutes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from bench.views import DEPARTMENTS, END, build_views_db
from tests.sql.helpers import discover
from voc import sql
from voc.transforms.sinks.duckdb_schema import DATED_VIEWS

QUERIES = [r.name for r in discover() if r.purpose == "queries"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    path = Path(tmp_path_factory.mktemp("generated")) / "voc.duckdb"
    build_views_db(path, 30_000)
    con = duckdb.connect(str(path), read_only=True)
    con.execute(f"set variable voc_now = timestamptz '{END}'")
    yield con
    con.close()


@pytest.mark.parametrize("name", QUERIES)
def test_every_example_query_runs(generated: duckdb.DuckDBPyConnection, name: str):
    cursor = generated.execute(sql.query(name))
    assert cursor.description
    cursor.fetchall()


def test_every_department_view_finds_the_week(generated: duckdb.DuckDBPyConnection):
    for department in DEPARTMENTS:
        for view in DATED_VIEWS:
            rows = generated.execute(f"select * from {department}.{view}").fetchall()
            assert rows, f"{department}.{view} is empty on a generated week"


def test_every_cx_view_runs(generated: duckdb.DuckDBPyConnection):
    for view in sql.cx_views():
        generated.execute(f"select * from cx.{view.name} limit 5").fetchall()
