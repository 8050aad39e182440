"""``voc lake maintain``: deduplicate, compact and expire a DuckLake written by many workers.

    voc lake maintain --catalog 'postgres:dbname=voc host=db' --data-path gs://b/lake \\
        [--older-than 7d]

The work is :mod:`voc.pipelines.ops.lake_maintenance`; this module parses and prints.
"""

from __future__ import annotations

import sys

from voc.pipelines.arguments import duration
from voc.pipelines.cli.common import EXIT_FAILED, UsageError, add_actions


def add_parsers(commands) -> dict:
    actions = add_actions(
        commands,
        "lake",
        help="maintain a DuckLake sink (dedupe, compaction, snapshot expiry)",
        description="Maintenance of the DuckLake that --sink ducklake writes; run it on a "
        "schedule (docs/ducklake.md).",
    )
    maintain = actions.add_parser(
        "maintain",
        help="remove duplicate keys, merge small files, expire old snapshots",
        description="Rewrite the keys that racing writers stored twice to the row owners "
        "see, write inlined rows to Parquet, merge small files, expire snapshots older "
        "than --older-than and delete the files only they used.",
    )
    maintain.add_argument(
        "--catalog",
        required=True,
        help="the lake's PostgreSQL catalog: 'postgres:dbname=... host=...'",
    )
    maintain.add_argument(
        "--data-path",
        dest="data_path",
        default=None,
        help="the lake's data path (default: the one stored in the catalog)",
    )
    maintain.add_argument(
        "--older-than",
        dest="older_than",
        type=duration,
        default="7d",
        metavar="DURATION",
        help="expire snapshots older than this (like 12h, 7d; default 7d): time travel "
        "reaches back this far",
    )
    return {"lake": lake_command}


def lake_command(args, _argv, _beam) -> int:
    import duckdb

    from voc.pipelines.ops.lake_maintenance import maintain
    from voc.transforms.error_text import first_line
    from voc.transforms.sinks.duckdb_extensions import ExtensionMissing
    from voc.transforms.sinks.ducklake_catalog import LakeSpecError, connect_lake, parse_catalog

    try:
        spec = parse_catalog(args.catalog, args.data_path)
    except LakeSpecError as error:
        raise UsageError(f"voc lake maintain: --catalog: {error}") from None
    try:  # a catalog that cannot be reached, or holds no lake, is the flag's fault
        connect_lake(spec, read_only=True).close()
    except (duckdb.Error, ExtensionMissing) as error:
        raise UsageError(
            f"voc lake maintain: --catalog {spec.describe()}: {first_line(error)}"
        ) from None
    try:
        report = maintain(spec, args.older_than)
    except duckdb.Error as error:
        print(f"voc lake maintain: {spec.describe()}: {first_line(error)}", file=sys.stderr)
        return EXIT_FAILED
    for line in report.lines():
        print(f"voc lake maintain: {line}")
    return 0
