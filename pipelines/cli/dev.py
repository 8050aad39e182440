"""Commands for trying voc and developing it: demo, emulator, generate, eval.

None of these is needed in production; they exist so that the whole product
runs on one machine with nothing but the Pub/Sub emulator.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from voc.pipelines.cli.common import (
    DEFAULT_DUCKDB,
    UsageError,
    default_project,
    positive_int,
    require_existing_parent,
    warn_without_emulator,
)
from voc.pipelines.topology import DEFAULT_PROJECT


def add_parsers(commands) -> dict:
    demo = commands.add_parser("demo", help="run the whole pipeline on generated events")
    demo.add_argument("-n", "--events", type=positive_int, default=5000)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--duckdb", default=DEFAULT_DUCKDB, help="output file (replaced)")
    demo.add_argument("--taxonomy", default=None, help="root-cause taxonomy YAML")
    demo.add_argument("--state-dir", default=".voc/demo", help="emulator data and log")

    emulator = commands.add_parser("emulator", help="manage a local Pub/Sub emulator")
    emulator.add_argument("action", choices=("start", "stop", "env", "status"))
    emulator.add_argument("--state-dir", default=".voc/emulator")
    emulator.add_argument("--project", default=DEFAULT_PROJECT)
    emulator.add_argument("--port", type=positive_int, default=None)

    generate = commands.add_parser("generate", help="generate realistic feedback events")
    generate.add_argument("-n", "--events", type=positive_int, default=5000)
    generate.add_argument("--seed", type=int, default=7)
    target = generate.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="write JSONL to this file ('-' for stdout)")
    target.add_argument(
        "--publish", action="store_true", help="publish to Pub/Sub (PUBSUB_EMULATOR_HOST)"
    )
    generate.add_argument("--project", default=default_project())

    evaluate = commands.add_parser("eval", help="sentiment accuracy on labelled sentences")
    evaluate.add_argument("--data", required=True, help="directory of *_labelled.txt files")
    return {
        "demo": demo_command,
        "emulator": emulator_command,
        "generate": generate_command,
        "eval": eval_command,
    }


def demo_command(args, _argv, _beam) -> int:
    from voc.pipelines.dev.demo import run_demo
    from voc.pipelines.options import check_taxonomy

    require_existing_parent(args.duckdb, "--duckdb")
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
        require_existing_parent(args.out, "--out")
        write_jsonl(messages, args.out)
    print(json.dumps(report.to_dict(), sort_keys=True), file=sys.stderr)
    return 0


def eval_command(args, _argv, _beam) -> int:
    from voc.pipelines.dev.evaluate import LABELLED_SUFFIX, evaluate_sentiment, format_report

    data = Path(args.data)
    if not data.is_dir() or not any(data.glob(f"*{LABELLED_SUFFIX}")):
        raise UsageError(f"voc eval: --data {args.data}: no *{LABELLED_SUFFIX} files there")
    print(format_report(evaluate_sentiment(data)))
    return 0
