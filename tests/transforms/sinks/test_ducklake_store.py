"""The DuckLake sink on a real PostgreSQL catalog: schema, idempotence, races, owners' views."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import duckdb
import pytest

from tests.postgres_cluster import postgres_cluster  # noqa: F401 (a fixture)
from tests.transforms.helpers import message, note_payload, survey_payload
from voc.pipelines.ops.lake_maintenance import maintain
from voc.pipelines.ops.owner_connection import STORE_ENV, ReadOnlyRefused, open_for_owner
from voc.transforms.parse_event import parse_message
from voc.transforms.records import (
    CauseMatch,
    InvalidMessage,
    SentimentScore,
    TaggedEvent,
    to_dead_letter,
)
from voc.transforms.sinks.duckdb_store import build_batch
from voc.transforms.sinks.ducklake_catalog import (
    LakeSpecError,
    connect_lake,
    parse_catalog,
)
from voc.transforms.sinks.ducklake_schema import (
    Column,
    TableShape,
    create_statement,
    pending_statements,
    reference_shapes,
)
from voc.transforms.sinks.ducklake_store import (
    DuckLakeStore,
    is_commit_conflict,
    merge_assignments,
    write_facts,
)
from voc.transforms.sinks.tables import DEAD_LETTERS, TABLES


def survey(n: int, cause: tuple[str, str] = ("billing_error", "billing")) -> TaggedEvent:
    """A detractor survey with one cause; event ``s-<n>`` of interaction ``i-<n>``."""
    payload = survey_payload(
        event_id=f"s-{n}", interaction_id=f"i-{n}", submitted_at="2026-01-05T10:00:00Z"
    )
    return _tagged(payload, "survey", cause, f"m-s-{n}")


def note(n: int) -> TaggedEvent:
    payload = note_payload(event_id=f"n-{n}", interaction_id=f"i-{n}")
    return _tagged(payload, "agent_note", ("long_hold", "support_ops"), f"m-n-{n}")


def _tagged(payload, event_type, cause, message_id) -> TaggedEvent:
    event = parse_message(message(payload, event_type=event_type, message_id=message_id))
    return TaggedEvent(
        event=event,
        text=payload.get("comment", payload.get("note", "")),
        sentiment=SentimentScore(-0.6, "negative"),
        causes=(CauseMatch(cause[0], cause[1], "evidence"),),
        taxonomy_version=1,
        redactions=0,
    )


def dead(message_id: str):
    raw = message(b"{not json", message_id=message_id)
    return to_dead_letter(raw, "parse", InvalidMessage("invalid_json", "payload is not JSON"))


@pytest.fixture
def lake(postgres_cluster, tmp_path, request):  # noqa: F811
    name = "t_" + request.node.name.lower().replace("[", "_").replace("]", "")[:50]
    spec = parse_catalog(postgres_cluster.catalog(name), str(tmp_path / "lake"))
    store = DuckLakeStore(spec)
    store.open()
    yield store
    store.close()


def physical(store: DuckLakeStore, sql: str):
    return store.in_transaction(lambda cur: cur.execute(sql).fetchall())


# -- schema derivation (pure) ------------------------------------------------------


def test_the_lake_schema_is_the_migrations_without_keys():
    shapes = {table.name: table for table in reference_shapes()}
    assert {t.name for t in TABLES} <= set(shapes)
    assert "schema_migrations" not in shapes
    assert shapes["feedback_tags"].key == ("event_id", "cause_id")
    for table in shapes.values():
        ddl = create_statement(table, "lake").lower()
        assert "primary key" not in ddl and "unique" not in ddl
    surveys = create_statement(shapes["surveys"], "lake")
    assert "event_id VARCHAR not null" in surveys and "product_area VARCHAR" in surveys


def test_a_later_migration_reaches_an_existing_lake_as_new_tables_and_columns():
    later = (
        TableShape(
            "surveys",
            (Column("event_id", "VARCHAR", True, None), Column("mood", "DOUBLE", True, "0")),
            ("event_id",),
        ),
        TableShape("tag_versions", (Column("version", "VARCHAR", True, None),), ("version",)),
    )
    statements = pending_statements({"surveys": {"event_id": "VARCHAR"}}, "lake", later)
    assert statements[0] == "alter table lake.surveys add column if not exists mood DOUBLE"
    assert statements[1].startswith("create table if not exists lake.tag_versions")
    assert (
        pending_statements(
            {
                "surveys": {"event_id": "VARCHAR", "mood": "DOUBLE"},
                "tag_versions": {"version": "VARCHAR"},
            },
            "lake",
            later,
        )
        == []
    )


def test_upserts_become_merge_assignments_and_catalogs_are_checked():
    assert merge_assignments(DEAD_LETTERS.on_conflict).startswith("update set stage = s.stage")
    assert "last_failed_at = s.received_at" in merge_assignments(DEAD_LETTERS.on_conflict)
    with pytest.raises(ValueError):
        merge_assignments("do nothing")
    assert parse_catalog("ducklake:postgres:dbname=x host=h").catalog == "postgres:dbname=x host=h"
    for bad in ("sqlite:lake.db", "postgres:host=h", ""):
        with pytest.raises(LakeSpecError):
            parse_catalog(bad)
    assert "secret" not in parse_catalog("postgres:dbname=x password=secret").describe()


# -- the store on a real catalog --------------------------------------------------


def test_a_batch_is_written_and_its_redelivery_adds_nothing(lake):
    records = [survey(n) for n in range(30)] + [note(n) for n in range(30)] + [dead("d1")]
    first = lake.write(build_batch(records))
    assert first == {
        "surveys": 30,
        "agent_notes": 30,
        "feedback_tags": 60,
        "recovery_items": 30,
        "dead_letters": 1,
    }
    assert len(first.new_event_ids) == 60
    again = lake.write(build_batch([*records, survey(0)]))
    assert dict(again) == dict.fromkeys(first, 0) and not again.new_event_ids
    assert physical(lake, "select count(*) from lake.surveys") == [(30,)]
    assert physical(lake, "select count(*) from lake.feedback_tags") == [(60,)]
    # A dead letter that comes again takes the latest failure (MERGE), still one row.
    assert physical(
        lake, "select count(*), max(last_failed_at) is not null from lake.dead_letters"
    ) == [(1, True)]


def test_a_reused_event_id_with_other_content_is_a_dead_letter(lake):
    lake.write(build_batch([survey(1)]))
    other = _tagged(
        survey_payload(event_id="s-1", comment="other words"),
        "survey",
        ("billing_error", "billing"),
        "m-other",
    )
    result = lake.write(build_batch([other]))
    assert result["surveys"] == 0 and result["dead_letters"] == 1
    assert physical(lake, "select reason from lake.dead_letters") == [("conflicting_duplicate",)]


def test_racing_writers_both_append_owners_see_one_row_and_maintain_removes_the_other(lake):
    """Two transactions that store the same new events at once: the case the design
    leaves to the read side. Owners see each event once; maintain makes it physical."""
    other = DuckLakeStore(lake.spec)
    other.open()
    a, b = lake.con.cursor(), other.con.cursor()
    a.execute("begin"), b.execute("begin")
    first = write_facts(a, build_batch([survey(n) for n in range(0, 6)]))
    second = write_facts(
        b, build_batch([survey(n, ("product_defect", "product")) for n in range(3, 9)])
    )
    a.execute("commit"), b.execute("commit")
    other.close()
    assert len(first.new_event_ids) == len(second.new_event_ids) == 6
    assert physical(lake, "select count(*) from lake.surveys") == [(12,)]

    os.environ[STORE_ENV] = lake.spec.uri
    try:
        with open_for_owner("not-used.duckdb") as owner:
            assert owner.query("select count(*), count(distinct event_id) from surveys").rows == [
                (9, 9)
            ]
            # One taxonomy per event: s-3..s-5 keep the tags written with their kept row.
            tags = owner.query(
                "select event_id, cause_id from feedback_tags "
                "where event_id in ('s-3', 's-4', 's-5') order by 1"
            ).rows
            assert len(tags) == 3 and len({cause for _, cause in tags}) == 1
            assert owner.query("select count(*) from recovery_items").rows == [(9,)]
            with pytest.raises(ReadOnlyRefused):
                owner.query("delete from lake.surveys")
    finally:
        del os.environ[STORE_ENV]

    report = maintain(lake.spec, timedelta(0))
    assert report.duplicates_removed["surveys"] == 3
    assert report.duplicates_removed["feedback_tags"] == 3
    assert physical(lake, "select count(*), count(distinct event_id) from lake.surveys") == [(9, 9)]


def test_concurrent_updates_conflict_and_are_recognised_for_retry(lake):
    lake.write(build_batch([dead("d1")]))
    other = connect_lake(lake.spec)
    a, b = lake.con.cursor(), other.cursor()
    a.execute("begin"), b.execute("begin")
    a.execute("update lake.dead_letters set replay_count = 1")
    b.execute("update lake.dead_letters set replay_count = 2")
    a.execute("commit")
    with pytest.raises(duckdb.Error) as raised:
        b.execute("commit")
    other.close()
    assert is_commit_conflict(raised.value)


def test_owners_query_department_views_and_voc_sql_on_the_lake(lake, tmp_path):
    lake.write(build_batch([survey(n) for n in range(5)] + [note(n) for n in range(5)]))
    os.environ[STORE_ENV] = lake.spec.uri
    try:
        with open_for_owner("unused") as owner:
            owner.query("set variable voc_now = timestamptz '2026-01-06 00:00:00+00'")
            issues = owner.query("select cause_id, contacts from billing.open_issues").rows
            queue = owner.query("select count(*) from billing.recovery_queue").rows
        assert issues and issues[0][0] == "billing_error"
        assert queue == [(5,)]
    finally:
        del os.environ[STORE_ENV]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "voc.pipelines.cli",
            "sql",
            "--csv",
            "select count(*) as n from surveys",
        ],
        env={**os.environ, STORE_ENV: lake.spec.uri},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["n", "5"]


def test_cli_errors_are_one_line_with_exit_2(tmp_path):
    from apache_beam.options.pipeline_options import PipelineOptions

    from voc.pipelines.options import ConfigError, validate

    cases = {
        "--sink=ducklake --no-derived": "needs --catalog",
        "--sink=ducklake --catalog=postgres:dbname=x --no-derived": "needs --data-path",
        "--sink=ducklake --catalog=sqlite:x --data-path=/tmp/l --no-derived": "--catalog",
        "--catalog=postgres:dbname=x": "--catalog is for --sink ducklake",
    }
    for flags, expected in cases.items():
        argv = [*flags.split(), f"--duckdb={tmp_path / 'v.duckdb'}"]
        with pytest.raises(ConfigError, match=expected):
            validate(PipelineOptions(argv))
    done = subprocess.run(
        [sys.executable, "-m", "voc.pipelines.cli", "lake", "maintain", "--catalog", "sqlite:x"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "--catalog" in done.stderr
