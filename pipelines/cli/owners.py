"""Commands for the people who read the tables: ``voc summary``."""

from __future__ import annotations

from pathlib import Path

from voc.pipelines.cli.common import DEFAULT_DUCKDB, UsageError


def add_parsers(commands) -> dict:
    summary = commands.add_parser("summary", help="print the per-department summary")
    summary.add_argument(
        "--duckdb", default=DEFAULT_DUCKDB, help=f"DuckDB file to read (default: {DEFAULT_DUCKDB})"
    )
    return {"summary": summary_command}


def summary_command(args, _argv, _beam) -> int:
    import duckdb

    from voc.pipelines.ops.summary import (
        cause_evidence,
        cause_sentiment,
        department_summary,
        format_table,
        table_counts,
    )
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
            print()
            print(format_table(*cause_evidence(con)))
            print()
            print(format_table(*cause_sentiment(con)))
            counts = table_counts(con)
        except duckdb.CatalogException as error:
            raise UsageError(
                f"voc summary: {args.duckdb} has no voc tables ({first_line(error)})"
            ) from None
        except duckdb.BinderException as error:
            raise UsageError(
                f"voc summary: {args.duckdb} predates this release's tables; a 'voc run'"
                f" on it migrates them ({first_line(error)})"
            ) from None
    print()
    for table, count in counts.items():
        print(f"{table:<14} {count:>10,}")
    return 0
