"""Each department's digest schedule as crontab lines or systemd timer units.

Schedules are cron expressions with a time zone (``0 7 * * 1`` in
``Europe/Berlin``: Mondays 07:00 there), as the owners registry gives them: the
format crontab and Cloud Scheduler both read; systemd gets the same moments as
``OnCalendar=`` (converted here; ``Persistent=true`` runs a missed digest when
the machine wakes up). Each scheduled run is ``voc digest --department D
--period P --deliver``; without ``--end`` a run covers the days up to the start
of its own day (UTC), so a re-run the same day is the same period and the
ledger sends nothing twice.

The crontab block is delimited by marker lines and replaced as a whole by the
next ``voc schedule install``; everything else in the user's crontab is kept.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

BEGIN = "# >>> voc digests (managed by 'voc schedule install'; edits inside are replaced) >>>"
END = "# <<< voc digests <<<"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?$")


class ScheduleError(ValueError):
    """A schedule that cannot be installed as written; the CLI exits 2."""


@dataclass(frozen=True)
class Schedule:
    department: str
    cron: str  # five fields
    timezone: str = "UTC"  # an IANA zone the cron expression is read in
    period: str = ""  # 7d, 1d, ...; '' = inferred from the cron expression

    @property
    def length(self) -> str:
        return self.period or period_for(self.cron)


@dataclass(frozen=True)
class Command:
    """Where the scheduled ``voc digest`` reads and writes."""

    duckdb: str
    out: str
    python: str = sys.executable
    workdir: str = "."

    def argv(self, schedule: Schedule) -> list[str]:
        return [
            self.python, "-m", "voc.pipelines.cli", "digest",
            "--department", schedule.department, "--period", schedule.length,
            "--duckdb", self.duckdb, "--out", self.out, "--deliver",
        ]  # fmt: skip


def _fields(cron: str) -> list[str]:
    fields = cron.split()
    if len(fields) != 5:
        raise ScheduleError(
            f"schedule {cron!r}: expected 5 cron fields (minute hour day month weekday)"
        )
    for part in (p for f in fields for p in f.split(",")):
        if not _FIELD.match(part):
            raise ScheduleError(f"schedule {cron!r}: {part!r} is not a number, range, step or *")
    return fields


def period_for(cron: str) -> str:
    """The period a schedule covers unless the registry says: monthly runs the last 30
    days, weekly the last 7, anything more frequent the last day."""
    _minute, _hour, dom, _month, dow = _fields(cron)
    if dom != "*":
        return "30d"
    if dow != "*":
        return "7d"
    return "1d"


def _calendar_part(field: str, width: int, first: int = 0) -> str:
    out = []
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            text = "*" if not step else f"{first:0{width}d}"
        elif "-" in base:
            low, high = base.split("-")
            text = f"{int(low):0{width}d}..{int(high):0{width}d}"
        else:
            text = f"{int(base):0{width}d}"
        out.append(f"{text}/{step}" if step else text)
    return ",".join(out)


def _weekdays(field: str) -> str:
    out = []
    for part in field.split(","):
        if "/" in part:
            raise ScheduleError(f"weekday {part!r}: steps are not supported for weekdays")
        low, _, high = part.partition("-")
        if int(low) > 7 or (high and int(high) > 7):
            raise ScheduleError(f"weekday {part!r}: expected 0-7")
        out.append(f"{_DAYS[int(low)]}..{_DAYS[int(high)]}" if high else _DAYS[int(low)])
    return ",".join(out)


def on_calendar(cron: str, timezone: str = "UTC") -> str:
    """The systemd ``OnCalendar=`` of a cron expression in ``timezone``. Cron runs a job when
    day-of-month OR weekday matches, systemd when both do: a schedule restricting
    both is refused rather than converted into something else."""
    minute, hour, dom, month, dow = _fields(cron)
    if dom != "*" and dow != "*":
        raise ScheduleError(
            f"schedule {cron!r}: restrict the day of month or the weekday, not both"
        )
    days = "" if dow == "*" else _weekdays(dow) + " "
    date = f"*-{_calendar_part(month, 2, 1)}-{_calendar_part(dom, 2, 1)}"
    return f"{days}{date} {_calendar_part(hour, 2)}:{_calendar_part(minute, 2)}:00 {timezone}"


def check(schedules: Sequence[Schedule]) -> None:
    for schedule in schedules:
        if not _NAME.match(schedule.department):
            raise ScheduleError(f"department {schedule.department!r}: not a plain lowercase name")
        on_calendar(schedule.cron)
        try:
            ZoneInfo(schedule.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(
                f"{schedule.department}: time zone {schedule.timezone!r} is unknown"
            ) from None


def crontab_block(schedules: Sequence[Schedule], command: Command) -> str:
    """The marked block: one line per department, output appended to a log beside the
    digests (cron mails what a job prints only where a mailer is set up)."""
    check(schedules)
    log = shlex.quote(str(Path(command.out) / "digest-cron.log"))
    lines = [BEGIN]
    for schedule in schedules:
        # cronie and busybox honour CRON_TZ for the lines after it; Debian's cron
        # reads every line in the machine's zone (docs/digests.md).
        lines.append(f"CRON_TZ={schedule.timezone}")
        argv = " ".join(shlex.quote(arg) for arg in command.argv(schedule))
        line = f"{schedule.cron} cd {shlex.quote(command.workdir)} && {argv} >> {log} 2>&1"
        lines.append(line.replace("%", r"\%"))  # a bare % ends a crontab command
    return "\n".join([*lines, END]) + "\n"


def merge_block(existing: str, block: str) -> str:
    """``existing`` crontab with its voc block replaced by ``block`` (or appended):
    installing twice leaves one block, and nothing outside it changes."""
    lines = existing.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip("\n") == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\n") == END]
    if not starts and not ends:
        kept = existing if not existing or existing.endswith("\n") else existing + "\n"
        return kept + block
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ScheduleError(
            "the crontab's voc block is damaged (marker lines missing or out of "
            "order); fix it by hand with 'crontab -e'"
        )
    return "".join(lines[: starts[0]]) + block + "".join(lines[ends[0] + 1 :])


def _systemd_quote(arg: str) -> str:
    escaped = arg.replace("%", "%%")
    if re.search(r"[\s\"'\\;$]", escaped):
        return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return escaped


def systemd_units(schedules: Sequence[Schedule], command: Command) -> dict[str, str]:
    """``voc-digest-<department>.service`` and ``.timer`` per department, by file name."""
    check(schedules)
    units: dict[str, str] = {}
    for s in schedules:
        name = f"voc-digest-{s.department}"
        exec_start = " ".join(_systemd_quote(arg) for arg in command.argv(s))
        units[f"{name}.service"] = "\n".join([
            "[Unit]",
            f"Description=voc digest for {s.department}",
            "",
            "[Service]",
            "Type=oneshot",
            f"WorkingDirectory={_systemd_quote(str(Path(command.workdir).resolve()))}",
            f"ExecStart={exec_start}",
            "",
        ])  # fmt: skip
        units[f"{name}.timer"] = "\n".join([
            "[Unit]",
            f"Description=voc digest for {s.department} ({s.cron} {s.timezone})",
            "",
            "[Timer]",
            f"OnCalendar={on_calendar(s.cron, s.timezone)}",
            "Persistent=true",
            "RandomizedDelaySec=60",
            f"Unit={name}.service",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ])  # fmt: skip
    return units
