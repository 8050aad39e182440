"""Owner changes on real DuckDB files: the rules of apply(), idempotence, and submit_change
straight to a file when no job runs."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.pipelines.ops.owner_loop_data import make_file
from tests.transforms.helpers import DuckDBLockHolder
from voc.pipelines.ops import owner_changes
from voc.pipelines.ops.owner_changes import (
    CauseAction,
    DeadLetterPurge,
    DeadLetterReplayMark,
    OwnerChangeError,
    RecoveryChange,
    apply,
    change_from_json,
    change_to_json,
    submit_change,
)

AT = datetime(2026, 1, 5, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """One prepared file per module; each test works on a copy (preparing is the slow part)."""
    return Path(make_file(tmp_path_factory.mktemp("owner-changes") / "template.duckdb"))


@pytest.fixture
def con(template, tmp_path):
    copy = tmp_path / "voc.duckdb"
    shutil.copyfile(template, copy)
    connection = duckdb.connect(str(copy))
    yield connection
    connection.close()


def change(status: str, item: str = "recovery:i-1", note: str = "called", **kw) -> RecoveryChange:
    return RecoveryChange(item, status, note, by="ana", requested_at=kw.pop("at", AT), **kw)


def history(con, item: str = "recovery:i-1") -> list[tuple]:
    return con.execute(
        "select status, changed_by, note from recovery_changes where item_id = ? "
        "order by changed_at",
        [item],
    ).fetchall()


def test_an_item_goes_open_contacted_resolved_reopened_and_keeps_every_step(con):
    steps = [("contacted", "open -> contacted"), ("contacted", "contacted -> contacted")]
    steps += [("resolved", "contacted -> resolved"), ("reopened", "resolved -> open")]
    for status, moved in steps:
        outcome = apply(con, change(status))
        assert (outcome.applied, outcome.message) == (True, f"recovery:i-1: {moved}")
    assert [row[0] for row in history(con)] == ["contacted", "contacted", "resolved", "reopened"]
    # Changes made at the same instant still line up in order (the key is item x time).
    found = con.execute("select changed_at from recovery_changes order by 1").fetchall()
    times = [row[0] for row in found]
    assert times[0] == AT and len(set(times)) == 4


@pytest.mark.parametrize(
    ("before", "status", "reason"),
    [
        ([], "resolved", "recovery:i-1 is open: record the contact first"),
        ([], "reopened", "recovery:i-1 is open: only a resolved item can be reopened"),
        (["contacted", "resolved"], "contacted", "already resolved: reopen it first"),
        (["contacted", "resolved"], "resolved", "already resolved: reopen it first"),
        (["contacted"], "reopened", "is contacted: only a resolved item can be reopened"),
        ([], "called", "status must be one of contacted, resolved, reopened"),
    ],
)
def test_transitions_that_make_no_sense_are_refused_with_a_reason(con, before, status, reason):
    for step in before:
        assert apply(con, change(step)).applied
    outcome = apply(con, change(status))
    assert not outcome.applied and reason in outcome.message
    assert len(history(con)) == len(before)


def test_an_unknown_item_is_a_refusal_and_a_bare_interaction_id_is_accepted(con):
    refused = apply(con, change("contacted", item="recovery:nope"))
    assert (refused.applied, refused.message) == (
        False,
        "no recovery item recovery:nope (voc recovery list shows them)",
    )
    assert apply(con, change("contacted", item="i-2")).applied
    assert history(con, "recovery:i-2") == [("contacted", "ana", "called")]


def test_the_same_change_twice_is_applied_once_and_answers_the_first_outcome(con):
    once = change("contacted")
    first = apply(con, once)
    again = apply(con, once)
    assert (again.applied, again.repeated, again.message) == (True, True, first.message)
    assert len(history(con)) == 1


def test_notes_are_one_redacted_paragraph_and_required(con):
    note = "called +44 20 7946 0958,\n mailed jane.doe@example.com \u202eok"
    assert apply(con, change("contacted", note=note)).applied
    assert history(con)[0][2] == "called <PHONE>, mailed <EMAIL> ok"
    assert "a note is required" in apply(con, change("contacted", note=" \n ")).message
    assert "at most 2,000" in apply(con, change("contacted", note="x" * 2001)).message


def action(kind="fix_shipped", department="billing", cause="billing_error", day=date(2026, 1, 5)):
    return CauseAction(department, cause, kind, day, "new template", by="ana", requested_at=AT)


def test_cause_actions_are_recorded_and_validated(con):
    assert apply(con, action()).applied
    assert apply(con, action("acknowledged", "product", "product_defect")).applied
    assert con.execute(
        "select department, cause_id, kind, effective_date, note, recorded_by from cause_actions "
        "order by kind"
    ).fetchall() == [
        ("product", "product_defect", "acknowledged", date(2026, 1, 5), "new template", "ana"),
        ("billing", "billing_error", "fix_shipped", date(2026, 1, 5), "new template", "ana"),
    ]
    unknown = apply(con, action(department="marketing"))
    assert unknown.message == "unknown department 'marketing' (known: billing, product)"
    assert "names cause 'product_defect'" in apply(con, action(cause="product_defect")).message
    future = apply(con, action(day=date(2026, 1, 6)))
    assert "is in the future" in future.message
    assert "kind must be one of" in apply(con, action(kind="fixed")).message
    assert con.execute("select count(*) from cause_actions").fetchone() == (2,)


def test_departments_of_the_registry_count_as_known(con):
    con.execute("insert into departments (department, description, updated_at) values "
                "('marketing', 'ads', now())")  # fmt: skip
    refused = apply(con, action(department="marketing", cause="over_promise"))
    assert "no feedback of department marketing names cause" in refused.message


def test_dead_letter_purge_and_replay_marks_apply_inside_a_transaction(con):
    old = AT - timedelta(days=40)
    for dead_letter_id, received in [("msg:old", old), ("msg:new", AT)]:
        con.execute(
            "insert into dead_letters (dead_letter_id, received_at, stage, reason, error, "
            "exception_type, stack, attributes, data) values (?, ?, 'parse', 'r', 'e', 'E', '', "
            "'{}', ''::blob)",
            [dead_letter_id, received],
        )
    con.execute("begin transaction")
    marked = apply(con, DeadLetterReplayMark(("msg:new",), by="ops", requested_at=AT))
    dry = apply(con, DeadLetterPurge(timedelta(days=30), None, True, by="ops", requested_at=AT))
    purged = apply(con, DeadLetterPurge(timedelta(days=30), None, False, by="ops", requested_at=AT))
    con.execute("commit")
    assert (marked.count, dry.count, purged.count) == (1, 1, 1)
    assert purged.message == "deleted 1 dead letters"
    assert con.execute("select dead_letter_id, replay_count from dead_letters").fetchall() == [
        ("msg:new", 1)
    ]


@pytest.mark.parametrize(
    "made",
    [
        change("resolved"),
        action(),
        DeadLetterPurge(timedelta(days=30), "schema_violation", True, by="ops"),
        DeadLetterReplayMark(("msg:1", "msg:2"), by="ops"),
    ],
    ids=lambda c: c.TYPE,
)
def test_changes_travel_as_json_unchanged(made):
    assert change_from_json(change_to_json(made)) == made


@pytest.mark.parametrize(
    "text", ["{", '{"type": "drop_table", "change": {}}', '{"type": "recovery_change"}']
)
def test_a_malformed_request_is_a_value_error(text):
    with pytest.raises(ValueError, match="not a voc change request"):
        change_from_json(text)


def test_submit_change_applies_to_the_file_when_no_job_runs(template, tmp_path):
    db = str(tmp_path / "voc.duckdb")
    shutil.copyfile(template, db)
    outcome = submit_change(db, change("contacted"))
    assert (outcome.applied, outcome.via) == (True, f"file {db}")
    refused = submit_change(db, change("resolved", item="recovery:i-2"))
    assert not refused.applied
    with duckdb.connect(db, read_only=True) as con:
        assert history(con) == [("contacted", "ana", "called")]
        applied = con.execute("select kind, outcome from owner_changes_applied").fetchall()
    assert [(kind, json.loads(text)["applied"]) for kind, text in applied] == [
        ("recovery_change", True)
    ]


def test_submit_change_says_in_one_line_why_the_file_cannot_be_opened(
    template, tmp_path, monkeypatch
):
    with pytest.raises(OwnerChangeError, match="no such file"):
        submit_change(str(tmp_path / "missing.duckdb"), change("contacted"))
    db = str(tmp_path / "voc.duckdb")
    shutil.copyfile(template, db)
    monkeypatch.setattr(owner_changes, "LOCK_WAIT_SECONDS", 0.3)
    holder = DuckDBLockHolder(db)
    try:
        with pytest.raises(OwnerChangeError) as raised:
            submit_change(db, change("contacted"))
    finally:
        holder.release()
    text = str(raised.value)
    assert "lock" in text and "not announced itself as a voc job" in text and "\n" not in text
