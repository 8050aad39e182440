"""``voc digest`` and ``voc schedule``: the departments' digests, written, sent, scheduled.

    voc digest --department billing --period 7d --out voc-digests [--deliver]
    voc digest --all --period 7d --format html --out voc-digests --deliver
    voc schedule show                  the crontab block and systemd units it would install
    voc schedule install [--print]     into the user's crontab (its own marked block)
    voc schedule install --systemd DIR systemd user units (.service + .timer) into DIR

The work is in voc.pipelines.digests; this module reads flags, opens the owner
connection and prints one line per file and per delivery. Exit codes: 0 all
written (and sent, or sent before), 1 a delivery failed (recorded in the ledger,
retried by the next run), 2 a bad flag or configuration.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from voc.pipelines.cli.common import (
    DEFAULT_DUCKDB,
    EXIT_FAILED,
    UsageError,
    add_actions,
    positive_int,
)

DEFAULT_OUT = "voc-digests"


def add_parsers(commands) -> dict:
    digest = commands.add_parser("digest", help="write (and --deliver) department digests")
    which = digest.add_mutually_exclusive_group(required=True)
    which.add_argument("--department", help="one department's digest")
    which.add_argument("--all", action="store_true", help="every department, plus an index")
    digest.add_argument("--period", default="7d", help="length before --end: 7d, 24h, 2w")
    digest.add_argument(
        "--end", help="end of the period, ISO date or time (default: start of today, UTC)"
    )
    digest.add_argument(
        "--format", choices=("html", "md", "both"), default="both", help="files to write"
    )
    digest.add_argument("--out", default=DEFAULT_OUT, help=f"folder (default: {DEFAULT_OUT})")
    digest.add_argument("--duckdb", default=DEFAULT_DUCKDB, help="DuckDB file to read")
    digest.add_argument("--deliver", action="store_true", help="send by email / webhook too")
    digest.add_argument("--to", action="append", help="email address (repeatable; overrides)")
    digest.add_argument("--webhook", help="webhook URL (overrides the registry's)")
    digest.add_argument("--smtp-host", help="SMTP relay (default: $VOC_SMTP_HOST or localhost)")
    digest.add_argument("--smtp-port", type=positive_int, help="SMTP port (default 25)")
    digest.add_argument("--from", dest="sender", help="sender address ($VOC_SMTP_FROM)")
    digest.add_argument(
        "--attempts", type=positive_int, default=4, help="tries per delivery (default 4)"
    )
    digest.add_argument(
        "--retry-delay",
        type=float,
        default=2.0,
        help="seconds before the first retry, doubling after (default 2)",
    )

    schedule = add_actions(commands, "schedule", help="install the digests' schedules")
    for name, about in (("show", "print what install would write"), ("install", "install")):
        action = schedule.add_parser(name, help=about)
        action.add_argument("--duckdb", default=DEFAULT_DUCKDB, help="DuckDB file to read")
        action.add_argument("--out", default=DEFAULT_OUT, help="where the digests go")
        if name == "install":
            action.add_argument("--systemd", metavar="DIR", help="write systemd user units")
            action.add_argument("--print", action="store_true", help="print, install nothing")
    return {"digest": digest_command, "schedule": schedule_command}


def digest_command(args, _argv, _beam) -> int:
    from voc.pipelines.digests import content as c
    from voc.pipelines.digests.deliver import DeliveryConfigError, Targets, targets_from
    from voc.pipelines.digests.reader import open_reader
    from voc.pipelines.digests.run import FAILED, deliver, write_digest, write_index
    from voc.pipelines.ops.owner_connection import OwnerConnectionError
    from voc.transforms.backoff import Backoff

    if args.retry_delay < 0:
        raise UsageError("voc digest: --retry-delay must be >= 0")
    try:
        period = c.period_of(args.period, args.end)
    except c.PeriodError as error:
        raise UsageError(f"voc digest: {error}") from None
    formats = ("html", "md") if args.format == "both" or args.deliver else (args.format,)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"voc digest: --out {out}: not a folder")
    overrides = {
        "to": args.to,
        "webhook": args.webhook,
        "smtp_host": args.smtp_host,
        "smtp_port": args.smtp_port,
        "sender": args.sender,
    }
    try:
        with open_reader(args.duckdb) as reader:
            known = c.departments(reader)
            names = known if args.all else [args.department]
            if args.department and args.department not in known:
                raise UsageError(
                    f"voc digest: --department {args.department}: not in {args.duckdb} "
                    f"(known: {', '.join(known) or 'none'})"
                )
            registered = c.registry(reader)
            targets: dict[str, Targets] = {}
            if args.deliver:
                for name in names:
                    entry = registered.get(name)
                    targets[name] = targets_from(entry.delivery if entry else None, overrides)
            written = [
                write_digest(c.gather(reader, name, period, source=reader.source), out, formats)
                for name in names
            ]
    except OwnerConnectionError as error:
        raise UsageError(f"voc digest: {error}") from None
    except (DeliveryConfigError, c.RegistryError) as error:
        raise UsageError(f"voc digest: {error}") from None
    for w in written:
        note = " (no feedback in the period)" if w.content.empty else ""
        for path in w.paths.values():
            print(f"{w.content.department}: {path}{note}")
        if w.content.missing:
            print(f"{w.content.department}: missing macros: {', '.join(w.content.missing)}")
    if args.all:
        print(f"index: {write_index(period, written, out)}")
    if not args.deliver:
        return 0
    for name in names:
        if not targets[name].channels():
            print(f"{name}: no email or webhook configured; files only")
    backoff = Backoff(first=args.retry_delay, factor=2.0, cap=60.0, jitter=0.2)
    outcomes = deliver(out, written, targets, attempts=args.attempts, backoff=backoff)
    for outcome in outcomes:
        print(("earlier " if outcome.earlier else "") + outcome.line())
    failed = [o for o in outcomes if o.status == FAILED]
    if failed:
        print(
            f"voc digest: {len(failed)} delivery(ies) failed; recorded in "
            f"{out / 'digest-ledger.jsonl'}, retried by the next run"
        )
        return EXIT_FAILED
    return 0


def _schedules(database: str):
    from voc.pipelines.digests import content as c
    from voc.pipelines.digests.reader import open_reader
    from voc.pipelines.digests.schedule import Schedule
    from voc.pipelines.ops.owner_connection import OwnerConnectionError

    try:
        with open_reader(database) as reader:
            registered = c.registry(reader)
    except (OwnerConnectionError, c.RegistryError) as error:
        raise UsageError(f"voc schedule: {error}") from None
    schedules = []
    for name, entry in sorted(registered.items()):
        spec = entry.digest_schedule
        if not spec:
            continue
        if not isinstance(spec, dict) or "cron" not in spec:
            raise UsageError(f"voc schedule: {name}: digest_schedule {spec!r} has no cron")
        schedules.append(
            Schedule(name, spec["cron"], spec.get("timezone") or "UTC", spec.get("period", ""))
        )
    return schedules


def schedule_command(args, _argv, _beam) -> int:
    from voc.pipelines.digests import schedule as s

    schedules = _schedules(args.duckdb)
    if not schedules:
        print(f"voc schedule: no department in {args.duckdb} has a digest schedule")
        return 0
    command = s.Command(
        duckdb=str(Path(args.duckdb).resolve()), out=str(Path(args.out).resolve()),
        workdir=str(Path.cwd()),
    )  # fmt: skip
    try:
        block = s.crontab_block(schedules, command)
        units = s.systemd_units(schedules, command)
    except s.ScheduleError as error:
        raise UsageError(f"voc schedule: {error}") from None
    if args.action == "show" or args.print:
        print(block)
        for name, text in units.items():
            print(f"# {name}\n{text}")
        return 0
    if args.systemd:
        folder = Path(args.systemd)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in units.items():
            (folder / name).write_text(text, encoding="utf-8")
            print(f"wrote {folder / name}")
        timers = " ".join(n for n in units if n.endswith(".timer"))
        print(f"then: systemctl --user daemon-reload && systemctl --user enable --now {timers}")
        return 0
    return _install_crontab(block, s.merge_block)


def _install_crontab(block: str, merge) -> int:
    from voc.pipelines.digests.schedule import ScheduleError

    crontab = shutil.which("crontab")
    if crontab is None:
        raise UsageError(
            "voc schedule install: no crontab command here; use --systemd DIR or --print"
        )
    current = subprocess.run([crontab, "-l"], capture_output=True, text=True, check=False)
    # 'crontab -l' exits 1 with "no crontab for USER" when there is none yet.
    existing = current.stdout if current.returncode == 0 else ""
    try:
        merged = merge(existing, block)
    except ScheduleError as error:
        raise UsageError(f"voc schedule install: {error}") from None
    done = subprocess.run([crontab, "-"], input=merged, capture_output=True, text=True)
    if done.returncode != 0:
        raise UsageError(f"voc schedule install: crontab -: {done.stderr.strip()}")
    lines = [line for line in block.splitlines() if line and not line.startswith(("#", "CRON_TZ"))]
    print(f"voc schedule: installed the crontab block ({len(lines)} department(s))")
    return 0
