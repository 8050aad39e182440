"""`voc dlq` on real DuckDB files: grouping, retention, replay planning, CLI errors."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from tests.transforms.helpers import DuckDBLockHolder, message, survey_payload
from voc.pipelines.cli import main
from voc.pipelines.ops import dead_letters
from voc.transforms.records import REPLAY_ATTRIBUTE, InvalidMessage, to_dead_letter
from voc.transforms.sinks.duckdb_store import DuckDBStore, build_batch

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def dead(message_id: str, reason: str, age_days: float = 0, event_type: str | None = "survey"):
    raw = message(
        json.dumps(survey_payload(event_id=message_id)).encode(),
        event_type=event_type,
        message_id=message_id,
    )
    letter = to_dead_letter(raw, "parse", InvalidMessage(reason, f"{reason} in {message_id}"))
    return dataclasses.replace(letter, received_at=NOW - timedelta(days=age_days))


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "voc.duckdb")
    store = DuckDBStore(path)
    store.open()
    store.write(
        build_batch(
            [
                dead("m1", "schema_violation", age_days=40),
                dead("m2", "schema_violation", age_days=2),
                dead("m3", "schema_violation", age_days=1),
                dead("m4", "invalid_json", age_days=45),
                dead("m5", "missing_attribute", age_days=3, event_type=None),
            ]
        )
    )
    store.close()
    return path


def test_summary_groups_by_reason_biggest_first(db):
    with duckdb.connect(db) as con:
        columns, rows = dead_letters.summarize(con)
    assert columns[:3] == ["stage", "reason", "count"]
    assert [(r[1], r[2]) for r in rows] == [
        ("schema_violation", 3),
        ("invalid_json", 1),
        ("missing_attribute", 1),
    ]
    assert rows[0][7] == "schema_violation: schema_violation in m1"


def test_purge_deletes_only_what_is_older_than_the_retention(db):
    with duckdb.connect(db) as con:
        assert dead_letters.purge(con, timedelta(days=30), dry_run=True, now=NOW) == 2
        assert con.execute("select count(*) from dead_letters").fetchone() == (5,)
        assert dead_letters.purge(con, timedelta(days=30), reason="invalid_json", now=NOW) == 1
        assert dead_letters.purge(con, timedelta(days=30), now=NOW) == 1
        left = con.execute("select message_id from dead_letters order by 1").fetchall()
    assert left == [("m2",), ("m3",), ("m5",)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), ("2w", timedelta(weeks=2))],
)
def test_durations(text, expected):
    assert dead_letters.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["30", "d30", "30 days", "-1d", "1.5d", ""])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError, match="not a duration"):
        dead_letters.parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("36525d", timedelta(days=36_525)),
        ("52596000m", timedelta(days=36_525)),
        ("0d", timedelta()),
    ],
)
def test_durations_up_to_100_years(text, expected):
    assert dead_letters.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["36526d", "5219w", "999999d", "9" * 30 + "w", "9" * 5000 + "m"])
def test_durations_over_100_years_are_refused(text):
    # Past ~2,000 years the purge cutoff (now - age) falls before year 1 and datetime
    # overflows; past 10**9 days timedelta itself does, and int() past 4,300 digits.
    with pytest.raises(ValueError, match="is more than 100 years"):
        dead_letters.parse_duration(text)


def test_replay_plan_marks_each_message_and_skips_those_without_a_topic(db):
    with duckdb.connect(db) as con:
        plan = dead_letters.plan_replay(con, "schema_violation")
        assert [m.dead_letter_id for m in plan.messages] == ["msg:m1", "msg:m2", "msg:m3"]
        first = plan.messages[0]
        assert first.topic == "surveys"
        assert first.attributes[REPLAY_ATTRIBUTE] == "msg:m1"
        assert first.attributes["event_type"] == "survey"
        assert json.loads(first.data)["event_id"] == "m1"  # the raw bytes, unchanged

        no_topic = dead_letters.plan_replay(con, "missing_attribute")
        assert no_topic.messages == [] and "pass --topic" in no_topic.skipped["msg:m5"]
        assert len(dead_letters.plan_replay(con, "missing_attribute", topic="t").messages) == 1

        published = []
        dead_letters.replay(con, published.extend, "schema_violation")
        assert len(published) == 3
        counts = con.execute(
            "select replay_count, last_replayed_at is not null from dead_letters "
            "where reason = 'schema_violation'"
        ).fetchall()
    assert counts == [(1, True)] * 3


def test_cli_lists_groups_and_rows(db, capsys):
    assert main(["dlq", "list", "--duckdb", db]) == 0
    out = capsys.readouterr().out
    assert "schema_violation" in out and "invalid_json" in out
    assert main(["dlq", "list", "--duckdb", db, "--reason", "schema_violation"]) == 0
    out = capsys.readouterr().out
    assert "msg:m1" in out and "msg:m4" not in out


def test_cli_purge_and_dry_run(db, capsys):
    assert main(["dlq", "purge", "--duckdb", db, "--older-than", "30d", "--dry-run"]) == 0
    assert "would delete 2 dead letters" in capsys.readouterr().out
    assert main(["dlq", "purge", "--duckdb", db, "--older-than", "30d"]) == 0
    assert "deleted 2 dead letters" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["dlq", "purge", "--older-than", "30 days"], "--older-than: '30 days' is not a duration"),
        (["dlq", "purge"], "the following arguments are required: --older-than"),
        (["dlq", "replay"], "the following arguments are required: --reason"),
        (["dlq", "list", "--duckdb", "/nonexistent/x.duckdb"], "no such file"),
        (["dlq", "shred"], "invalid choice: 'shred'"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["purge", "--older-than", "999999d"], "--older-than: '999999d' is more than 100 years"),
        (["list", "--reason", "invalid_json", "--limit", "9" * 20], "must be at most 100,000"),
        (
            ["replay", "--reason", "missing_attribute", "--dry-run", "--project", "p",
             "--topic", "../../projects/other/topics/x"],
            "--topic ../../projects/other/topics/x: a name must start with a letter",
        ),
        (
            ["replay", "--reason", "missing_attribute", "--dry-run", "--project", "p",
             "--topic", "projects/other/topics/fixed"],
            "is in project 'other', not the configured project 'p'",
        ),
    ],
)  # fmt: skip
def test_cli_refuses_values_out_of_range_in_one_line(db, argv, fragment, capsys):
    assert main(["dlq", *argv, "--duckdb", db]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
    with duckdb.connect(db) as con:
        assert con.execute("select count(*), max(replay_count) from dead_letters").fetchone() == (
            5,
            0,
        )


def test_cli_replays_to_a_full_topic_path_of_the_project_by_its_short_name(db, capsys):
    argv = ["dlq", "replay", "--duckdb", db, "--reason", "missing_attribute", "--dry-run"]
    assert main([*argv, "--project", "p", "--topic", "projects/p/topics/fixed"]) == 0
    assert "would replay 1 dead letters with reason 'missing_attribute' to fixed" in (
        capsys.readouterr().out
    )


def test_cli_says_to_stop_the_job_when_the_file_is_locked(db, capsys):
    holder = DuckDBLockHolder(db)
    try:
        assert main(["dlq", "list", "--duckdb", db]) == 2
    finally:
        holder.release()
    err = capsys.readouterr().err
    assert "locked by another process (python" in err or "locked by another process" in err
    assert "stop the job first" in err and err.count("\n") == 1


def test_replay_that_cannot_publish_marks_nothing(db, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    assert main(["dlq", "replay", "--duckdb", db, "--reason", "schema_violation"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "could not publish" in err[-1] and "nothing was marked replayed" in err[-1]
    assert "Traceback" not in "\n".join(err)
    with duckdb.connect(db) as con:
        assert con.execute("select max(replay_count) from dead_letters").fetchone() == (0,)


def test_a_too_large_dead_letter_is_not_replayed(tmp_path):
    path = str(tmp_path / "voc.duckdb")
    store = DuckDBStore(path)
    store.open()
    store.write(build_batch([dead("big", "too_large"), dead("ok", "too_large")]))
    store.close()
    with duckdb.connect(path) as con:
        plan = dead_letters.plan_replay(con, "too_large")
    assert plan.messages == []
    assert set(plan.skipped) == {"msg:big", "msg:ok"}
    assert "cannot be replayed" in plan.skipped["msg:big"]


def test_dead_letters_of_the_store_stage_can_be_listed(db, capsys):
    assert main(["dlq", "list", "--duckdb", db, "--reason", "x", "--stage", "store"]) == 0
