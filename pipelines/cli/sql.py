"""``voc sql``: SQL on the database for owners, while the job runs or not.

    voc sql "select count(*) from surveys"     one query
    voc sql --file questions.sql --csv         a script, one result after another
    voc sql                                    a prompt: statements end with ';'

Connects the way every owner command does (:mod:`voc.pipelines.ops.owner_connection`):
through the running job over Quack when there is one, else to the file read-only.
Nothing it runs can change the database. Results print as a readable table, or
``--csv``, or ``--json`` (one array of objects per statement, times in ISO 8601).
A refused or failing statement is one line on stderr and exit code 2.
"""

from __future__ import annotations

import base64
import csv
import json
import math
import sys
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from voc.pipelines.cli.common import DEFAULT_DUCKDB, EXIT_USAGE, UsageError

PROMPT, CONTINUATION = "voc> ", "  -> "
QUIT = {".quit", ".exit", "\\q", "quit", "exit"}


def add_parsers(commands) -> dict:
    sql = commands.add_parser(
        "sql",
        help="query the database read-only, through the running job or the file",
        description="Run SQL on the voc database. While 'voc run' writes it, queries go to "
        "the job over Quack (read-only); otherwise the file is opened read-only. With no "
        "QUERY and no --file, statements ending in ';' are read from standard input.",
    )
    sql.add_argument("query", nargs="?", metavar="QUERY", help="statements to run")
    sql.add_argument("--file", "-f", metavar="FILE", help="run the statements in FILE")
    sql.add_argument(
        "--duckdb", default=DEFAULT_DUCKDB, help=f"the database (default: {DEFAULT_DUCKDB})"
    )
    output = sql.add_mutually_exclusive_group()
    output.add_argument("--csv", action="store_true", help="CSV with a header row")
    output.add_argument(
        "--json", action="store_true", help="one JSON array of objects per statement"
    )
    return {"sql": sql_command}


def sql_command(args, _argv, _beam) -> int:
    from voc.pipelines.ops.owner_connection import OwnerConnectionError, open_for_owner
    from voc.pipelines.ops.sql_text import script_statements

    if args.query is not None and args.file is not None:
        raise UsageError("voc sql: give a QUERY or --file, not both")
    text = args.query
    if args.file is not None:
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise UsageError(f"voc sql: --file {args.file}: {reason}") from None
    statements = script_statements(text) if text is not None else None
    if statements == []:
        raise UsageError("voc sql: no SQL statement given")
    output = "csv" if args.csv else "json" if args.json else "table"
    try:
        owner = open_for_owner(args.duckdb)
    except OwnerConnectionError as error:
        raise UsageError(f"voc sql: {error}") from None
    with owner:
        if statements is None:
            return _interactive(owner, output, sys.stdin, sys.stdout)
        for statement in statements:
            try:
                result = owner.query(statement)
            except OwnerConnectionError as error:
                raise UsageError(f"voc sql: {error}") from None
            write_result(result.columns, result.rows, output, sys.stdout)
    return 0


def _interactive(owner, output: str, stdin: TextIO, out: TextIO) -> int:
    """Read statements ending in ';' until end of input (or .quit); run each as it ends.

    A failing statement is reported and the session goes on; the exit code says
    whether any failed. Prompts go to stderr, and only on a terminal.
    """
    from voc.pipelines.ops.owner_connection import OwnerConnectionError
    from voc.pipelines.ops.sql_text import script_statements, split_statements

    tty = stdin.isatty()
    if tty:
        print(
            f"voc sql: {owner.source}; end each statement with ';', leave with .quit or Ctrl-D",
            file=sys.stderr,
        )
    failed, pending = False, ""
    while True:
        line = _read_line(stdin, CONTINUATION if pending.strip() else PROMPT, tty)
        if line is None:
            statements, pending = script_statements(pending), ""
        elif not pending.strip() and line.strip() in QUIT:
            break
        else:
            statements, pending = split_statements(pending + line)
        for statement in statements:
            try:
                result = owner.query(statement)
            except OwnerConnectionError as error:
                print(f"voc sql: {error}", file=sys.stderr, flush=True)
                failed = True
                continue
            write_result(result.columns, result.rows, output, out)
            out.flush()
        if line is None:
            break
    return EXIT_USAGE if failed else 0


def _read_line(stdin: TextIO, prompt: str, tty: bool) -> str | None:
    if tty:
        try:
            return input(prompt) + "\n"
        except EOFError:
            print(file=sys.stderr)
            return None
    line = stdin.readline()
    return line or None


def write_result(columns: list[str], rows: list[tuple], output: str, out: TextIO) -> None:
    """One statement's result in the chosen output: table, csv or json."""
    if not columns:
        return
    if output == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_csv_cell(value) for value in row] for row in rows)
    elif output == "json":
        records = [dict(zip(columns, map(jsonable, row), strict=True)) for row in rows]
        print(json.dumps(records, ensure_ascii=False, allow_nan=False), file=out)
    else:
        from voc.pipelines.ops.summary import format_table

        print(format_table(columns, rows), file=out)
        print(f"({len(rows):,} row{'' if len(rows) == 1 else 's'})\n", file=out)


def jsonable(value: Any) -> Any:
    """A result value as JSON: times in ISO 8601, decimals as numbers, NaN as null,
    bytes in base64, lists and structs as arrays and objects."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return _iso_duration(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)  # UUID and the like


def _iso_duration(value: timedelta) -> str:
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    seconds = value.seconds + value.microseconds / 1_000_000
    return f"{sign}P{value.days}DT{seconds:g}S"


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(jsonable(value), ensure_ascii=False)
    return value
