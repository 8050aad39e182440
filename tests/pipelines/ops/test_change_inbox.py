"""Owner changes through a running job's inbox: a real DuckDBStore holding the file, this
process announced as the job (live_job.announce), and the inbox thread the job runs."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.pipelines.ops.owner_loop_data import make_file
from voc.pipelines.ops import live_job
from voc.pipelines.ops.change_inbox import ChangeInbox, pending_requests
from voc.pipelines.ops.owner_changes import (
    ChangeQueued,
    RecoveryChange,
    change_to_json,
    done_file,
    request_file,
    submit_change,
    write_private,
)
from voc.transforms.sinks.duckdb_store import DuckDBStore


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return Path(make_file(tmp_path_factory.mktemp("inbox") / "template.duckdb"))


@pytest.fixture
def db(template, tmp_path) -> str:
    path = str(tmp_path / "voc.duckdb")
    shutil.copyfile(template, path)
    return path


@pytest.fixture
def job(db) -> Iterator[DuckDBStore]:
    """This process as the job: it holds the file read-write and has announced itself."""
    store = DuckDBStore(db)
    store.open()
    live_job.announce(db)
    try:
        yield store
    finally:
        live_job.withdraw(db)
        store.close()


def contact(note: str = "called back", item: str = "recovery:i-1") -> RecoveryChange:
    return RecoveryChange(item, "contacted", note, by="ana")


def statuses(store: DuckDBStore) -> list[tuple]:
    return store.in_transaction(
        lambda cur: cur.execute(
            "select item_id, status, note from recovery_changes order by changed_at"
        ).fetchall()
    )


def test_a_change_reaches_the_running_job_and_its_answer_comes_back(db, job):
    inbox = ChangeInbox(db, job, poll=0.05).start()
    try:
        outcome = submit_change(db, contact(), timeout=10)
        refused = submit_change(db, contact(item="recovery:nope"), timeout=10)
    finally:
        inbox.stop()
    assert (outcome.applied, outcome.via) == (True, f"job pid {os.getpid()}")
    assert outcome.message == "recovery:i-1: open -> contacted"
    assert (refused.applied, refused.message) == (
        False,
        "no recovery item recovery:nope (voc recovery list shows them)",
    )
    assert statuses(job) == [("recovery:i-1", "contacted", "called back")]
    # Nothing is left behind: requests and answers are removed once read.
    assert list(Path(inbox.inbox).iterdir()) == []
    assert stat.S_IMODE(Path(inbox.inbox).stat().st_mode) == 0o700


def test_a_job_that_does_not_answer_leaves_the_change_queued_for_its_next_start(db, job):
    # Announced, but its inbox is not read (a job busy starting, or stuck).
    live_job.inbox_dir(db).mkdir(mode=0o700)
    change = contact()
    with pytest.raises(ChangeQueued) as raised:
        submit_change(db, change, timeout=0.3)
    message = str(raised.value)
    assert "has not applied change" in message and "stays queued" in message
    assert "\n" not in message
    queued = request_file(live_job.inbox_dir(db), change.change_id)
    assert queued.is_file() and stat.S_IMODE(queued.stat().st_mode) == 0o600
    assert statuses(job) == []

    # The next job start applies what was waiting.
    inbox = ChangeInbox(db, job)
    assert inbox.process_pending() == 1
    assert statuses(job) == [("recovery:i-1", "contacted", "called back")]
    assert pending_requests(inbox.inbox) == []
    answer = json.loads(done_file(inbox.inbox, change.change_id).read_text())
    assert answer["applied"] is True


def test_a_request_applied_before_a_crash_is_not_applied_twice(db, job):
    """The job committed, then died before removing the request: the next start finds it."""
    change = contact()
    inbox = ChangeInbox(db, job)
    inbox.inbox.mkdir(mode=0o700, exist_ok=True)
    write_private(request_file(inbox.inbox, change.change_id), change_to_json(change))
    assert inbox.process_pending() == 1
    write_private(request_file(inbox.inbox, change.change_id), change_to_json(change))
    assert inbox.process_pending() == 1
    answer = json.loads(done_file(inbox.inbox, change.change_id).read_text())
    assert (answer["applied"], answer["repeated"]) == (True, True)
    assert statuses(job) == [("recovery:i-1", "contacted", "called back")]


def test_requests_are_applied_in_the_order_they_were_left(db, job):
    inbox = ChangeInbox(db, job)
    inbox.inbox.mkdir(mode=0o700, exist_ok=True)
    first = contact("first")
    second = RecoveryChange("recovery:i-1", "resolved", "second", by="ana")
    for change in (first, second):
        path = request_file(inbox.inbox, change.change_id)
        write_private(path, change_to_json(change))
    # Same second on a coarse clock: the order still holds by modification time.
    os.utime(request_file(inbox.inbox, second.change_id), ns=(2, 2))
    os.utime(request_file(inbox.inbox, first.change_id), ns=(1, 1))
    assert inbox.process_pending() == 2
    assert [row[1] for row in statuses(job)] == ["contacted", "resolved"]


def test_an_unreadable_request_is_answered_with_a_refusal_not_a_crash(db, job):
    inbox = ChangeInbox(db, job)
    inbox.inbox.mkdir(mode=0o700, exist_ok=True)
    (inbox.inbox / "abc.json").write_text("{not json")
    assert inbox.process_pending() == 1
    answer = json.loads(done_file(inbox.inbox, "abc").read_text())
    assert answer["applied"] is False and "not a voc change request" in answer["message"]


def test_when_the_job_has_stopped_the_change_goes_to_the_file(db):
    outcome = submit_change(db, contact(), timeout=5)
    assert outcome.via == f"file {db}"
    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("select status from recovery_changes").fetchall() == [("contacted",)]


def test_voc_dlq_purge_goes_through_the_inbox_too(db, job, capsys):
    from datetime import UTC, datetime, timedelta

    from voc.pipelines.cli import main

    old = datetime.now(UTC) - timedelta(days=40)
    job.in_transaction(
        lambda cur: cur.execute(
            "insert into dead_letters (dead_letter_id, received_at, stage, reason, error, "
            "exception_type, stack, attributes, data) values (?, ?, 'parse', 'r', 'e', 'E', '', "
            "'{}', ''::blob)",
            ["msg:old", old],
        )
    )
    inbox = ChangeInbox(db, job, poll=0.05).start()
    try:
        assert main(["dlq", "purge", "--older-than", "30d", "--duckdb", db]) == 0
    finally:
        inbox.stop()
    assert "deleted 1 dead letters older than 30d" in capsys.readouterr().out
    assert job.in_transaction(
        lambda cur: cur.execute("select count(*) from dead_letters").fetchone()
    ) == (0,)
