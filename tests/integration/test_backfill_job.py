"""`voc backfill` end to end: generated history (a plain and a gzip file, with malformed,
repeated, unreadable and conflicting lines) into a real DuckDB file on two worker
processes; then the same again, which must add nothing; and the flag errors."""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.pipelines.cli_results import assert_one_line_error, run_in_process
from voc.pipelines.dev.generate import generate_events, write_jsonl

KEY = "ab" * 32
BAD_LINES = (b"this is not json", b'{"attributes": {"event_type": "survey"}}')


def _voc_backfill(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"VOC_PSEUDONYM_KEY": KEY}
    return subprocess.run(
        [sys.executable, "-m", "voc.pipelines.cli", "backfill", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _conflicting_line(line: bytes) -> bytes:
    """The same survey's event_id with other content (another CSAT)."""
    record = json.loads(line)
    payload = json.loads(base64.b64decode(record["data_b64"]))
    payload["csat"] = 1 if payload["csat"] != 1 else 2
    record["data_b64"] = base64.b64encode(json.dumps(payload).encode()).decode()
    return json.dumps(record).encode()


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backfill")
    messages, report = generate_events(2400, seed=21, days=14)
    write_jsonl(messages, folder / "all.jsonl")
    lines = (folder / "all.jsonl").read_bytes().splitlines()
    (folder / "all.jsonl").unlink()
    half = len(lines) // 2
    survey = next(
        line
        for line in lines
        if json.loads(line)["kind"] == "valid" and json.loads(line)["event_type"] == "survey"
    )
    repeated = lines[:10]  # redeliveries of ten messages, valid or not
    history = folder / "history"
    history.mkdir()
    plain = [*lines[:half], *BAD_LINES, *repeated]
    (history / "part-1.jsonl").write_bytes(b"\n".join(plain) + b"\n")
    compressed = [*lines[half:], _conflicting_line(survey)]
    (history / "part-2.jsonl.gz").write_bytes(gzip.compress(b"\n".join(compressed) + b"\n"))
    return folder, report, len(plain) + len(compressed)


def _counts(db: Path) -> dict[str, int]:
    tables = ("surveys", "agent_notes", "feedback_tags", "recovery_items", "dead_letters")
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def test_backfill_loads_history_once_on_two_workers(history):
    folder, report, lines = history
    db = folder / "voc.duckdb"
    first = _voc_backfill(folder, "--input", "history/*.jsonl*", "--duckdb", str(db))
    assert first.returncode == 0, first.stderr
    assert f"read {lines:,} lines from 2 file(s) with 2 worker process(es)" in first.stderr
    counts = _counts(db)
    assert counts["surveys"] == report.valid_surveys
    assert counts["agent_notes"] == report.valid_notes
    # Every malformed message, the two unreadable lines and the conflicting survey.
    assert counts["dead_letters"] == report.malformed + len(BAD_LINES) + 1
    assert f"stored {report.valid_surveys + report.valid_notes:,} events" in first.stderr

    with duckdb.connect(str(db), read_only=True) as con:
        unreadable = con.execute(
            "select data, error from dead_letters where reason = 'invalid_line' order by data"
        ).fetchall()
        assert [bytes(data) for data, _ in unreadable] == sorted(BAD_LINES)
        assert all("history/part-1.jsonl:" in error for _, error in unreadable)
        reasons = dict(
            con.execute(
                "select stage || ':' || reason, count(*) from dead_letters group by 1"
            ).fetchall()
        )
        assert reasons.pop("store:conflicting_duplicate") == 1
        assert reasons.pop("read:invalid_line") == len(BAD_LINES)
        assert sum(reasons.values()) == report.malformed
        assert all(stage.startswith("parse:") for stage in reasons)
        untagged = con.execute(
            "select count(*) from (select event_id from surveys union all "
            "select event_id from agent_notes) anti join feedback_tags using (event_id)"
        ).fetchone()[0]
        assert untagged == 0
        emails = con.execute(
            "select count(*) from surveys where regexp_matches(comment, '[\\w.]+@[\\w.]+\\.\\w+')"
        ).fetchone()[0]
        assert emails == 0
        interactions, contacts = con.execute(
            "select (select count(*) from interactions), count(distinct interaction_id) "
            "from (select interaction_id from surveys union all "
            "select interaction_id from agent_notes)"
        ).fetchone()
        assert interactions == contacts
        rollup_volume = con.execute(
            "select sum(volume) from issue_rollups where level = 'cause'"
        ).fetchone()[0]
        assert rollup_volume and rollup_volume > 0
        (departments,) = con.execute("select count(*) from departments").fetchone()
        assert departments > 0
    assert not (folder / "voc.duckdb.backfill").exists()

    again = _voc_backfill(folder, "--input", "history/*", "--duckdb", str(db), "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert "stored 0 events" in again.stderr
    assert _counts(db) == counts


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--input", "nowhere/*.jsonl"], "no file matches"),
        (["--input", "x", "--since", "2026-02-01", "--until", "2026-01-01"], "--since must be"),
        (["--input", "x", "--workers", "0"], "--workers"),
        (["--input", "x", "--bogus"], "--bogus"),
        (["--input", "x", "--since", "yesterday"], "--since"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(capsys, monkeypatch, tmp_path, args, fragment):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x").write_bytes(b"")
    assert_one_line_error(run_in_process(capsys, "backfill", *args), fragment)


def test_a_missing_taxonomy_is_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x").write_bytes(b"")
    result = run_in_process(capsys, "backfill", "--input", "x", "--taxonomy", "no.yaml")
    assert_one_line_error(result, "--taxonomy no.yaml")
