"""``voc dlq list|replay|purge``: the dead-letter table, for the people who fix inputs.

They work while the job runs: reads go through the job (or the file, read-only), and
the purge and the replay marks are owner changes the job applies
(:mod:`voc.pipelines.ops.owner_changes`). With ``VOC_STORE='ducklake:...'`` they read
and change the lake directly (:mod:`voc.pipelines.ops.lake_changes`).
"""

from __future__ import annotations

import sys

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
        "bytes. Works while the job runs (changes go through its inbox).",
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
    if args.action == "list":
        return _list(args)
    if args.action == "purge":
        return _purge(args, age)
    return _replay(args, topic)


def _purge(args, age) -> int:
    """Through the running job's inbox when there is one, else on the file or the lake
    (owner_changes)."""
    from voc.pipelines.ops.owner_changes import DeadLetterPurge, default_user

    change = DeadLetterPurge(age, args.reason, args.dry_run, by=default_user())
    outcome = _submit("voc dlq purge", args.duckdb, change)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"voc dlq purge: {verb} {outcome.count:,} dead letters older than {args.older_than}")
    return 0


def _submit(command: str, database: str, change):
    """Apply an owner change; a refusal or an undeliverable change is one line, exit 2."""
    from voc.pipelines.ops.owner_changes import OwnerChangeError, submit_change

    try:
        outcome = submit_change(database, change)
    except OwnerChangeError as error:
        raise UsageError(f"{command}: {error}") from None
    if not outcome.applied:
        raise UsageError(f"{command}: {outcome.message}")
    return outcome


def _list(args) -> int:
    """Read-only, through the running job when there is one (see owner_connection)."""
    from voc.pipelines.ops import dead_letters
    from voc.pipelines.ops.owner_connection import OwnerConnectionError, open_for_owner
    from voc.pipelines.ops.summary import format_table

    try:
        with open_for_owner(args.duckdb) as owner:
            if args.reason:
                print(
                    format_table(
                        *dead_letters.entries(owner, args.reason, args.stage, args.all, args.limit)
                    )
                )
            else:
                columns, rows = dead_letters.summarize(owner, args.all)
                print(format_table(columns, rows) if rows else "no dead letters")
    except OwnerConnectionError as error:
        raise UsageError(f"voc dlq list: {error}") from None
    return 0


def _replay(args, topic: str | None) -> int:
    """Replay (or plan, with --dry-run) to ``topic``, a short name, or the event types'.

    The plan is read through the running job or the file (read-only); the marks go
    as one owner change after publishing, so replay works while the job runs."""
    from voc.pipelines.ops import dead_letters
    from voc.pipelines.ops.owner_changes import DeadLetterReplayMark, default_user
    from voc.pipelines.ops.owner_connection import OwnerConnectionError, open_for_owner
    from voc.transforms.error_text import first_line

    try:
        # Closed before marking: this process may then open the file read-write.
        with open_for_owner(args.duckdb) as owner:
            plan = dead_letters.plan_replay(
                owner, args.reason, args.stage, args.include_resolved, topic
            )
    except OwnerConnectionError as error:
        raise UsageError(f"voc dlq replay: {error}") from None
    if not args.dry_run and plan.messages:
        warn_without_emulator("voc dlq replay", args.project)
        from voc.pipelines.ops.publish import publish_messages

        try:
            publish_messages(plan.messages, args.project)
        except Exception as error:  # auth, missing topic, unreachable service
            raise UsageError(
                f"voc dlq replay: could not publish to project {args.project}: "
                f"{first_line(error)}; nothing was marked replayed"
            ) from None
        ids = tuple(message.dead_letter_id for message in plan.messages)
        _submit("voc dlq replay", args.duckdb, DeadLetterReplayMark(ids, by=default_user()))
    for dead_letter_id, why in plan.skipped.items():
        print(f"voc dlq replay: skipped {dead_letter_id}: {why}", file=sys.stderr)
    topics = sorted({message.topic for message in plan.messages})
    verb = "would replay" if args.dry_run else "replayed"
    print(
        f"voc dlq replay: {verb} {len(plan.messages):,} dead letters with reason "
        f"{args.reason!r}" + (f" to {', '.join(topics)}" if topics else "")
    )
    return 1 if plan.skipped else 0
