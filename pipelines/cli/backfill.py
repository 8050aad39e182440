"""``voc backfill``: load saved messages (history) with the streaming job's steps.

    voc backfill --input 'history/*.jsonl.gz' [--since DATE] [--until DATE]
                 [--duckdb voc.duckdb] [--workers 2] [--taxonomy FILE | --taxonomy-pack NAME]

The job itself is :mod:`voc.pipelines.backfill`; this module checks the flags and
prints the summary. Every check that can fail does so before a worker starts.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from voc.pipelines.arguments import DEFAULT_DUCKDB, whole_number
from voc.pipelines.cli.common import EXIT_FAILED, UsageError

MAX_WORKERS = 64
_DATE_HELP = "a date (2026-01-31, midnight UTC) or an RFC 3339 time with its offset"


def add_parsers(commands) -> dict:
    backfill = commands.add_parser(
        "backfill",
        help="load saved messages (JSONL, .gz) through parse, tagging and the sink",
        description="Load history: every line of the input files (what `voc generate --out` "
        "writes: a Pub/Sub message with its attributes) goes through the streaming job's "
        "parse, validation, PII redaction and tagging, on worker processes; the rows are "
        "loaded into --duckdb (a second run over the same input adds nothing) and the "
        "derived tables are rebuilt from the facts. Lines that are not messages become "
        "dead letters naming file:line. --since/--until select by event time.",
    )
    backfill.add_argument(
        "--input",
        action="append",
        required=True,
        metavar="GLOB",
        help="input files, a glob such as 'history/*.jsonl.gz' (quote it); .gz files are "
        "decompressed; may be given more than once",
    )
    backfill.add_argument(
        "--since",
        type=event_time_bound,
        help=f"only events at or after this event time: {_DATE_HELP}",
    )
    backfill.add_argument(
        "--until",
        type=event_time_bound,
        help=f"only events before this event time: {_DATE_HELP}",
    )
    backfill.add_argument(
        "--duckdb", default=DEFAULT_DUCKDB, help=f"DuckDB file to load (default {DEFAULT_DUCKDB})"
    )
    backfill.add_argument(
        "--workers",
        type=whole_number(1, MAX_WORKERS),
        default=2,
        help=f"worker processes, 1-{MAX_WORKERS} (default 2)",
    )
    backfill.add_argument("--taxonomy", help="root-cause taxonomy YAML (default: the generic pack)")
    backfill.add_argument("--taxonomy-pack", metavar="NAME", help="a shipped pack instead")
    backfill.add_argument("--model", help="a model file from voc learn (default: rules only)")
    backfill.add_argument(
        "--pseudonym-key-file",
        help="key for pseudonymising personal identifiers (default .voc/pseudonym.key; "
        "VOC_PSEUDONYM_KEY overrides): the streaming job's, so both store the same pseudonyms",
    )
    backfill.add_argument(
        "--staging-dir",
        help="where workers stage rows before the load (default: DUCKDB.backfill/run-...; "
        "removed after a successful load)",
    )
    backfill.add_argument(
        "--no-derived",
        action="store_true",
        help="load the facts only; `voc reconcile` can rebuild the derived tables later",
    )
    return {"backfill": backfill_command}


def event_time_bound(text: str) -> datetime:
    """argparse type: a date (midnight UTC) or an RFC 3339 time with an offset."""
    from voc.transforms.parse_event import parse_timestamp

    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        return parse_timestamp(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {_DATE_HELP}, got {text!r}") from None


def backfill_command(args, _argv, _beam_args) -> int:
    from voc.pipelines.backfill import BackfillFailed, run_backfill

    config = _config(args)
    try:
        report = run_backfill(config)
    except BackfillFailed as error:
        print(f"voc backfill: {error}", file=sys.stderr)
        return EXIT_FAILED
    for line in report.summary().splitlines():
        print(f"voc backfill: {line}", file=sys.stderr)
    return 0


def _config(args):
    """Every flag checked, or one UsageError line naming the problem."""
    from voc.pipelines.backfill import BackfillConfig, staging_dir_for
    from voc.pipelines.options import (
        check_model,
        check_taxonomy,
        owned_departments,
        taxonomy_reference,
    )
    from voc.transforms.pseudonymize_ids import PseudonymKeyError, load_key
    from voc.transforms.sources.read_files import TimeRange, match_inputs

    if args.since and args.until and args.since >= args.until:
        raise UsageError("voc backfill: --since must be before --until")
    try:
        files = match_inputs(args.input)
    except FileNotFoundError as error:
        raise UsageError(f"voc backfill: {error}") from None
    taxonomy = taxonomy_reference(args.taxonomy, args.taxonomy_pack)
    check_taxonomy(taxonomy)
    check_model(args.model)
    try:
        key = load_key(args.pseudonym_key_file)
    except PseudonymKeyError as error:
        raise UsageError(f"voc backfill: --pseudonym-key-file: {error}") from None
    _check_store(args.duckdb)
    staging = args.staging_dir or staging_dir_for(args.duckdb)
    try:
        Path(staging).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"voc backfill: --staging-dir {staging}: {error.strerror}") from None
    return BackfillConfig(
        files=tuple(files),
        duckdb=args.duckdb,
        staging_dir=staging,
        workers=args.workers,
        time_range=TimeRange(args.since, args.until),
        taxonomy=taxonomy,
        model=args.model,
        pseudonym_key=key,
        departments=owned_departments(None, taxonomy),
        derived=not args.no_derived,
    )


def _check_store(path: str) -> None:
    """The file must open read-write now: a running job holds it for its whole life."""
    import duckdb

    from voc.transforms.error_text import first_line
    from voc.transforms.sinks.duckdb_store import DuckDBStore

    store = DuckDBStore(path)
    try:
        store.open()
    except (duckdb.Error, OSError) as error:
        raise UsageError(f"voc backfill: --duckdb {path}: {first_line(error, 300)}") from None
    finally:
        store.close()
