"""Commands for the people who read the tables: ``voc summary``.

Read through :func:`voc.pipelines.ops.owner_connection.open_for_owner`: the running
job's read-only SQL server when a job writes the file, else the file read-only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from voc.pipelines.cli.common import DEFAULT_DUCKDB, UsageError


def add_parsers(commands) -> dict:
    summary = commands.add_parser(
        "summary",
        help="print the per-department summary",
        description="Per-department summary, causes with their evidence, and sentiment by "
        "cause. Works while the job runs (through its read-only SQL server).",
    )
    summary.add_argument(
        "--duckdb", default=DEFAULT_DUCKDB, help=f"DuckDB file to read (default: {DEFAULT_DUCKDB})"
    )
    summary.add_argument("--department", metavar="D", help="only causes this department owns")
    summary.add_argument(
        "--since",
        metavar="AGE",
        help="only feedback whose event time is within this age, e.g. 7d, 12h, 2w",
    )
    return {"summary": summary_command}


def summary_command(args, _argv, _beam) -> int:
    from voc import sql
    from voc.pipelines.ops.dead_letters import parse_duration
    from voc.pipelines.ops.owner_connection import OwnerConnectionError, open_for_owner
    from voc.pipelines.ops.summary import format_table, scoped, table_counts

    since = None
    if args.since is not None:
        try:
            since = datetime.now(UTC) - parse_duration(args.since)
        except ValueError as error:
            raise UsageError(f"voc summary: --since: {error}") from None
    try:
        owner = open_for_owner(args.duckdb)
    except OwnerConnectionError as error:
        raise UsageError(f"voc summary: {error}") from None
    with owner:
        try:
            reports = [
                owner.query(*scoped(sql.query(name), args.department, since))
                for name in ("department_summary", "cause_evidence", "cause_sentiment")
            ]
            counts = table_counts(owner)
        except OwnerConnectionError as error:
            raise UsageError(f"voc summary: {_why(args.duckdb, str(error))}") from None
    scope = [f"department {args.department}"] if args.department else []
    scope += [f"since {since:%Y-%m-%d %H:%M} UTC ({args.since})"] if since else []
    if scope:
        print(f"Feedback of {', '.join(scope)}:\n")
    if args.department and not reports[0].rows:
        print(f"no feedback tagged for department {args.department!r} in this scope\n")
    for index, report in enumerate(reports):
        if index:
            print()
        print(format_table(report.columns, report.rows))
    print()
    for table, count in counts.items():
        print(f"{table:<14} {count:>10,}")
    return 0


def _why(database: str, error: str) -> str:
    if "does not exist" in error or "Catalog Error" in error:
        return f"{database} has no voc tables ({error})"
    if "Binder Error" in error:
        return (
            f"{database} predates this release's tables; a 'voc run' on it migrates them ({error})"
        )
    return error
