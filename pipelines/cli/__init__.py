"""The ``voc`` command line.

    voc demo                         generate, publish, run, summarise (embedded defaults)
    voc emulator start|stop|env      a local Pub/Sub emulator with the voc topics
    voc generate -n 5000 --out F     realistic events as JSONL (or --publish)
    voc run [options]                the streaming job
    voc summary --duckdb F           per-department summary of a DuckDB file
    voc eval --data DIR              sentiment accuracy on a labelled sentence set
    voc dlq list|replay|purge        dead letters: by reason, re-publish after a fix, retention
    voc schema check [FILE ...]      breaking changes in event contracts

Errors in flags or configuration print one line and exit with code 2, never a
traceback: the people who run this read the line, not the stack.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_USAGE = 2
EXIT_FAILED = 1


class UsageError(Exception):
    """A bad flag, path or config file; printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse prints usage plus the error; we print one line that names the problem."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _build_parser() -> _Parser:
    parser = _Parser(prog="voc", description="Voice-of-customer feedback pipeline.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    demo = commands.add_parser("demo", help="run the whole pipeline on generated events")
    demo.add_argument("-n", "--events", type=_positive_int, default=5000)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--duckdb", default="voc.duckdb", help="output file (replaced)")
    demo.add_argument("--taxonomy", default=None, help="root-cause taxonomy YAML")
    demo.add_argument("--state-dir", default=".voc/demo", help="emulator data and log")

    emulator = commands.add_parser("emulator", help="manage a local Pub/Sub emulator")
    emulator.add_argument("action", choices=("start", "stop", "env", "status"))
    emulator.add_argument("--state-dir", default=".voc/emulator")
    emulator.add_argument("--project", default="voc-local")
    emulator.add_argument("--port", type=_positive_int, default=None)

    generate = commands.add_parser("generate", help="generate realistic feedback events")
    generate.add_argument("-n", "--events", type=_positive_int, default=5000)
    generate.add_argument("--seed", type=int, default=7)
    target = generate.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="write JSONL to this file ('-' for stdout)")
    target.add_argument(
        "--publish", action="store_true", help="publish to Pub/Sub (PUBSUB_EMULATOR_HOST)"
    )
    generate.add_argument("--project", default=os.environ.get("PUBSUB_PROJECT_ID", "voc-local"))

    run = commands.add_parser(
        "run",
        help="run the streaming pipeline",
        description="Run the streaming pipeline. Beam pipeline options (--runner, "
        "--project, --region, --temp_location, ...) are passed through to Beam.",
    )
    from voc.pipelines.options import VocOptions

    VocOptions._add_argparse_args(run)

    summary = commands.add_parser("summary", help="print the per-department summary")
    summary.add_argument("--duckdb", default="voc.duckdb")

    dlq_actions = _actions(
        commands,
        "dlq",
        help="list, replay or purge dead letters (restricted: raw payloads)",
        description="Dead letters: messages the job could not store, kept with their raw "
        "bytes. Run while the job is stopped (DuckDB allows one writer per file).",
    )
    dlq_list = dlq_actions.add_parser("list", help="dead letters grouped by reason")
    dlq_list.add_argument("--reason", help="list the rows behind this reason")
    dlq_list.add_argument("--stage", choices=("parse", "tag"))
    dlq_list.add_argument("--all", action="store_true", help="include resolved dead letters")
    dlq_list.add_argument("--limit", type=_positive_int, default=50)
    dlq_replay = dlq_actions.add_parser("replay", help="re-publish dead letters after a fix")
    dlq_replay.add_argument(
        "--reason", required=True, help="replay the dead letters of this reason"
    )
    dlq_replay.add_argument("--stage", choices=("parse", "tag"))
    dlq_replay.add_argument(
        "--include-resolved", action="store_true", help="also those already replayed successfully"
    )
    dlq_replay.add_argument("--topic", help="publish to this topic instead of the event type's")
    dlq_replay.add_argument("--project", default=os.environ.get("PUBSUB_PROJECT_ID", "voc-local"))
    dlq_replay.add_argument("--dry-run", action="store_true", help="say what would be replayed")
    dlq_purge = dlq_actions.add_parser("purge", help="delete old dead letters (retention)")
    dlq_purge.add_argument(
        "--older-than", required=True, metavar="AGE", help="e.g. 30d, 12h, 2w, 90m"
    )
    dlq_purge.add_argument("--reason", help="only this reason")
    dlq_purge.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    for action in (dlq_list, dlq_replay, dlq_purge):
        action.add_argument("--duckdb", default="voc.duckdb")

    schema_actions = _actions(
        commands,
        "schema",
        help="check event contracts for breaking changes",
        description="Check a candidate contract (schemas/events/<event_type>.v<N>.json) against "
        "version N-1, or, without files, every shipped contract version against the one before.",
    )
    schema_check = schema_actions.add_parser("check", help="exit 1 and name each breaking change")
    schema_check.add_argument("files", nargs="*", metavar="FILE")

    evaluate = commands.add_parser("eval", help="sentiment accuracy on labelled sentences")
    evaluate.add_argument("--data", required=True, help="directory of *_labelled.txt files")
    return parser


def _actions(commands, name: str, **about: str):
    """A command with actions of its own (``voc dlq list``); one of them is required."""
    command = commands.add_parser(name, **about)
    actions = command.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    actions.required = True
    return actions


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    from voc.pipelines.logs import configure_logging

    configure_logging()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(argv)
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("voc: interrupted", file=sys.stderr)
        return 130


def _dispatch(argv: list[str]) -> int:
    from voc.pipelines.dev.emulator import EmulatorError
    from voc.pipelines.options import ConfigError
    from voc.pipelines.streaming import JobFailed
    from voc.transforms.match_root_causes import TaxonomyError

    parser = _build_parser()
    if argv[:1] == ["run"]:
        args, beam_args = parser.parse_known_args(argv)
    else:
        args, beam_args = parser.parse_args(argv), []
    try:
        return COMMANDS[args.command](args, argv[1:], beam_args)
    except (ConfigError, TaxonomyError, EmulatorError, FileNotFoundError) as error:
        raise UsageError(f"voc {args.command}: {error}") from None
    except JobFailed as error:
        print(f"voc {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILED


def _cmd_demo(args, _argv, _beam) -> int:
    from voc.pipelines.dev.demo import run_demo
    from voc.pipelines.options import check_taxonomy

    _require_existing_parent(args.duckdb, "--duckdb")
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


def _cmd_emulator(args, _argv, _beam) -> int:
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


def _cmd_generate(args, _argv, _beam) -> int:
    from voc.pipelines.dev.generate import generate_events, write_jsonl

    messages, report = generate_events(args.events, seed=args.seed)
    if args.publish:
        if not os.environ.get("PUBSUB_EMULATOR_HOST"):
            print(
                "voc generate: PUBSUB_EMULATOR_HOST is not set; publishing to real Pub/Sub "
                f"project {args.project}",
                file=sys.stderr,
            )
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
        _require_existing_parent(args.out, "--out")
        write_jsonl(messages, args.out)
    import json

    print(json.dumps(report.to_dict(), sort_keys=True), file=sys.stderr)
    return 0


def _cmd_run(_args, argv, beam_args) -> int:
    from apache_beam.options.pipeline_options import PipelineOptions

    from voc.pipelines.options import check_flags
    from voc.pipelines.streaming import run_job

    check_flags(beam_args)
    report = run_job(PipelineOptions(argv))
    if report.acknowledged:
        print(
            f"voc run: committed {report.acknowledged:,} messages in {report.seconds:.1f} s "
            f"({report.per_second:,.0f} msg/s)",
            file=sys.stderr,
        )
    return 0


def _cmd_summary(args, _argv, _beam) -> int:
    import duckdb

    from voc.pipelines.ops.summary import department_summary, format_table, table_counts
    from voc.transforms.error_text import first_line

    if not Path(args.duckdb).is_file():
        raise UsageError(f"voc summary: --duckdb {args.duckdb}: no such file")
    try:
        con = duckdb.connect(args.duckdb, read_only=True)
    except duckdb.Error as error:
        raise UsageError(f"voc summary: --duckdb {args.duckdb}: {first_line(error)}") from None
    with con:
        try:
            print(format_table(*department_summary(con)))
            counts = table_counts(con)
        except duckdb.CatalogException as error:
            raise UsageError(
                f"voc summary: {args.duckdb} has no voc tables ({first_line(error)})"
            ) from None
    print()
    for table, count in counts.items():
        print(f"{table:<14} {count:>10,}")
    return 0


def _cmd_eval(args, _argv, _beam) -> int:
    from voc.pipelines.dev.evaluate import LABELLED_SUFFIX, evaluate_sentiment, format_report

    data = Path(args.data)
    if not data.is_dir() or not any(data.glob(f"*{LABELLED_SUFFIX}")):
        raise UsageError(f"voc eval: --data {args.data}: no *{LABELLED_SUFFIX} files there")
    print(format_report(evaluate_sentiment(data)))
    return 0


def _cmd_dlq(args, _argv, _beam) -> int:
    from voc.pipelines.ops import dead_letters
    from voc.pipelines.ops.summary import format_table

    if args.action == "purge":
        try:
            age = dead_letters.parse_duration(args.older_than)
        except ValueError as error:
            raise UsageError(f"voc dlq purge: --older-than: {error}") from None
    con = _open_for_dlq(args.duckdb)
    with con:
        if args.action == "list":
            if args.reason:
                print(
                    format_table(
                        *dead_letters.entries(con, args.reason, args.stage, args.all, args.limit)
                    )
                )
            else:
                columns, rows = dead_letters.summarize(con, args.all)
                print(format_table(columns, rows) if rows else "no dead letters")
            return 0
        if args.action == "purge":
            count = dead_letters.purge(con, age, args.reason, dry_run=args.dry_run)
            verb = "would delete" if args.dry_run else "deleted"
            print(f"voc dlq purge: {verb} {count:,} dead letters older than {args.older_than}")
            return 0
        return _replay(con, args)


def _replay(con, args) -> int:
    from voc.pipelines.ops import dead_letters
    from voc.transforms.error_text import first_line

    if args.dry_run:
        plan = dead_letters.plan_replay(
            con, args.reason, args.stage, args.include_resolved, args.topic
        )
    else:
        if not os.environ.get("PUBSUB_EMULATOR_HOST"):
            print(
                f"voc dlq replay: PUBSUB_EMULATOR_HOST is not set; publishing to real Pub/Sub "
                f"project {args.project}",
                file=sys.stderr,
            )
        from voc.pipelines.ops.publish import publish_messages

        try:
            plan = dead_letters.replay(
                con,
                lambda messages: publish_messages(messages, args.project),
                args.reason,
                args.stage,
                args.include_resolved,
                args.topic,
            )
        except Exception as error:  # auth, missing topic, unreachable service
            raise UsageError(
                f"voc dlq replay: could not publish to project {args.project}: "
                f"{first_line(error)}; nothing was marked replayed"
            ) from None
    for dead_letter_id, why in plan.skipped.items():
        print(f"voc dlq replay: skipped {dead_letter_id}: {why}", file=sys.stderr)
    topics = sorted({message.topic for message in plan.messages})
    verb = "would replay" if args.dry_run else "replayed"
    print(
        f"voc dlq replay: {verb} {len(plan.messages):,} dead letters with reason "
        f"{args.reason!r}" + (f" to {', '.join(topics)}" if topics else "")
    )
    return 1 if plan.skipped else 0


def _cmd_schema(args, _argv, _beam) -> int:
    from voc.schemas.compatibility import check_candidate, check_contract_family

    for path in args.files:
        if not Path(path).is_file():
            raise UsageError(f"voc schema check: {path}: no such file")
    problems = (
        [p for path in args.files for p in check_candidate(path)]
        if args.files
        else check_contract_family()
    )
    for problem in problems:
        print(problem)
    checked = ", ".join(Path(f).name for f in args.files) or "the shipped contracts"
    if problems:
        print(f"voc schema check: {len(problems)} problem(s) in {checked}", file=sys.stderr)
        return 1
    print(f"voc schema check: {checked}: compatible")
    return 0


def _open_for_dlq(path: str):
    import duckdb

    from voc.transforms.error_text import first_line
    from voc.transforms.sinks.duckdb_store import apply_migrations
    from voc.transforms.sinks.retry_sink import transient_reason

    if not Path(path).is_file():
        raise UsageError(f"voc dlq: --duckdb {path}: no such file")
    try:
        con = duckdb.connect(path)
        apply_migrations(con)
    except duckdb.Error as error:
        why = transient_reason(error) or first_line(error)
        hint = "; stop the job first (SIGTERM drains it)" if "locked" in why else ""
        raise UsageError(f"voc dlq: --duckdb {path}: {why}{hint}") from None
    return con


def _require_existing_parent(path: str, flag: str) -> None:
    parent = Path(path).parent
    if not parent.is_dir():
        raise UsageError(f"voc: {flag} {path}: directory {parent} does not exist")


COMMANDS = {
    "demo": _cmd_demo,
    "emulator": _cmd_emulator,
    "generate": _cmd_generate,
    "run": _cmd_run,
    "summary": _cmd_summary,
    "eval": _cmd_eval,
    "dlq": _cmd_dlq,
    "schema": _cmd_schema,
}


if __name__ == "__main__":
    sys.exit(main())
