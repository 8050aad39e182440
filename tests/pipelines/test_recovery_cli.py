"""``voc recovery`` and ``voc fix`` on real DuckDB files: output, exit codes, one-line errors;
and a change sent by the CLI to a running job's inbox."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.pipelines.ops.owner_loop_data import make_file
from voc.pipelines.cli import main
from voc.pipelines.ops import live_job
from voc.pipelines.ops.change_inbox import ChangeInbox
from voc.transforms.sinks.duckdb_store import DuckDBStore


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return Path(make_file(tmp_path_factory.mktemp("recovery-cli") / "template.duckdb"))


@pytest.fixture
def db(template, tmp_path) -> str:
    path = str(tmp_path / "voc.duckdb")
    shutil.copyfile(template, path)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_work_an_item_from_the_queue_to_resolved(db, capsys):
    code, out, _ = run(capsys, "recovery", "list", "--duckdb", db, "--department", "billing")
    assert code == 0 and "recovery:i-1" in out and "recovery:i-2" not in out
    assert "open" in out and "billing_error" in out
    code, out, _ = run(capsys, "recovery", "list", "--duckdb", db, "--overdue")
    assert code == 0 and "recovery:i-1" in out and "recovery:i-2" in out

    code, out, _ = run(
        capsys, "recovery", "contact", "recovery:i-1", "--note", "voicemail", "--by", "ana",
        "--duckdb", db,
    )  # fmt: skip
    assert code == 0
    assert out == f"voc recovery contact: recovery:i-1: open -> contacted [file {db}]\n"
    code, out, _ = run(capsys, "recovery", "resolve", "i-1", "--note", "refunded", "--duckdb", db)
    assert code == 0 and "contacted -> resolved" in out

    code, out, _ = run(capsys, "recovery", "history", "recovery:i-1", "--duckdb", db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("recovery:i-1: billing / billing_error, nps_detractor, chat")
    assert len(lines) == 5  # the item, the table's two header lines, two changes
    assert lines[3].split()[2:4] == ["contacted", "ana"] and lines[3].endswith("voicemail")
    assert lines[4].split()[2] == "resolved" and lines[4].endswith("refunded")

    code, out, _ = run(capsys, "recovery", "list", "--duckdb", db, "--status", "resolved")
    assert code == 0 and "recovery:i-1" in out and "recovery:i-2" not in out
    code, out, _ = run(capsys, "recovery", "list", "--duckdb", db, "--overdue")
    assert code == 0 and "recovery:i-1" not in out and "recovery:i-2" in out


def test_the_default_author_is_the_os_user(db, capsys):
    import getpass

    run(capsys, "recovery", "contact", "i-2", "--note", "called", "--duckdb", db)
    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("select changed_by from recovery_changes").fetchone() == (
            getpass.getuser(),
        )


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["recovery", "resolve", "i-1", "--note", "x"], "is open: record the contact first"),
        (["recovery", "contact", "nope", "--note", "x"], "no recovery item recovery:nope"),
        (["recovery", "contact", "i-1"], "the following arguments are required: --note"),
        (["recovery", "contact", "i-1", "--note", "  "], "a note is required"),
        (["recovery", "history", "nope"], "no recovery item recovery:nope"),
        (["recovery", "list", "--department", "marketing"], "--department marketing: no such"),
        (["recovery", "list", "--status", "lost"], "invalid choice: 'lost'"),
        (
            ["fix", "record", "--department", "billing", "--cause", "billing_error",
             "--date", "2026-13-01", "--note", "x"],
            "--date '2026-13-01': expected a date like 2026-01-31",
        ),
        (
            ["fix", "record", "--department", "billing", "--cause", "billing_error",
             "--date", "5/1/2026", "--note", "x"],
            "--date '5/1/2026': expected a date like 2026-01-31",
        ),
        (
            ["fix", "record", "--department", "billingg", "--cause", "billing_error",
             "--date", "2026-01-05", "--note", "x"],
            "unknown department 'billingg' (known: billing, product)",
        ),
        (
            ["fix", "acknowledge", "--department", "billing", "--cause", "nope", "--note", "x"],
            "no feedback of department billing names cause 'nope'",
        ),
        (
            ["fix", "record", "--department", "billing", "--cause", "billing_error",
             "--date", "2999-01-01", "--note", "x"],
            "is in the future",
        ),
        (["fix", "list", "--department", "marketing"], "--department marketing: no such"),
    ],
)  # fmt: skip
def test_mistakes_are_one_line_and_exit_2(db, capsys, argv, fragment):
    code, out, err = run(capsys, *argv, "--duckdb", db)
    assert code == 2, err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
    assert out == ""


def test_a_missing_file_is_one_line(tmp_path, capsys):
    missing = str(tmp_path / "none.duckdb")
    for argv in (["recovery", "list"], ["recovery", "contact", "i-1", "--note", "x"]):
        code, _, err = run(capsys, *argv, "--duckdb", missing)
        assert code == 2 and "no such file" in err and err.count("\n") == 1


def test_fixes_are_recorded_and_listed_with_their_impact(db, capsys):
    shipped = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    code, out, _ = run(
        capsys, "fix", "record", "--department", "billing", "--cause", "billing_error",
        "--date", shipped, "--note", "new invoice template", "--duckdb", db,
    )  # fmt: skip
    assert code == 0 and f"billing/billing_error: fix shipped {shipped}" in out
    code, out, _ = run(
        capsys, "fix", "acknowledge", "--department", "product", "--cause", "product_defect",
        "--note", "firmware team on it", "--duckdb", db,
    )  # fmt: skip
    today = datetime.now(UTC).date().isoformat()
    assert code == 0 and f"product/product_defect: acknowledged {today}" in out

    code, out, _ = run(capsys, "fix", "list", "--duckdb", db)
    assert code == 0
    assert "fix_shipped" in out and "acknowledged" in out and "new invoice template" in out
    # The fix's impact: the one billing_error contact came two days ago, after the fix;
    # no rollups in this file, so no noise figure.
    assert "Contacts rose from none (0 -> 1 over 3 days); too little history" in out
    code, out, _ = run(capsys, "fix", "list", "--duckdb", db, "--department", "product")
    assert code == 0 and "fix_shipped" not in out and "acknowledged" in out


def test_the_cli_sends_changes_to_a_running_job(db, capsys):
    store = DuckDBStore(db)
    store.open()
    live_job.announce(db)
    inbox = ChangeInbox(db, store, poll=0.05).start()
    try:
        code, out, err = run(capsys, "recovery", "contact", "i-1", "--note", "x", "--duckdb", db)
        refused, _, refusal = run(capsys, "recovery", "resolve", "i-2", "--note", "x",
                                  "--duckdb", db)  # fmt: skip
    finally:
        inbox.stop()
        live_job.withdraw(db)
        store.close()
    assert code == 0, err
    assert out.endswith(f"open -> contacted [job pid {os.getpid()}]\n")
    assert refused == 2 and "is open: record the contact first" in refusal
