"""Owners' changes on a DuckLake: `voc recovery`, `voc fix`, `voc dlq purge` with
``VOC_STORE='ducklake:...'`` change the lake (real PostgreSQL catalog), once per change,
and the owners' views show one row per key even when a change was appended twice.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from tests.pipelines.cli_results import assert_one_line_error, run_in_process
from tests.postgres_cluster import postgres_cluster  # noqa: F401 (a fixture)
from tests.transforms.helpers import message, note_payload, survey_payload
from tests.transforms.sinks.test_ducklake_store import dead
from voc.pipelines.ops.lake_changes import apply_in_lake, write_lake_departments
from voc.pipelines.ops.owner_changes import (
    FIX_SHIPPED,
    CauseAction,
    DeadLetterReplayMark,
    submit_change,
)
from voc.pipelines.ops.owner_connection import STORE_ENV, open_for_owner
from voc.transforms.parse_event import parse_message
from voc.transforms.records import CauseMatch, SentimentScore, TaggedEvent
from voc.transforms.sinks.duckdb_store import build_batch
from voc.transforms.sinks.ducklake_catalog import connect_lake, parse_catalog
from voc.transforms.sinks.ducklake_store import DuckLakeStore

pytestmark = pytest.mark.integration


def _tagged(payload: dict, event_type: str, cause: tuple[str, str], message_id: str):
    event = parse_message(message(payload, event_type=event_type, message_id=message_id))
    return TaggedEvent(
        event=event,
        text=payload.get("comment", payload.get("note", "")),
        sentiment=SentimentScore(-0.6, "negative"),
        causes=(CauseMatch(cause[0], cause[1], "evidence"),),
        taxonomy_version=1,
        redactions=0,
    )


def _recent_facts() -> list:
    """Two detractor surveys from yesterday (in the working queue), a note, and two dead
    letters: one received 40 days ago, one now."""
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    surveys = [
        _tagged(
            survey_payload(event_id=f"s-{n}", interaction_id=f"i-{n}", submitted_at=yesterday),
            "survey",
            ("billing_error", "billing"),
            f"m-s-{n}",
        )
        for n in (1, 2)
    ]
    notes = [
        _tagged(
            note_payload(event_id="n-1", interaction_id="i-1", created_at=yesterday),
            "agent_note",
            ("long_hold", "support_ops"),
            "m-n-1",
        )
    ]
    old = dataclasses.replace(dead("m-old"), received_at=datetime.now(UTC) - timedelta(days=40))
    return [*surveys, *notes, old, dead("m-new")]


@pytest.fixture
def lake_store(postgres_cluster, tmp_path, monkeypatch, request):  # noqa: F811
    catalog = postgres_cluster.catalog(f"owner_{request.node.name[5:40]}")
    store = DuckLakeStore(parse_catalog(catalog, str(tmp_path / "lake")))
    store.open()
    store.write(build_batch(_recent_facts()))
    monkeypatch.setenv(STORE_ENV, f"ducklake:{catalog}")
    monkeypatch.chdir(tmp_path)  # the default --duckdb file must stay untouched
    yield store
    store.close()


def _owner_rows(*queries: str) -> list[list[tuple]] | list[tuple]:
    """Each query's rows, through one owners' connection to the lake (VOC_STORE)."""
    with open_for_owner("unused.duckdb") as owner:
        results = [owner.query(sql).rows for sql in queries]
    return results[0] if len(results) == 1 else results


def test_owner_commands_change_the_lake_once(lake_store, tmp_path, capsys):
    voc = lambda *args: run_in_process(capsys, *args)  # noqa: E731

    listed = voc("recovery", "list")
    assert listed.returncode == 0, listed.stderr
    assert "recovery:i-1" in listed.stdout and "recovery:i-2" in listed.stdout

    contacted = voc(
        "recovery", "contact", "i-1", "--note", "called +44 20 7946 0958", "--by", "ann"
    )
    assert contacted.returncode == 0, contacted.stderr
    assert "recovery:i-1: open -> contacted" in contacted.stdout
    assert "[lake ducklake:postgres:" in contacted.stdout
    assert "recovery:i-1" in voc("recovery", "list", "--status", "contacted").stdout

    resolved = voc("recovery", "resolve", "i-1", "--note", "refunded", "--by", "ann")
    assert resolved.returncode == 0, resolved.stderr
    again = voc("recovery", "resolve", "i-1", "--note", "refunded", "--by", "ann")
    assert_one_line_error(again, "voc recovery resolve", "already resolved")
    history, queue = _owner_rows(
        "select status, changed_by, note from recovery_changes "
        "where item_id = 'recovery:i-1' order by changed_at",
        "select item_id, status from recovery_queue_of(null) order by 1",
    )
    assert [row[0] for row in history] == ["contacted", "resolved"]
    assert "7946" not in history[0][2]  # the note's phone number is redacted
    assert queue == [("recovery:i-1", "resolved"), ("recovery:i-2", "open")]
    shown = voc("recovery", "history", "i-1")
    assert shown.returncode == 0 and "refunded" in shown.stdout

    # The same change applied twice (a retry): the second time is a no-op.
    today = datetime.now(UTC).date()
    fix = CauseAction("billing", "billing_error", FIX_SHIPPED, today, "new invoice run", "bo")
    first = submit_change("unused.duckdb", fix)
    repeat = submit_change("unused.duckdb", fix)
    assert first.applied and not first.repeated and repeat.repeated
    assert repeat.message == first.message

    # Two processes appending the same change at the same moment (both see it absent):
    # the lake holds it twice, the owners' views once.
    acknowledge = CauseAction("support_ops", "long_hold", "acknowledged", today, "on it", "cy")
    spec = lake_store.spec
    with connect_lake(spec) as one, connect_lake(spec) as two:
        one.execute("begin transaction")
        two.execute("begin transaction")
        assert apply_in_lake(one, acknowledge).applied
        assert apply_in_lake(two, acknowledge).applied
        one.execute("commit")
        two.execute("commit")
    stored = lake_store.in_transaction(
        lambda cur: cur.execute(
            "select count(*) from lake.cause_actions where action_id = ?", [acknowledge.change_id]
        ).fetchone()[0]
    )
    assert stored == 2
    # contact, resolve, the fix, the acknowledgement (a refusal is not recorded)
    assert _owner_rows(
        "select count(*) from cause_actions", "select count(*) from owner_changes_applied"
    ) == [[(2,)], [(4,)]]

    recorded = voc(
        "fix", "record", "--department", "billing", "--cause", "billing_error",
        "--date", today.isoformat(), "--note", "second fix", "--by", "bo",
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    fixes = voc("fix", "list")
    assert fixes.returncode == 0, fixes.stderr
    assert "second fix" in fixes.stdout and "new invoice run" in fixes.stdout
    assert fixes.stdout.count("on it") == 1
    unknown = voc("fix", "record", "--department", "nowhere", "--cause", "x",
                  "--date", today.isoformat(), "--note", "n")  # fmt: skip
    assert_one_line_error(unknown, "voc fix record", "unknown department 'nowhere'")

    purged = voc("dlq", "purge", "--older-than", "30d")
    assert "deleted 1 dead letters" in purged.stdout, purged.stderr
    assert "deleted 0 dead letters" in voc("dlq", "purge", "--older-than", "30d").stdout
    ((kept, message_id),) = _owner_rows("select dead_letter_id, message_id from dead_letters")
    assert message_id == "m-new"
    marked = submit_change("unused.duckdb", DeadLetterReplayMark((kept,), by="ops"))
    assert marked.applied and marked.via.startswith("lake ")
    assert _owner_rows("select replay_count from dead_letters") == [(1,)]

    assert_one_line_error(
        voc("recovery", "contact", "nobody", "--note", "x"), "no recovery item recovery:nobody"
    )
    assert not (tmp_path / "voc.duckdb").exists()


def test_a_missing_lake_is_one_line(postgres_cluster, monkeypatch, tmp_path, capsys):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(STORE_ENV, f"ducklake:{postgres_cluster.catalog('no_lake_here')}")
    result = run_in_process(capsys, "recovery", "contact", "i-1", "--note", "x")
    assert_one_line_error(result, "voc recovery contact", "holds no lake")
    monkeypatch.setenv(STORE_ENV, "ducklake:sqlite:lake.db")
    result = run_in_process(capsys, "dlq", "purge", "--older-than", "1d")
    assert_one_line_error(result, "voc dlq purge", "VOC_STORE", "expected 'postgres:")


def test_the_job_start_writes_the_departments_into_the_lake(lake_store):
    rows = [
        {"department": "billing", "description": "Invoices", "owner": "Bo", "contact": "b@x",
         "digest_schedule": None, "delivery": '{"kind": "file"}'},
        {"department": "legal", "description": "Contracts", "owner": None, "contact": None,
         "digest_schedule": None, "delivery": '{"kind": "file"}'},
    ]  # fmt: skip
    assert write_lake_departments(lake_store, rows)
    assert not write_lake_departments(lake_store, rows)  # unchanged: nothing written
    assert _owner_rows("select department, owner from departments order by 1") == [
        ("billing", "Bo"),
        ("legal", None),
    ]
    # A department of the registry with no feedback yet still gets its schema of views.
    assert _owner_rows("select count(*) from legal.open_issues") == [(0,)]
    assert write_lake_departments(lake_store, rows[:1])
    assert _owner_rows("select department from departments") == [("billing",)]
