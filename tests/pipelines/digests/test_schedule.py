"""Schedules: the crontab block merge (pure), cron -> OnCalendar, systemd units that
systemd itself accepts, and ``voc schedule show`` from the departments table."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from voc.pipelines.cli import main
from voc.pipelines.digests.schedule import (
    BEGIN,
    END,
    Command,
    Schedule,
    ScheduleError,
    crontab_block,
    merge_block,
    on_calendar,
    period_for,
    systemd_units,
)

SCHEDULES = [Schedule("billing", "0 7 * * 1", "Europe/Berlin"), Schedule("docs", "30 6 * * *")]
COMMAND = Command(duckdb="/data/voc.duckdb", out="/data/voc digests", python="/usr/bin/python3")


def test_the_block_is_appended_once_and_replaced_on_reinstall():
    mine = "MAILTO=ops@example.com\n15 * * * * /usr/local/bin/backup\n"
    block = crontab_block(SCHEDULES, COMMAND)
    first = merge_block(mine, block)
    assert first.startswith(mine) and first.count(BEGIN) == 1
    assert merge_block(first, block) == first  # idempotent
    fewer = crontab_block(SCHEDULES[:1], COMMAND)
    second = merge_block(first + "0 1 * * * /usr/bin/true\n", fewer)
    assert second.count(BEGIN) == 1 and "--department docs" not in second
    assert second.startswith(mine) and second.endswith("0 1 * * * /usr/bin/true\n")
    assert merge_block("", block) == block
    assert merge_block("no newline at end", block).startswith("no newline at end\n" + BEGIN)


def test_a_damaged_block_is_refused_not_guessed():
    with pytest.raises(ScheduleError, match="damaged"):
        merge_block(f"{BEGIN}\n0 7 * * 1 voc\n", crontab_block(SCHEDULES, COMMAND))
    with pytest.raises(ScheduleError, match="damaged"):
        merge_block(f"{END}\n{BEGIN}\n", crontab_block(SCHEDULES, COMMAND))


def test_crontab_lines_quote_paths_and_name_the_time_zone():
    block = crontab_block(SCHEDULES, COMMAND).splitlines()
    assert block[0] == BEGIN and block[-1] == END
    assert block[1] == "CRON_TZ=Europe/Berlin"
    assert block[2].startswith("0 7 * * 1 cd ")
    assert "--department billing --period 7d --duckdb /data/voc.duckdb" in block[2]
    assert (
        "--out '/data/voc digests' --deliver >> '/data/voc digests/digest-cron.log' 2>&1"
        in (block[2])
    )
    assert "--period 1d" in block[4]


@pytest.mark.parametrize(
    ("cron", "calendar"),
    [
        ("0 7 * * 1", "Mon *-*-* 07:00:00 UTC"),
        ("30 6 * * *", "*-*-* 06:30:00 UTC"),
        ("*/15 8-18 * * 1-5", "Mon..Fri *-*-* 08..18:00/15:00 UTC"),
        ("0 9 1 * *", "*-*-01 09:00:00 UTC"),
        ("0 9 * * 0,6", "Sun,Sat *-*-* 09:00:00 UTC"),
    ],
)
def test_cron_to_on_calendar(cron, calendar):
    assert on_calendar(cron) == calendar


def test_unconvertible_schedules_are_refused():
    for cron in ("0 7 1 * 1", "0 7 * *", "0 7 * * mon", "0 7 * * 9"):
        with pytest.raises(ScheduleError):
            on_calendar(cron)
    with pytest.raises(ScheduleError, match="time zone"):
        crontab_block([Schedule("billing", "0 7 * * 1", "Mars/Olympus")], COMMAND)
    assert [period_for(c) for c in ("0 7 * * 1", "0 7 1 * *", "0 * * * *")] == ["7d", "30d", "1d"]


def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is not installed (apt-get install systemd)")
    units = systemd_units(
        SCHEDULES,
        Command(
            duckdb="/data/voc.duckdb",
            out=str(tmp_path),
            python=sys.executable,
            workdir=str(tmp_path),
        ),
    )
    assert sorted(units) == [
        "voc-digest-billing.service",
        "voc-digest-billing.timer",
        "voc-digest-docs.service",
        "voc-digest-docs.timer",
    ]
    assert "OnCalendar=Mon *-*-* 07:00:00 Europe/Berlin" in units["voc-digest-billing.timer"]
    for name, text in units.items():
        (tmp_path / name).write_text(text)
    for name in units:
        done = subprocess.run(
            [analyze, "verify", "--man=no", str(tmp_path / name)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{name}: {done.stderr}"
    calendar = subprocess.run(
        [analyze, "calendar", "Mon..Fri *-*-* 08..18:00/15:00 UTC"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert calendar.returncode == 0, calendar.stderr


def test_schedule_show_reads_the_departments_table(digest_db, capsys, tmp_path):
    assert main(["schedule", "show", "--duckdb", str(digest_db), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "CRON_TZ=Europe/Berlin\n0 7 * * 1 cd " in printed
    assert "# voc-digest-docs.timer" in printed and "OnCalendar=*-*-* 06:30:00 UTC" in printed
    units = tmp_path / "units"
    assert main(["schedule", "install", "--systemd", str(units), "--duckdb", str(digest_db),
                 "--out", str(tmp_path)]) == 0  # fmt: skip
    assert (units / "voc-digest-billing.timer").is_file()
