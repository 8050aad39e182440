"""Commands for trying voc and developing it: demo, emulator, generate.

None of these is needed in production; they exist so that the whole product
runs on one machine with nothing but the Pub/Sub emulator.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from voc.pipelines.arguments import MAX_EVENTS, MAX_PORT
from voc.pipelines.cli.common import (
    DEFAULT_DUCKDB,
    UsageError,
    add_actions,
    add_project_option,
    any_int,
    require_output_file,
    warn_without_emulator,
    whole_number,
)
from voc.pipelines.dev import DEMO_DAYS, DEMO_EVENTS
from voc.pipelines.topology import DEFAULT_PROJECT

EMULATOR_STATE_DIR = ".voc/emulator"
EMULATOR_ACTIONS = {
    "start": "start an emulator in the background, create the voc topics and subscriptions, "
    "and print the export line for PUBSUB_EMULATOR_HOST",
    "stop": "stop the emulator recorded in --state-dir",
    "env": "print the export line of the emulator recorded in --state-dir",
    "status": "say whether an emulator is recorded in --state-dir (exit 1 if not)",
}


def add_parsers(commands) -> dict:
    demo = commands.add_parser("demo", help="run the whole pipeline on generated events")
    _add_event_options(demo, events=DEMO_EVENTS)
    demo.add_argument("--duckdb", default=DEFAULT_DUCKDB, help="output file (replaced)")
    demo.add_argument("--taxonomy", default=None, help="root-cause taxonomy YAML")
    demo.add_argument("--state-dir", default=".voc/demo", help="emulator data and log")
    demo.add_argument(
        "--days",
        type=whole_number(1, MAX_DAYS),
        default=DEMO_DAYS,
        help=f"days of events, ending now (default {DEMO_DAYS})",
    )
    demo.add_argument(
        "--serve",
        action="store_true",
        help="after the checks, keep the job running and serving read-only SQL "
        "(voc sql, the DuckDB CLI) until Ctrl-C",
    )
    demo.add_argument(
        "--serve-port",
        type=whole_number(0, MAX_PORT),
        default=0,
        metavar="PORT",
        help=f"with --serve: the SQL server's port on localhost, 0-{MAX_PORT} (default: any free)",
    )

    actions = add_actions(
        commands,
        "emulator",
        help="manage a local Pub/Sub emulator",
        description="A local Pub/Sub emulator with the voc topics and subscriptions; its "
        "pid, port and data are kept in --state-dir, so another shell can stop it.",
    )
    _add_emulator_options(commands.choices["emulator"], start=True, after_action=False)
    for action, about in EMULATOR_ACTIONS.items():
        parser = actions.add_parser(action, help=about, description=about[0].upper() + about[1:])
        _add_emulator_options(parser, start=action == "start", after_action=True)

    generate = commands.add_parser("generate", help="generate realistic feedback events")
    _add_event_options(generate)
    _add_time_options(generate)
    target = generate.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--out",
        help="write JSONL to this file ('-' for stdout); a file gets its ground truth "
        "beside it (events.jsonl -> events.truth.json)",
    )
    target.add_argument(
        "--publish", action="store_true", help="publish to Pub/Sub (PUBSUB_EMULATOR_HOST)"
    )
    generate.add_argument(
        "--truth",
        metavar="FILE",
        help="write the ground truth JSON (hourly volumes, surge, repeat contacts, late "
        "events) to FILE (default with --out FILE: beside it)",
    )
    add_project_option(generate)
    return {
        "demo": demo_command,
        "emulator": emulator_command,
        "generate": generate_command,
    }


def _add_event_options(parser: argparse.ArgumentParser, events: int = 5000) -> None:
    """-n and --seed, the same for ``voc demo`` and ``voc generate``."""
    parser.add_argument(
        "-n",
        "--events",
        type=whole_number(1, MAX_EVENTS),
        default=events,
        help=f"how many messages to generate, 1-{MAX_EVENTS:,} (default {events})",
    )
    parser.add_argument(
        "--seed",
        type=any_int,
        default=7,
        help="random seed: the same seed and -n give the same events (default 7)",
    )


# voc generate --days: a year at most, well inside what the pipeline accepts.
MAX_DAYS = 365
# What the job's parser accepts as an event time (transforms.parse_event.ParseLimits,
# not imported: it loads Beam, and a mistyped flag must fail fast).
MAX_EVENT_AGE = timedelta(days=5 * 365)
MAX_FUTURE_SKEW = timedelta(days=1)
_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:[Zz]|[+-]\d{2}:\d{2})?)?"
)


def utc_start(text: str) -> datetime:
    """argparse type: a date (midnight UTC) or an RFC 3339 date-time, as UTC.

    A date-time without an offset is read as UTC, as every time in voc is.
    """
    value = None
    if _DATE.fullmatch(text.strip()):
        try:
            value = datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
        except ValueError:
            value = None
    if value is None:
        raise argparse.ArgumentTypeError(
            f"expected a date (2026-01-05) or an RFC 3339 date-time "
            f"(2026-01-05T09:00:00Z), got {text!r}"
        )
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _add_time_options(parser: argparse.ArgumentParser) -> None:
    """--start, --days and the surge, for demo data with time in it (``voc generate``).

    The surge's defaults are written out rather than imported: importing the
    generator takes longer than every other command needs to parse its flags
    (a test keeps the text in step with voc.pipelines.dev.generate.timeline).
    """
    parser.add_argument(
        "--start",
        type=utc_start,
        metavar="DATE",
        help="when the events begin: a date or an RFC 3339 date-time, UTC (default: with "
        "--days, so that the span ends at the current hour; without, 2026-01-05T09:00Z)",
    )
    parser.add_argument(
        "--days",
        type=whole_number(1, MAX_DAYS),
        help=f"spread the interactions over this many days, 1-{MAX_DAYS}, with daily and "
        "weekly cycles, repeat contacts, late arrivals and a surge (default: 4 hours)",
    )

    surge = parser.add_mutually_exclusive_group()
    surge.add_argument(
        "--surge-cause",
        metavar="CAUSE",
        help="with --days: the cause whose volume surges 8x for 4 hours on a weekday "
        "mid-span (default: billing_error)",
    )
    surge.add_argument("--no-surge", action="store_true", help="with --days: plant no surge")


def _span(args, now: datetime) -> tuple[datetime | None, str | None]:
    """The start and surge cause of ``voc generate``, refusing spans the job would reject."""
    from voc.pipelines.dev.generate.phrases import PRIMARY_WEIGHTS
    from voc.pipelines.dev.generate.timeline import DEFAULT_SURGE_CAUSE, default_start

    if args.surge_cause is not None and args.surge_cause not in PRIMARY_WEIGHTS:
        raise UsageError(
            f"voc generate: --surge-cause {args.surge_cause!r}: expected one of "
            f"{', '.join(sorted(PRIMARY_WEIGHTS))}"
        )
    if args.days is None:
        for flag, given in (("--surge-cause", args.surge_cause), ("--no-surge", args.no_surge)):
            if given:
                raise UsageError(f"voc generate: {flag} needs --days")
        start = args.start
        # Contacts begin within 4 hours; their notes and surveys follow within 5 more.
        end = start + timedelta(hours=9) if start is not None else None
    else:
        start = args.start or default_start(args.days, now)
        end = start + timedelta(days=args.days)
    if start is not None and start < now - MAX_EVENT_AGE:
        raise UsageError(
            f"voc generate: --start {start:%Y-%m-%dT%H:%M:%SZ} is more than "
            f"{MAX_EVENT_AGE.days} days ago; the job rejects events that old"
        )
    if end is not None and end > now + MAX_FUTURE_SKEW:
        raise UsageError(
            f"voc generate: the events would reach {end:%Y-%m-%dT%H:%M:%SZ}, more than a day "
            "from now; the job rejects events that far ahead (move --start back)"
        )
    surge_cause = None if args.no_surge else (args.surge_cause or DEFAULT_SURGE_CAUSE)
    return start, surge_cause


def _add_emulator_options(
    parser: argparse.ArgumentParser, *, start: bool, after_action: bool
) -> None:
    """--state-dir for every action, --project and --port for ``start``.

    They were accepted before the action (``voc emulator --state-dir D stop``) when
    the actions had no parsers of their own, and still are; after it, a default of
    SUPPRESS keeps the action's parser from overwriting a value given before it.
    """

    def default(value: str | None) -> str | None:
        return argparse.SUPPRESS if after_action else value

    parser.add_argument(
        "--state-dir",
        default=default(EMULATOR_STATE_DIR),
        help=f"where the emulator's pid, port, data and log are kept "
        f"(default: {EMULATOR_STATE_DIR})",
    )
    if start:
        parser.add_argument(
            "--project",
            default=default(DEFAULT_PROJECT),
            help=f"project to create the topics in (default: {DEFAULT_PROJECT})",
        )
        parser.add_argument(
            "--port",
            type=whole_number(1, MAX_PORT),
            default=default(None),
            help=f"port to listen on, 1-{MAX_PORT} (default: a free one)",
        )


def demo_command(args, _argv, _beam) -> int:
    from voc.pipelines.dev.demo import run_demo
    from voc.pipelines.options import check_taxonomy

    require_output_file("voc demo", "--duckdb", args.duckdb)
    check_taxonomy(args.taxonomy)
    result = run_demo(
        events=args.events,
        seed=args.seed,
        duckdb_path=args.duckdb,
        state_dir=Path(args.state_dir),
        taxonomy=args.taxonomy,
        days=args.days,
    )
    if result.mismatches:
        for line in result.mismatches:
            print(f"voc demo: MISMATCH {line}", file=sys.stderr)
        return 1
    if args.serve:
        from voc.pipelines.dev.demo import serve_demo

        serve_demo(args.duckdb, Path(args.state_dir), args.taxonomy, args.serve_port)
    return 0


def emulator_command(args, _argv, _beam) -> int:
    from voc.pipelines.dev import emulator

    state_dir = Path(args.state_dir)
    if args.action == "start":
        state = emulator.start_emulator(state_dir, args.project, args.port)
        emulator.provision(state.address, state.project)
        print(state.env_line())
        print(f"# pid {state.pid}, data {state.data_dir}, log {state.log_path}", file=sys.stderr)
    elif args.action == "stop":
        stopped = emulator.stop_emulator(state_dir)
        print("stopped" if stopped else f"no emulator recorded in {state_dir}", file=sys.stderr)
    elif args.action == "env":
        state = emulator.read_state(state_dir)
        if state is None:
            raise UsageError(f"voc emulator env: no emulator recorded in {state_dir}")
        print(state.env_line())
    else:
        state = emulator.read_state(state_dir)
        if state is None:
            print("not running")
            return 1
        print(f"running: pid {state.pid} on {state.address}")
    return 0


def generate_command(args, _argv, _beam) -> int:
    from voc.pipelines.dev.generate import (
        generate_events,
        generate_with_truth,
        truth_path,
        write_jsonl,
        write_truth,
    )

    start, surge_cause = _span(args, datetime.now(UTC))
    truth_file = args.truth
    if args.out not in (None, "-"):
        require_output_file("voc generate", "--out", args.out)
        truth_file = truth_file or str(truth_path(args.out))
    if truth_file is not None:
        require_output_file("voc generate", "--truth", truth_file)
        if args.out is not None and Path(truth_file).resolve() == Path(args.out).resolve():
            raise UsageError(f"voc generate: --truth {truth_file}: is the --out file")
    options = {"seed": args.seed, "start": start, "days": args.days, "surge_cause": surge_cause}
    truth = None
    if truth_file is None:
        messages, report = generate_events(args.events, **options)
    else:
        messages, report, truth = generate_with_truth(args.events, **options)
    if args.publish:
        warn_without_emulator("voc generate", args.project)
        from voc.pipelines.ops.publish import publish_messages
        from voc.transforms.error_text import first_line

        try:
            publish_messages(messages, args.project)
        except Exception as error:  # auth, missing topic, unreachable service
            raise UsageError(
                f"voc generate: could not publish to project {args.project}: {first_line(error)}"
            ) from None
    elif args.out == "-":
        write_jsonl(messages, sys.stdout)
    else:
        try:
            write_jsonl(messages, args.out)
        except OSError as error:  # permission denied, disk full, ...
            raise UsageError(f"voc generate: --out {args.out}: {error.strerror or error}") from None
    if truth_file is not None and truth is not None:
        try:
            write_truth(truth, truth_file)
        except OSError as error:
            raise UsageError(
                f"voc generate: --truth {truth_file}: {error.strerror or error}"
            ) from None
    print(json.dumps(report.to_dict(), sort_keys=True), file=sys.stderr)
    return 0
