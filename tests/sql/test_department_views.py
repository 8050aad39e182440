"""The department schemas: each view is its macro for the department, the schemas
made at every read-write open, department names, the cx schema, read-only access.

The macros' own rows are checked with every view and query
(test_views_and_queries.py, fixtures/<macro>/select.sql); here the department
view ``billing.<view>`` must give the same rows and pass the same column tests.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.sql.helpers import (
    DepartmentMacro,
    discover_macros,
    fetch_rows,
    load_given,
    prepared,
    read_yaml,
)
from voc import sql
from voc.sql import checks
from voc.transforms.sinks.duckdb_schema import (
    DATED_VIEWS,
    UNDATED_VIEWS,
    DepartmentNameError,
    check_department_name,
    create_department_schemas,
    department_view_statement,
    prepare,
    write_departments,
)

MACROS = discover_macros()
OURS = {f"{view}_of" for view in DATED_VIEWS}


def test_every_department_view_has_a_documented_macro_with_fixtures():
    names = {m.name for m in MACROS}
    assert names >= OURS
    for macro in MACROS:
        for fixture in ("given.yaml", "expected.yaml"):
            assert (macro.fixture_dir / fixture).is_file(), f"{macro.id}: no fixture {fixture}"


@pytest.mark.parametrize("macro", [m for m in MACROS if m.name in OURS], ids=lambda m: m.id)
def test_the_department_view_is_its_macro_over_the_last_7_days(macro: DepartmentMacro):
    """billing.<view> returns what the macro does for billing, and passes the column tests."""
    con = prepared()
    con.execute("set TimeZone = 'Asia/Kathmandu'")  # days and hours stay UTC
    load_given(con, read_yaml(macro.fixture_dir / "given.yaml"), reverse=False)
    spec = macro.spec()

    through_view = fetch_rows(con, f"select * from {macro.department_view()}")

    assert through_view == read_yaml(macro.fixture_dir / "expected.yaml")
    assert checks.run_column_tests(con, macro.department_view(), spec) == []
    tested = [column.name for column in spec.columns if column.tests]
    assert [n for n in tested if all(row[n] is None for row in through_view)] == []


def test_schemas_for_the_departments_table_and_for_departments_seen_in_tags(tmp_path: Path):
    path = str(tmp_path / "voc.duckdb")
    con = duckdb.connect(path)
    prepare(con)
    write_departments(
        con, [{"department": "billing", "description": "Billing", "owner": "B. Lead"}]
    )
    con.execute(
        "insert into feedback_tags (event_id, source, interaction_id, event_time, cause_id,"
        " department, evidence, sentiment_label, taxonomy_version, tagged_at) values"
        " ('n1', 'agent_note', 'i1', now(), 'late_delivery', 'logistics', 'late', 'neutral',"
        " 1, now())"
    )
    con.close()

    # The next read-write open makes logistics' schema; a read-only one reads them.
    with duckdb.connect(path) as writer:
        prepare(writer)
    with duckdb.connect(path, read_only=True) as reader:
        views = reader.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_type = 'VIEW' and table_schema in ('billing', 'logistics', 'cx')"
        ).fetchall()
        rows = reader.execute("select cause_id, contacts from logistics.open_issues").fetchall()
        assert rows == [("late_delivery", 1)]
        with pytest.raises(duckdb.Error):
            reader.execute("insert into billing.open_issues values (1)")
    present = {(schema, name) for schema, name in views}
    for schema in ("billing", "logistics"):
        for view in DATED_VIEWS + UNDATED_VIEWS:
            if f"{view}_of" in {m.name for m in MACROS} or view in DATED_VIEWS:
                assert (schema, view) in present, f"{schema}.{view}"
    assert {("cx", view.name) for view in sql.cx_views()} <= present


def test_write_departments_replaces_the_rows():
    con = prepared()
    write_departments(con, [{"department": "billing", "description": "a"}])
    write_departments(con, [{"department": "product", "description": "b", "contact": "p@x.io"}])
    assert con.execute("select department, contact from departments").fetchall() == [
        ("product", "p@x.io")
    ]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Billing", "not a schema name"),
        ("billing-ops", "not a schema name"),
        ("1st", "not a schema name"),
        ("x; drop table surveys", "not a schema name"),
        ("billing\n", "not a schema name"),
        ("main", "reserved"),
        ("cx", "reserved"),
    ],
)
def test_unsafe_department_names_are_refused_on_one_line(name: str, problem: str):
    with pytest.raises(DepartmentNameError, match=problem) as error:
        check_department_name(name)
    assert "\n" not in str(error.value)
    con = prepared()
    with pytest.raises(DepartmentNameError):
        write_departments(con, [{"department": name, "description": "d"}])


def test_a_bad_name_seen_in_tags_is_refused_at_open():
    con = prepared()
    con.execute(
        "insert into feedback_tags (event_id, source, interaction_id, event_time, cause_id,"
        " department, evidence, sentiment_label, taxonomy_version, tagged_at) values"
        " ('n1', 'agent_note', 'i1', now(), 'c', 'Bad Dept', '', 'neutral', 1, now())"
    )
    with pytest.raises(DepartmentNameError, match="'Bad Dept'"):
        create_department_schemas(con)


def test_view_statement_names_the_period():
    assert department_view_statement("billing", "open_issues").endswith(
        "open_issues_of('billing', report_end() - interval 168 hours, report_end())"
    )
    assert department_view_statement("billing", "recovery_queue").endswith(
        "recovery_queue_of('billing')"
    )


def test_report_end_is_voc_now_when_set_else_now():
    con = prepared()
    before = con.execute("select now()").fetchone()[0]
    assert con.execute("select report_end()").fetchone()[0] >= before
    con.execute("set variable voc_now = timestamptz '2026-01-15 00:00:00+00'")
    assert str(con.execute("select report_end()").fetchone()[0]).startswith("2026-01-15")


@pytest.mark.parametrize("view", sql.cx_views(), ids=lambda v: f"cx/{v.name}")
def test_cx_views_are_documented_and_pass_their_column_tests(view: sql.View):
    spec = checks.load_spec(sql.folder("cx") / f"{view.name}.yaml")
    con = prepared()
    load_given(con, {"include": "owner_week"}, reverse=False)

    rows = fetch_rows(con, f"select * from cx.{view.name}")

    assert checks.run_column_tests(con, f"cx.{view.name}", spec) == []
    if view.name not in ("first_contact_resolution", "pipeline_health"):
        assert rows, f"cx.{view.name}: the shared week gives no rows"


def test_customer_history_places_notes_under_their_survey_customer():
    con = prepared()
    load_given(con, {"include": "owner_week"}, reverse=False)
    rows = fetch_rows(
        con,
        "select customer_id, event_id, causes from cx.customer_history"
        " where customer_id = 'c2' order by event_time, event_id",
    )
    # c2: s2 (two causes) and s10; n8 (a note-only contact) has no customer.
    assert rows == [
        {"customer_id": "c2", "event_id": "s2", "causes": ["billing_error", "refund_delay"]},
        {"customer_id": "c2", "event_id": "s10", "causes": ["refund_delay"]},
    ]
    assert fetch_rows(con, "select * from cx.customer_history where event_id = 'n8'") == []


def test_customer_history_finds_a_contact_only_a_v2_note_names():
    """Agent note v2 names its customer: a contact the customer never rated is in
    their history, and a note naming the customer its survey names is there once."""
    con = prepared()
    load_given(con, {"include": "owner_week"}, reverse=False)
    con.execute("update agent_notes set customer_id = 'c2' where event_id = 'n8'")
    con.execute(
        "update agent_notes set customer_id = s.customer_id from surveys as s"
        " where s.interaction_id = agent_notes.interaction_id"
    )
    rows = fetch_rows(
        con,
        "select event_id, source from cx.customer_history"
        " where customer_id = 'c2' order by event_time, event_id",
    )
    assert {"event_id": "n8", "source": "agent_note"} in rows
    assert len(rows) == len({row["event_id"] for row in rows})


def test_cx_channel_mix_and_contact_drivers_count_the_week():
    con = prepared()
    load_given(con, {"include": "owner_week"}, reverse=False)
    mix = fetch_rows(con, "select channel, contacts, previous_contacts from cx.channel_mix")
    # This week: chat i1 i4, phone i2 i8 i10, in_app i7 i11; before: email i3 i5.
    assert mix == [
        {"channel": "phone", "contacts": 3, "previous_contacts": 0},
        {"channel": "chat", "contacts": 2, "previous_contacts": 0},
        {"channel": "in_app", "contacts": 2, "previous_contacts": 0},
        {"channel": "email", "contacts": 0, "previous_contacts": 2},
    ]


def test_the_job_start_fills_departments_through_its_store(tmp_path: Path):
    """What local_driver does at start: the taxonomy's departments with the registry's
    owners, in one transaction of the job's store; the schemas follow."""
    from voc.pipelines.options import owned_departments
    from voc.transforms.sinks.duckdb_store import DuckDBStore

    store = DuckDBStore(str(tmp_path / "voc.duckdb"))
    rows = list(owned_departments(None, None))
    store.in_transaction(lambda cur: write_departments(cur, rows))
    store.con.close()

    with duckdb.connect(str(tmp_path / "voc.duckdb"), read_only=True) as reader:
        owners = dict(reader.execute("select department, owner from departments").fetchall())
        schemas = {
            row[0]
            for row in reader.execute(
                "select schema_name from information_schema.schemata"
            ).fetchall()
        }
    assert owners["billing"] == "Billing and payments lead"
    assert set(owners) <= schemas and "cx" in schemas
