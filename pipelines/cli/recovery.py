"""``voc recovery`` and ``voc fix``: the owners' side of the closed loop.

    voc recovery list [--department D] [--overdue] [--status S]   the follow-up queue
    voc recovery contact|resolve|reopen ID --note TEXT [--by NAME] work an item
    voc recovery history ID                                       every change of an item
    voc fix record --department D --cause C --date YYYY-MM-DD --note TEXT
    voc fix acknowledge --department D --cause C --note TEXT
    voc fix list [--department D]                                 actions, and each fix's impact

Reads go through the running job when there is one, else to the file read-only
(:mod:`voc.pipelines.ops.owner_connection`); changes go through the job's inbox,
else to the file (:mod:`voc.pipelines.ops.owner_changes`). So all of these work
while ``voc run`` holds the file. With ``VOC_STORE='ducklake:...'`` both go to the
lake: reads through its deduplicating views, each change as one lake transaction
(:mod:`voc.pipelines.ops.lake_changes`). A change the rules refuse (an unknown item, a
date in the future) is one line on stderr and exit 2, like a bad flag.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime

from voc.pipelines.cli.common import (
    DEFAULT_DUCKDB,
    EXIT_FAILED,
    UsageError,
    add_actions,
    positive_int,
)

STATUSES = ("open", "contacted", "resolved", "expired")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What `voc recovery contact|resolve|reopen` records.
_STATUS_OF = {"contact": "contacted", "resolve": "resolved", "reopen": "reopened"}
LIST_COLUMNS = (
    "item_id, status, overdue, due_at::timestamp(0) as due_at_utc, department, cause_id, "
    "reason, channel, nps, csat, last_changed_by, last_note"
)


def add_parsers(commands) -> dict:
    recovery = add_actions(
        commands,
        "recovery",
        help="the follow-up queue of detractors: list, contact, resolve, history",
        description="Follow-up items for detractor or strongly negative contacts, owned by "
        "the department of each contact's primary cause. Works while the job runs.",
    )
    listing = recovery.add_parser("list", help="the queue, overdue first")
    listing.add_argument("--department", help="only this department's items")
    listing.add_argument("--overdue", action="store_true", help="only open items past due")
    listing.add_argument("--status", choices=STATUSES, help="only items with this status")
    listing.add_argument(
        "--limit", type=positive_int, default=100, help="most items to print (default 100)"
    )
    actions = [listing]
    for action, about in (
        ("contact", "record a contact with the customer"),
        ("resolve", "record that the customer's problem is resolved"),
        ("reopen", "reopen a resolved item"),
    ):
        change = recovery.add_parser(action, help=about)
        change.add_argument("item_id", metavar="ID", help="recovery:<interaction_id>, or the id")
        _add_change_options(change)
        actions.append(change)
    history = recovery.add_parser("history", help="every change of one item, oldest first")
    history.add_argument("item_id", metavar="ID", help="recovery:<interaction_id>, or the id")
    actions.append(history)

    fix = add_actions(
        commands,
        "fix",
        help="record fixes shipped and causes acknowledged; list them with their impact",
        description="What owners did about a cause. open_issues shows the status; "
        "fix_impact compares the cause before and after a fix. Works while the job runs.",
    )
    record = fix.add_parser("record", help="a fix shipped for a cause, effective on a date")
    acknowledge = fix.add_parser("acknowledge", help="a cause the department is acting on")
    for parser in (record, acknowledge):
        parser.add_argument("--department", required=True, help="the cause's department")
        parser.add_argument("--cause", required=True, help="the cause id (as in open_issues)")
    record.add_argument(
        "--date", required=True, metavar="YYYY-MM-DD", help="when the fix took effect (UTC)"
    )
    _add_change_options(record)
    _add_change_options(acknowledge)
    fixes = fix.add_parser("list", help="recorded actions, newest first, with each fix's impact")
    fixes.add_argument("--department", help="only this department's actions")
    actions += [record, acknowledge, fixes]

    for action in actions:
        action.add_argument(
            "--duckdb", default=DEFAULT_DUCKDB, help=f"DuckDB file (default: {DEFAULT_DUCKDB})"
        )
    return {"recovery": recovery_command, "fix": fix_command}


def _add_change_options(parser) -> None:
    parser.add_argument("--note", required=True, help="what was done, or why (PII is redacted)")
    parser.add_argument("--by", default=None, help="who did it (default: your OS user name)")
    parser.add_argument(
        "--wait",
        type=positive_int,
        default=30,
        metavar="SECONDS",
        help="how long to wait for a running job to apply the change (default 30)",
    )


# -- commands ------------------------------------------------------------------------


def recovery_command(args, _argv, _beam) -> int:
    command = f"voc recovery {args.action}"
    if args.action == "list":
        return _list_items(command, args)
    if args.action == "history":
        return _history(command, args)
    from voc.pipelines.ops.owner_changes import RecoveryChange

    change = RecoveryChange(
        item_id=args.item_id,
        status=_STATUS_OF[args.action],
        note=args.note,
        by=_who(args),
    )
    return _submit(command, args, change)


def fix_command(args, _argv, _beam) -> int:
    command = f"voc fix {args.action}"
    if args.action == "list":
        return _list_fixes(command, args)
    from voc.pipelines.ops.owner_changes import ACKNOWLEDGED, FIX_SHIPPED, CauseAction

    if args.action == "record":
        effective = _parse_date(command, args.date)
        kind = FIX_SHIPPED
    else:
        # The UTC day, as every time in the history is UTC.
        effective = datetime.now(UTC).date()
        kind = ACKNOWLEDGED
    change = CauseAction(
        department=args.department,
        cause_id=args.cause,
        kind=kind,
        effective_date=effective,
        note=args.note,
        by=_who(args),
    )
    return _submit(command, args, change)


def _parse_date(command: str, text: str) -> date:
    try:
        if not _DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{command}: --date {text!r}: expected a date like 2026-01-31") from None


def _who(args) -> str:
    from voc.pipelines.ops.owner_changes import default_user

    return args.by if args.by is not None else default_user()


def _submit(command: str, args, change) -> int:
    from voc.pipelines.ops.owner_changes import ChangeQueued, OwnerChangeError, submit_change

    try:
        outcome = submit_change(args.duckdb, change, timeout=args.wait)
    except ChangeQueued as error:
        print(f"{command}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except OwnerChangeError as error:
        raise UsageError(f"{command}: {error}") from None
    if not outcome.applied:
        raise UsageError(f"{command}: {outcome.message}")
    again = " (already applied earlier; nothing changed)" if outcome.repeated else ""
    print(f"{command}: {outcome.message}{again} [{outcome.via}]")
    return 0


def _read(command: str, database: str, sql: str, params: list):
    """One read-only query, through the running job or the file; one line on failure."""
    from voc.pipelines.ops.owner_connection import OwnerConnectionError, open_for_owner

    try:
        with open_for_owner(database) as owner:
            return owner.query(sql, params)
    except OwnerConnectionError as error:
        text = str(error)
        if "does not exist" in text and ("_of" in text or "recovery" in text or "cause" in text):
            text += " (the file predates the owner tables; a voc run on it migrates it)"
        raise UsageError(f"{command}: {text}") from None


def _check_department(command: str, database: str, department: str | None) -> None:
    """An unknown department is a mistyped flag (one line, exit 2), not an empty list."""
    if department is None:
        return
    known = _read(
        command,
        database,
        "select exists (select 1 from feedback_tags where department = ?) "
        "or exists (select 1 from recovery_items where department = ?) "
        "or exists (select 1 from cause_actions where department = ?)",
        [department] * 3,
    )
    if not known.rows[0][0]:
        raise UsageError(f"{command}: --department {department}: no such department in {database}")


def _list_items(command: str, args) -> int:
    from voc.pipelines.ops.summary import format_table

    _check_department(command, args.duckdb, args.department)

    clauses, params = [], [args.department]
    if args.overdue:
        clauses.append("overdue")
    if args.status:
        clauses.append("status = ?")
        params.append(args.status)
    where = f" where {' and '.join(clauses)}" if clauses else ""
    result = _read(
        command,
        args.duckdb,
        f"select {LIST_COLUMNS} from recovery_queue_of(?){where} limit {int(args.limit) + 1}",
        params,
    )
    rows = result.rows[: args.limit]
    if not rows:
        print("no recovery items" + (" match" if clauses or args.department else ""))
        return 0
    print(format_table(result.columns, rows))
    if len(result.rows) > args.limit:
        print(f"(first {args.limit:,}; --limit shows more)")
    return 0


def _history(command: str, args) -> int:
    from voc.pipelines.ops.owner_changes import recovery_item_id
    from voc.pipelines.ops.summary import format_table

    item_id = recovery_item_id(args.item_id)
    item = _read(
        command,
        args.duckdb,
        "select item_id, department, cause_id, reason, channel, survey_at::timestamp(0), "
        "due_at::timestamp(0) from recovery_items where item_id = ?",
        [item_id],
    )
    if not item.rows:
        raise UsageError(f"{command}: no recovery item {item_id} (voc recovery list shows them)")
    _, department, cause_id, reason, channel, survey_at, due_at = item.rows[0]
    print(
        f"{item_id}: {department} / {cause_id}, {reason}, {channel}; survey {survey_at} UTC, "
        f"due {due_at} UTC"
    )
    changes = _read(
        command,
        args.duckdb,
        "select changed_at::timestamp(3) as changed_at_utc, status, changed_by, note "
        "from recovery_changes where item_id = ? order by changed_at",
        [item_id],
    )
    print(format_table(changes.columns, changes.rows) if changes.rows else "no changes yet: open")
    return 0


def _list_fixes(command: str, args) -> int:
    from voc.pipelines.ops.summary import format_table

    _check_department(command, args.duckdb, args.department)

    result = _read(
        command,
        args.duckdb,
        "select a.effective_date, a.department, a.cause_id, a.kind, a.recorded_by, a.note, "
        "i.verdict as impact from cause_actions as a "
        "left join fix_impact_of(?) as i on a.action_id = i.action_id "
        "where ? is null or a.department = ? "
        "order by a.effective_date desc, a.recorded_at desc",
        [args.department] * 3,
    )
    if not result.rows:
        print("no fixes or acknowledgements recorded")
        return 0
    print(format_table(result.columns, result.rows))
    return 0
