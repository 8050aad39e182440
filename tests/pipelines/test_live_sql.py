"""Live SQL against a real running job: `voc run` in a child process on the real Pub/Sub
emulator, queried by this process (and one more) while it writes.

One job serves every test in the module, in order: counts while it writes, the owner
commands, what owner connections and a raw Quack client holding the token cannot do,
and the clean stop that withdraws the `.live` file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import PROJECT
from voc.pipelines.cli import main
from voc.pipelines.dev.chaos import JobProcess
from voc.pipelines.dev.emulator import provision
from voc.pipelines.dev.generate import GenerationReport, generate_events
from voc.pipelines.ops.live_job import live_file, running_job
from voc.pipelines.ops.owner_connection import ReadOnlyRefused, open_for_owner
from voc.pipelines.ops.publish import publish_messages
from voc.pipelines.options import job_flags
from voc.transforms.sinks.duckdb_extensions import load_extensions

pytestmark = pytest.mark.integration

# Statements an owner might send that would change the database or reach outside it.
REFUSED = [
    "insert into surveys select * from surveys limit 1",
    "delete from surveys",
    "update surveys set csat = 1",
    "with gone as (select event_id from surveys limit 5) "
    "delete from surveys where event_id in (select event_id from gone)",
    "select 1; delete from surveys",
    "create table owned (a int)",
    "drop table surveys",
    "copy surveys to '/tmp/voc-live-copy.csv'",
    "attach ':memory:' as other",
    "set global quack_authorization_function = 'quack_nop_authorization'",
    "set enable_external_access = true",
    "call quack_serve('quack:localhost:1', token = 'abcdefgh')",
    "pragma version",
    "checkpoint",
    "select nextval('voc_sequence')",
    "select * from read_text('/etc/hostname')",
    "select * from quack_query('quack:localhost:1', 'select 1')",
]


@dataclass
class Live:
    job: JobProcess
    db: Path
    topics: dict[str, str]
    first: GenerationReport
    env: dict[str, str]


def count(owner, table: str) -> int:
    return owner.query(f"select count(*) from {table}").rows[0][0]


def wait_until(predicate, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def live(pubsub_emulator, tmp_path_factory):
    suffix = uuid.uuid4().hex[:8]
    topics = {"surveys": f"surveys-{suffix}", "agent-notes": f"agent-notes-{suffix}"}
    created = provision(
        pubsub_emulator.address,
        PROJECT,
        {real: f"{real}-sub" for real in topics.values()},
        ack_deadline_seconds=10,
    )
    subscriptions = {logical: created[real] for logical, real in topics.items()}
    messages, first = generate_events(400, seed=21)
    publish_messages(messages, PROJECT, topics=topics)
    db = tmp_path_factory.mktemp("live-sql") / "voc.duckdb"
    env = dict(os.environ, PUBSUB_EMULATOR_HOST=pubsub_emulator.address)
    flags = job_flags(PROJECT, subscriptions, db)
    job = JobProcess([*flags, "--max-batch=200", "--progress-every=0.5"], env)
    try:
        job.wait_for("serving read-only SQL", timeout=90)
        yield Live(job, db, topics, first, env)
    finally:
        if job.running:
            job.process.send_signal(signal.SIGKILL)
            job.wait(timeout=30)


def test_the_job_announces_itself_in_a_private_file(live):
    announced = running_job(live.db)
    assert announced is not None and announced.pid == live.job.process.pid
    assert announced.serves_sql and announced.quack_uri.startswith("quack:localhost:")
    assert len(announced.token) >= 40
    assert live_file(live.db).stat().st_mode & 0o777 == 0o600


def test_another_process_counts_rows_while_the_job_writes(live):
    with open_for_owner(live.db) as owner:
        assert owner.live and f"pid {live.job.process.pid}" in owner.source
        wait_until(lambda: count(owner, "surveys") == live.first.valid_surveys, what="batch 1")
        seen = [count(owner, "surveys")]
        messages, second = generate_events(300, seed=22)
        publish_messages(messages, PROJECT, topics=live.topics)

        def caught_up() -> bool:
            seen.append(count(owner, "surveys"))
            return seen[-1] == live.first.valid_surveys + second.valid_surveys

        wait_until(caught_up, what="the second batch")
        assert seen == sorted(seen) and seen[0] < seen[-1]  # they grew as the job wrote

    # A separate process, a piped session: voc sql reads statements from stdin.
    piped = subprocess.run(
        [sys.executable, "-m", "voc.pipelines.cli", "sql", "--duckdb", str(live.db), "--json"],
        input="select count(*) as surveys\n  from surveys;\nselect 'a;b' as s;\n",
        capture_output=True,
        text=True,
        env=live.env,
        timeout=120,
    )
    assert piped.returncode == 0, piped.stderr
    results = [json.loads(line) for line in piped.stdout.splitlines()]
    assert results == [[{"surveys": seen[-1]}], [{"s": "a;b"}]]


def test_summary_and_dlq_list_work_while_the_job_runs(live, capsys):
    assert main(["summary", "--duckdb", str(live.db)]) == 0
    whole = capsys.readouterr().out
    assert "top_cause" in whole and "dead_letters" in whole
    assert main(["summary", "--duckdb", str(live.db), "--department", "billing"]) == 0
    billing = capsys.readouterr().out
    first_table = billing.split("\n\n")[1].splitlines()
    assert first_table[0].startswith("department") and first_table[2].startswith("billing")
    assert len(first_table) == 3  # one department
    assert main(["summary", "--duckdb", str(live.db), "--since", "1d"]) == 0
    assert "since" in capsys.readouterr().out
    assert main(["dlq", "list", "--duckdb", str(live.db)]) == 0
    assert "parse" in capsys.readouterr().out  # the generator's malformed messages


def test_owner_connections_cannot_change_anything(live, capsys):
    with open_for_owner(live.db) as owner:
        before = {t: count(owner, t) for t in ("surveys", "agent_notes", "feedback_tags")}
        for statement in REFUSED:
            with pytest.raises(ReadOnlyRefused):
                owner.query(statement)
        # A replacement scan is a SELECT; with external access off it finds no file.
        with pytest.raises(Exception, match="does not exist"):
            owner.query("select * from '/etc/hostname'")
        assert {t: count(owner, t) for t in before} == before

    assert main(["sql", "--duckdb", str(live.db), "delete from surveys"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("voc sql: ") and "read-only" in error and "\n" not in error


def test_a_raw_quack_client_with_the_token_cannot_write(live):
    announced = running_job(live.db)
    con = duckdb.connect()
    try:
        load_extensions(con, "httpfs", "quack")
        con.execute(f"create secret (type quack, token '{announced.token}')")
        con.execute(f"attach '{announced.quack_uri}' as live")
        surveys = con.execute("select count(*) from live.surveys").fetchone()[0]
        assert surveys > 0
        for statement in (
            "insert into live.surveys select * from live.surveys limit 1",
            "delete from live.surveys",
            "update live.surveys set csat = 1",
            "create table live.owned (a int)",
            "drop table live.dead_letters",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(statement)
        through = "select * from quack_query(?, ?)"
        for statement in REFUSED:
            with pytest.raises(duckdb.Error, match="Authorization failed"):
                con.execute(through, [announced.quack_uri, statement]).fetchall()
        assert con.execute("select count(*) from live.surveys").fetchone()[0] == surveys
    finally:
        con.close()


def test_a_stopped_job_withdraws_and_owners_read_the_file(live):
    live.job.process.send_signal(signal.SIGTERM)
    assert live.job.wait(timeout=60) == 0, "\n".join(live.job.lines[-20:])
    assert not live_file(live.db).exists()
    with open_for_owner(live.db) as owner:
        assert not owner.live
        surveys = count(owner, "surveys")
        with pytest.raises(ReadOnlyRefused):
            owner.query("delete from surveys")
        assert count(owner, "surveys") == surveys > 0
        # The server left nothing in the file (its macro lived in an in-memory catalog).
        macro = "select count(*) from duckdb_functions() where function_name = 'voc_read_only'"
        assert owner.query(macro).rows == [(0,)]
