"""Commands for trying voc and developing it: demo, emulator, generate.

None of these is needed in production; they exist so that the whole product
runs on one machine with nothing but the Pub/Sub emulator.
"""

from __future__ import annotations

import argparse
import json
import sys
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
    _add_event_options(demo)
    demo.add_argument("--duckdb", default=DEFAULT_DUCKDB, help="output file (replaced)")
    demo.add_argument("--taxonomy", default=None, help="root-cause taxonomy YAML")
    demo.add_argument("--state-dir", default=".voc/demo", help="emulator data and log")

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
    target = generate.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="write JSONL to this file ('-' for stdout)")
    target.add_argument(
        "--publish", action="store_true", help="publish to Pub/Sub (PUBSUB_EMULATOR_HOST)"
    )
    add_project_option(generate)
    return {
        "demo": demo_command,
        "emulator": emulator_command,
        "generate": generate_command,
    }


def _add_event_options(parser: argparse.ArgumentParser) -> None:
    """-n and --seed, the same for ``voc demo`` and ``voc generate``."""
    parser.add_argument(
        "-n",
        "--events",
        type=whole_number(1, MAX_EVENTS),
        default=5000,
        help=f"how many messages to generate, 1-{MAX_EVENTS:,} (default 5000)",
    )
    parser.add_argument(
        "--seed",
        type=any_int,
        default=7,
        help="random seed: the same seed and -n give the same events (default 7)",
    )


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
    )
    if result.mismatches:
        for line in result.mismatches:
            print(f"voc demo: MISMATCH {line}", file=sys.stderr)
        return 1
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
    from voc.pipelines.dev.generate import generate_events, write_jsonl

    if args.out not in (None, "-"):
        require_output_file("voc generate", "--out", args.out)
    messages, report = generate_events(args.events, seed=args.seed)
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
    print(json.dumps(report.to_dict(), sort_keys=True), file=sys.stderr)
    return 0
