"""voc.sql.checks fails on bad data and bad specs: one case per check, so none passes vacuously.

The relation is the real interaction_parts view over its fixture with its real YAML,
altered by a select (a duplicated row, a null, a foreign value): it passes as it
is, and each case must report exactly the failure planted in it.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from tests.sql.helpers import Relation, load_given, prepared, read_yaml
from voc.sql import checks

PARTS = Relation("views", "interaction_parts")


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = prepared()
    load_given(connection, read_yaml(PARTS.fixture_dir / "given.yaml"), reverse=False)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def spec() -> checks.Spec:
    return PARTS.spec()


def test_the_fixture_itself_passes(con, spec):
    assert checks.run_column_tests(con, "interaction_parts", spec) == []


def test_a_select_ending_in_a_comment_is_a_relation(con, spec):
    assert checks.run_column_tests(con, "select * from interaction_parts -- all of it", spec) == []


# (what is planted, a select over the view that plants it, the exact failure lines)
BAD_DATA = [
    (
        "not_null: a null where the view promises none",
        "select * replace (null::boolean as complete) from interaction_parts",
        ["interaction_parts.complete: not_null failed: 6 rows with a null"],
    ),
    (
        "unique: one interaction twice",
        "select * from interaction_parts union all "
        "select * from interaction_parts where interaction_id = 'i-note-only'",
        [
            "interaction_parts.interaction_id: unique failed: 1 value occurring more than once: "
            "'i-note-only' (2 rows)",
            "interaction_parts.note_event_id: unique failed: 1 value occurring more than once: "
            "'n-3' (2 rows)",
        ],
    ),
    (
        "accepted_values: foreign text values, at most three named",
        "select * replace (case when interaction_id like 'i-both%' then 'fax' "
        "else interaction_id end as channel) from interaction_parts",
        [
            "interaction_parts.channel: accepted_values failed: 5 values not in "
            "[phone, email, chat, social, in_app]: 'fax' (2 rows), 'i-note-only' (1 row), "
            "'i-survey-only' (1 row), and 2 more"
        ],
    ),
    (
        "accepted_values: a number out of range",
        "select * replace (9::tinyint as csat) from interaction_parts",
        [
            "interaction_parts.csat: accepted_values failed: 1 value not in [1, 2, 3, 4, 5]: "
            "9 (6 rows)"
        ],
    ),
    (
        "relationships: an id its table lacks",
        "select * replace (case when survey_event_id = 's-2' then 's-lost' "
        "else survey_event_id end as survey_event_id) from interaction_parts",
        [
            "interaction_parts.survey_event_id: relationships failed: 1 value not found in "
            "surveys.event_id: 's-lost' (1 row)"
        ],
    ),
    (
        "documentation: a column the YAML does not describe",
        "select *, 'c-1' as customer_id from interaction_parts",
        ["interaction_parts.customer_id: returned by the relation but not documented in the YAML"],
    ),
    (
        # Reported once: its tests are skipped, not run into an SQL error.
        "documentation: a described column the relation lacks",
        "select * exclude (channel) from interaction_parts",
        ["interaction_parts.channel: documented in the YAML but not returned by the relation"],
    ),
    (
        # Nulls pass every test but not_null, as in dbt: unique holds where the id is set.
        "nulls: none of unique, accepted_values, relationships fails on them",
        "select * replace (null::varchar as survey_event_id, null::tinyint as csat) "
        "from interaction_parts",
        [],
    ),
]


@pytest.mark.parametrize(
    ("relation", "failures"), [c[1:] for c in BAD_DATA], ids=[c[0] for c in BAD_DATA]
)
def test_each_check_reports_exactly_what_was_planted(con, spec, relation, failures):
    assert checks.run_column_tests(con, relation, spec) == failures


def _column(**changes: object) -> dict:
    return {"name": "id", "description": "The key."} | changes


def _spec(**changes: object) -> dict:
    raw = {
        "description": "A view.",
        "readers": ["support_ops"],
        "row": "one thing",
        "grain": ["id"],
        "columns": [_column(tests=["not_null", "unique"])],
    }
    return raw | changes


def test_a_valid_spec_parses():
    spec = checks.parse_spec("things", _spec())
    tests = (checks.ColumnTest("not_null"), checks.ColumnTest("unique"))
    assert spec.columns == (checks.Column("id", "The key.", tests),)


# (a spec's columns, a problem its rejection must name)
MALFORMED = [
    ([_column(tests=["is_positive"])], "unknown test 'is_positive'"),
    ([{"name": "id"}], "column id: description must be a non-empty string"),
    ([_column(tests=[{"accepted_values": []}])], "needs a non-empty list of values"),
    ([_column(tests=[{"unique": True}])], "unique takes no argument"),
    ([_column(tests=[{"relationships": {"to": "t"}}])], "relationships needs {to: <table>"),
    ([_column(test=["unique"])], "unknown keys ['test']"),
    ([_column(name="key")], "grain names columns that are not documented: ['id']"),
    ([_column(), _column()], "columns documented twice: ['id']"),
]


@pytest.mark.parametrize(("columns", "problem"), MALFORMED, ids=[p for _, p in MALFORMED])
def test_a_malformed_spec_is_rejected(columns, problem):
    with pytest.raises(checks.SpecError, match=r"^things: ") as raised:
        checks.parse_spec("things", _spec(columns=columns))
    assert problem in str(raised.value)


def test_every_problem_of_a_spec_is_reported_at_once():
    raw = _spec(readers=[], row="", columns=[{"name": "id", "tests": ["positive"]}])
    with pytest.raises(checks.SpecError) as raised:
        checks.parse_spec("things", raw)
    message = str(raised.value)
    for problem in ("readers must be", "row must be", "description must be", "unknown test"):
        assert problem in message
