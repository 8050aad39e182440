"""Owner connections without a job: the file read-only, and what a `.live` file says
about a job that is gone, runs without serving, or does not answer."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from tests.pipelines.cli_results import assert_one_line_error, run_in_process
from voc import sql
from voc.pipelines.ops.live_job import announce, live_file, running_job, withdraw
from voc.pipelines.ops.owner_connection import (
    OwnerConnectionError,
    ReadOnlyRefused,
    open_for_owner,
)
from voc.pipelines.ops.serve_sql import free_port
from voc.pipelines.ops.summary import scoped


@pytest.fixture
def database(tmp_path) -> str:
    path = str(tmp_path / "voc.duckdb")
    with duckdb.connect(path) as con:
        con.execute(
            "create table t as select range as i, 'row ' || range as label, "
            "timestamptz '2026-01-05 09:00:00+00' + to_hours(range) as seen_at from range(3)"
        )
    return path


def test_the_file_is_opened_read_only(database):
    with open_for_owner(database) as owner:
        assert not owner.live and "read-only" in owner.source
        assert owner.query("select count(*) from t where i >= ?", [1]).rows == [(2,)]
        for statement in ("delete from t", "insert into t values (9, 'x', now())", "drop table t"):
            with pytest.raises(ReadOnlyRefused, match="read-only"):
                owner.query(statement)
        assert owner.query("select count(*) from t").rows == [(3,)]


def test_a_job_that_died_leaves_a_file_that_counts_as_no_job(database):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    stale = {
        "pid": int(dead.stdout),
        "database": database,
        "started_at": "",
        "inbox": "",
        "quack_uri": "quack:localhost:1",
        "token": "x" * 43,
    }
    live_file(database).write_text(json.dumps(stale), encoding="utf-8")
    assert running_job(database) is None
    with open_for_owner(database) as owner:
        assert not owner.live


def test_a_job_without_serve_locks_the_file_and_says_so(database):
    announce(database)  # this process plays a job run with --no-serve
    try:
        assert oct(live_file(database).stat().st_mode & 0o777) == "0o600"
        with pytest.raises(OwnerConnectionError, match="--no-serve"):
            open_for_owner(database)
    finally:
        withdraw(database)
    assert not live_file(database).exists()


def test_a_job_whose_server_does_not_answer_is_one_line(database):
    announce(database, f"quack:localhost:{free_port()}", "t" * 43)
    try:
        with pytest.raises(OwnerConnectionError) as caught:
            open_for_owner(database)
    finally:
        withdraw(database)
    assert "is running but its SQL server" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_voc_sql_prints_tables_csv_and_json(capsys, database, tmp_path):
    ran = run_in_process(capsys, "sql", "--duckdb", database, "select i, label from t order by i")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[:3] == ["i  label", "-  -----", "0  row 0"]
    assert "(3 rows)" in ran.stdout

    ran = run_in_process(
        capsys, "sql", "--duckdb", database, "--csv", "select i, seen_at from t limit 1"
    )
    assert ran.stdout == "i,seen_at\n0,2026-01-05T09:00:00+00:00\n"

    script = tmp_path / "q.sql"
    script.write_text("-- two questions\nselect 1 as a;\nselect seen_at from t where i = 2;\n")
    ran = run_in_process(capsys, "sql", "--duckdb", database, "--json", "--file", str(script))
    assert [json.loads(line) for line in ran.stdout.splitlines()] == [
        [{"a": 1}],
        [{"seen_at": "2026-01-05T11:00:00+00:00"}],
    ]


def test_voc_sql_reads_statements_from_a_pipe(capsys, database, monkeypatch):
    piped = "select count(*) as n\n  from t;\nselect nope;\nselect 'a;b' as s;\n.quit\nselect 9;"
    monkeypatch.setattr(sys, "stdin", io.StringIO(piped))
    ran = run_in_process(capsys, "sql", "--duckdb", database, "--json")
    assert ran.stdout.splitlines() == ['[{"n": 3}]', '[{"s": "a;b"}]']
    assert ran.returncode == 2 and "nope" in ran.stderr  # the failed one is reported


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["delete from t"], "read-only"),
        (["select * from nowhere"], "nowhere"),
        (["select 1", "--file", "x.sql"], "not both"),
        (["--file", "/nonexistent/q.sql"], "No such file"),
        (["-- only a comment"], "no SQL statement"),
    ],
)
def test_voc_sql_errors_are_one_line(capsys, database, args, fragment):
    assert_one_line_error(run_in_process(capsys, "sql", "--duckdb", database, *args), fragment)


def test_voc_sql_on_a_missing_file(capsys, tmp_path):
    missing = str(tmp_path / "none.duckdb")
    assert_one_line_error(run_in_process(capsys, "sql", "--duckdb", missing, "select 1"), "no such")


def test_summary_scope_filters_the_tags_every_report_reads():
    con = duckdb.connect()
    con.execute(
        "create table feedback_tags as select * from (values "
        "('billing', now() - interval 1 day), ('billing', now() - interval 30 day), "
        "('product', now())) as v(department, event_time)"
    )
    query = "-- a report\nwith x as (select * from feedback_tags) select count(*) from x"
    since = datetime.now(UTC) - timedelta(days=7)
    assert con.execute(*scoped(query, "billing", None)).fetchone() == (2,)
    assert con.execute(*scoped(query, "billing", since)).fetchone() == (1,)
    assert con.execute(*scoped(query, None, since)).fetchone() == (2,)
    assert scoped(query, None, None) == (query, [])
    assert con.execute(*scoped("select count(*) from feedback_tags", "product", None)).fetchone()
    for name in ("department_summary", "cause_evidence", "cause_sentiment"):
        assert "main.feedback_tags where department = ?" in scoped(sql.query(name), "b", None)[0]


def test_the_live_file_is_written_for_this_user_only(tmp_path):
    database = str(tmp_path / "x.duckdb")
    job = announce(database, "quack:localhost:5", "s" * 43)
    try:
        assert os.stat(live_file(database)).st_mode & 0o777 == 0o600
        assert json.loads(live_file(database).read_text())["token"] == "s" * 43
        assert running_job(database) == job
    finally:
        withdraw(database)


def test_serving_is_on_by_default_and_its_port_is_checked(capsys):
    from apache_beam.options.pipeline_options import PipelineOptions

    from voc.pipelines.options import validate

    assert validate(PipelineOptions([])).serve
    assert validate(PipelineOptions(["--serve-port=5433"])).serve_port == 5433
    assert not validate(PipelineOptions(["--no-serve"])).serve
    for port in ("70000", "-1", "x"):
        assert_one_line_error(run_in_process(capsys, "run", f"--serve-port={port}"), "--serve-port")
