"""``voc dlq list|replay|purge``: the dead-letter table, for the people who fix inputs.

Run these while the job is stopped: DuckDB allows one writing process per file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from voc.pipelines.arguments import MAX_LIST_ROWS, pubsub_short_name
from voc.pipelines.cli.common import (
    DEFAULT_DUCKDB,
    UsageError,
    add_actions,
    add_project_option,
    warn_without_emulator,
    whole_number,
)

# parse and tag failures, and the sink's own (an event_id reused with other content).
STAGES = ("parse", "tag", "store")


def add_parsers(commands) -> dict:
    actions = add_actions(
        commands,
        "dlq",
        help="list, replay or purge dead letters (restricted: raw payloads)",
        description="Dead letters: messages the job could not store, kept with their raw "
        "bytes. Run while the job is stopped (DuckDB allows one writer per file).",
    )
    listing = actions.add_parser("list", help="dead letters grouped by reason")
    listing.add_argument("--reason", help="list the rows behind this reason")
    listing.add_argument("--stage", choices=STAGES, help="only dead letters of this stage")
    listing.add_argument("--all", action="store_true", help="include resolved dead letters")
    listing.add_argument(
        "--limit",
        type=whole_number(1, MAX_LIST_ROWS),
        default=50,
        help=f"most rows to list with --reason, 1-{MAX_LIST_ROWS:,} (default 50)",
    )
    replay = actions.add_parser("replay", help="re-publish dead letters after a fix")
    replay.add_argument("--reason", required=True, help="replay the dead letters of this reason")
    replay.add_argument("--stage", choices=STAGES, help="only dead letters of this stage")
    replay.add_argument(
        "--include-resolved", action="store_true", help="also those already replayed successfully"
    )
    replay.add_argument(
        "--topic",
        help="publish to this topic instead of the event type's: a short name, or "
        "projects/P/topics/T with P the --project",
    )
    add_project_option(replay)
    replay.add_argument("--dry-run", action="store_true", help="say what would be replayed")
    purge = actions.add_parser("purge", help="delete old dead letters (retention)")
    purge.add_argument(
        "--older-than",
        required=True,
        metavar="AGE",
        help="e.g. 30d, 12h, 2w, 90m; at most 100 years",
    )
    purge.add_argument("--reason", help="only this reason")
    purge.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    for action in (listing, replay, purge):
        action.add_argument(
            "--duckdb", default=DEFAULT_DUCKDB, help=f"DuckDB file (default: {DEFAULT_DUCKDB})"
        )
    return {"dlq": dlq_command}


def dlq_command(args, _argv, _beam) -> int:
    from voc.pipelines.ops import dead_letters
    from voc.pipelines.ops.summary import format_table

    if args.action == "purge":
        try:
            age = dead_letters.parse_duration(args.older_than)
        except ValueError as error:
            raise UsageError(f"voc dlq purge: --older-than: {error}") from None
    topic = None
    if args.action == "replay" and args.topic is not None:
        try:
            topic = pubsub_short_name(args.topic, "topics", args.project)
        except ValueError as error:
            raise UsageError(f"voc dlq replay: --topic {args.topic}: {error}") from None
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
        return _replay(con, args, topic)


def _replay(con, args, topic: str | None) -> int:
    """Replay (or plan, with --dry-run) to ``topic``, a short name, or the event types'."""
    from voc.pipelines.ops import dead_letters
    from voc.transforms.error_text import first_line

    if args.dry_run:
        plan = dead_letters.plan_replay(con, args.reason, args.stage, args.include_resolved, topic)
    else:
        warn_without_emulator("voc dlq replay", args.project)
        from voc.pipelines.ops.publish import publish_messages

        try:
            plan = dead_letters.replay(
                con,
                lambda messages: publish_messages(messages, args.project),
                args.reason,
                args.stage,
                args.include_resolved,
                topic,
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


def _open_for_dlq(path: str):
    import duckdb

    from voc.transforms.error_text import first_line
    from voc.transforms.sinks.duckdb_schema import prepare
    from voc.transforms.sinks.retry_sink import transient_reason

    if not Path(path).is_file():
        raise UsageError(f"voc dlq: --duckdb {path}: no such file")
    try:
        con = duckdb.connect(path)
        prepare(con)
    except duckdb.Error as error:
        why = transient_reason(error) or first_line(error)
        hint = "; stop the job first (SIGTERM drains it)" if "locked" in why else ""
        raise UsageError(f"voc dlq: --duckdb {path}: {why}{hint}") from None
    return con
