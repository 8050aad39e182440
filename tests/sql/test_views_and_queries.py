"""Every view and example query against its fixtures: exact rows, and its YAML column tests.

The relations are discovered from sql/views/*.sql and sql/queries/*.sql, so a
new view or query fails here until it has a YAML beside it and a fixture folder.
"""

from __future__ import annotations

import pytest

from tests.sql.helpers import (
    FIXTURES,
    SHARED,
    Relation,
    discover,
    fetch_rows,
    load_given,
    prepared,
    read_yaml,
)
from voc.sql import checks

RELATIONS = discover()


def test_there_is_something_to_check():
    """Guards the parametrised tests below: an empty discovery would pass them all."""
    assert {r.id for r in RELATIONS} >= {
        "views/interaction_parts",
        "views/issue_rollups_daily",
        "queries/department_summary",
    }


@pytest.mark.parametrize("relation", RELATIONS, ids=lambda r: r.id)
def test_every_view_and_query_has_a_yaml_and_fixtures(relation: Relation):
    assert relation.spec_file.is_file(), f"{relation.id}: no {relation.name}.yaml beside its SQL"
    for fixture in ("given.yaml", "expected.yaml"):
        path = relation.fixture_dir / fixture
        assert path.is_file(), f"{relation.id}: no fixture {path.relative_to(FIXTURES.parent)}"


def test_no_yaml_or_fixture_folder_without_its_sql():
    """A renamed or deleted view must not leave its documentation or fixtures behind."""
    names = {r.name for r in RELATIONS}
    orphan_specs = [r.id for r in discover(".yaml") if r.name not in names]
    # _shared holds the data sets given.yaml files include.
    fixture_names = names | {SHARED.name}
    orphan_fixtures = [
        p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name not in fixture_names
    ]
    assert orphan_specs == []
    assert orphan_fixtures == []
    assert len({r.name for r in RELATIONS}) == len(RELATIONS), "a view and a query share a name"


@pytest.mark.parametrize("arrival", ["as_given", "reversed"])
@pytest.mark.parametrize("relation", RELATIONS, ids=lambda r: r.id)
def test_fixture_gives_the_expected_rows_and_passes_the_column_tests(
    relation: Relation, arrival: str
):
    """Exact rows in order; the same when every row arrives in the opposite order."""
    spec = relation.spec()
    con = prepared()
    load_given(con, read_yaml(relation.fixture_dir / "given.yaml"), reverse=arrival == "reversed")
    expected = read_yaml(relation.fixture_dir / "expected.yaml")

    actual = fetch_rows(con, relation.select(spec))

    assert expected, "expected.yaml lists no rows: the comparison would prove nothing"
    assert [list(row) for row in actual] == [list(row) for row in expected], "column order"
    assert actual == expected
    assert checks.run_column_tests(con, relation.checked(), spec) == []


@pytest.mark.parametrize("relation", RELATIONS, ids=lambda r: r.id)
def test_fixture_exercises_every_column_test(relation: Relation):
    """A column test only means something if the fixture has values for it to look at."""
    spec = relation.spec()
    con = prepared()
    load_given(con, read_yaml(relation.fixture_dir / "given.yaml"), reverse=False)
    rows = fetch_rows(con, relation.select(spec))
    tested = [column.name for column in spec.columns if column.tests]
    never_set = [name for name in tested if all(row[name] is None for row in rows)]
    assert never_set == []


@pytest.mark.parametrize("relation", RELATIONS, ids=lambda r: r.id)
def test_fixture_gives_the_same_rows_in_another_session_time_zone(relation: Relation):
    """Days and hours are UTC whatever the reader's session says.

    DuckDB buckets, truncates and adds calendar intervals to a timestamptz in the
    session's time zone unless told otherwise; a +05:45 session (no whole-hour
    offset) shows a view that forgot, in any hour or day it reports.
    """
    spec = relation.spec()
    con = prepared()
    con.execute("set TimeZone = 'Asia/Kathmandu'")
    load_given(con, read_yaml(relation.fixture_dir / "given.yaml"), reverse=False)

    actual = fetch_rows(con, relation.select(spec))

    assert actual == read_yaml(relation.fixture_dir / "expected.yaml")
