"""``voc retag``: stored feedback under a new taxonomy or model, promoted when ready.

    voc retag --since 2026-11-01 [--until 2026-12-01] --taxonomy new.yaml --dry-run
    voc retag --since 2026-11-01 [--until ...] --taxonomy new.yaml [--model M]
    voc retag --list
    voc retag --promote VERSION

How versions work and what owners see when: docs/retag.md; the job itself:
:mod:`voc.pipelines.ops.retag`. Every problem with the flags, the files or the
version named is one line and exit code 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from voc.pipelines.cli.causes import add_taxonomy_options
from voc.pipelines.cli.common import DEFAULT_DUCKDB, UsageError, whole_number

COMMAND = "voc retag"


def add_parsers(commands) -> dict:
    retag = commands.add_parser(
        "retag",
        help="re-tag stored feedback under a new taxonomy/model; --dry-run, --list, --promote",
        description="Re-tag the stored (redacted) texts of an event-time range into a new "
        "tag version that owners do not see until it is promoted; --dry-run prints what "
        "would move per cause instead; --promote swaps a version in, in one transaction, "
        "and rebuilds the derived tables.",
    )
    mode = retag.add_mutually_exclusive_group(required=True)
    mode.add_argument("--since", metavar="DATE", help="first day (UTC) to re-tag, YYYY-MM-DD")
    mode.add_argument("--promote", metavar="VERSION", help="make VERSION what owners read")
    mode.add_argument("--list", action="store_true", help="list the file's tag versions")
    retag.add_argument("--until", metavar="DATE", help="re-tag events before DATE (default: all)")
    add_taxonomy_options(retag)
    retag.add_argument("--model", metavar="MODEL", help="blend in a learned model (voc learn)")
    retag.add_argument(
        "--duckdb", default=DEFAULT_DUCKDB, help=f"the job's DuckDB file (default {DEFAULT_DUCKDB})"
    )
    retag.add_argument(
        "--dry-run", action="store_true", help="print what would move per cause; write nothing"
    )
    retag.add_argument(
        "--examples",
        type=whole_number(low=0, high=100),
        default=3,
        metavar="N",
        help="example texts per cause and direction in --dry-run, 0-100 (default 3)",
    )
    retag.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    retag.add_argument(
        "--workers",
        type=whole_number(low=1, high=64),
        default=2,
        metavar="N",
        help="tagging processes, 1-64 (default 2)",
    )
    return {"retag": retag_command}


def retag_command(args, _argv, _beam) -> int:
    if not Path(args.duckdb).is_file():
        raise UsageError(f"{COMMAND}: --duckdb {args.duckdb}: no such file")
    if args.since is None:
        for flag, value in (
            ("--until", args.until),
            ("--taxonomy", args.taxonomy),
            ("--taxonomy-pack", args.taxonomy_pack),
            ("--model", args.model),
            ("--dry-run", args.dry_run or None),
        ):
            if value is not None:
                raise UsageError(f"{COMMAND}: {flag} goes with --since, not --promote or --list")
    from voc.pipelines.ops.retag import RetagError

    try:
        if args.list:
            return _list(args)
        if args.promote:
            return _promote(args)
        return _retag(args)
    except RetagError as error:
        raise UsageError(f"{COMMAND}: --duckdb {args.duckdb}: {_with_hint(str(error))}") from None


def _with_hint(problem: str) -> str:
    """DuckDB's lock error names a PID; say what it usually means."""
    if "Conflicting lock" in problem:
        return f"{problem} (a running job holds the file: stop it, re-tag, start it again)"
    return problem


def _range(args):
    from voc.pipelines.ops.retag_versions import TagRange, parse_when

    try:
        since = parse_when(args.since, "--since")
        until = parse_when(args.until, "--until") if args.until else None
        return TagRange(since, until)
    except ValueError as error:
        raise UsageError(f"{COMMAND}: {error}") from None


def _retag(args) -> int:
    from voc.pipelines.cli.causes import load_chosen_taxonomy, load_sentiment_model
    from voc.pipelines.ops.retag import Tagger, dry_run, retag
    from voc.pipelines.ops.retag_diff import format_diff

    tag_range = _range(args)
    if args.taxonomy is not None and not Path(args.taxonomy).is_file():
        raise UsageError(f"{COMMAND}: --taxonomy {args.taxonomy}: no such file")
    if args.model is not None and not Path(args.model).is_file():
        raise UsageError(f"{COMMAND}: --model {args.model}: no such file")
    taxonomy = load_chosen_taxonomy(COMMAND, args)
    model = load_sentiment_model(COMMAND, args)
    # Workers fork here, before any DuckDB connection exists in this process.
    with Tagger(taxonomy, model, args.workers) as tagger:
        if args.dry_run:
            diff = dry_run(args.duckdb, tag_range, tagger, args.examples)
            if args.format == "json":
                print(json.dumps({"range": tag_range.describe(), **diff.to_dict()}, indent=2))
            else:
                title = f"re-tag {tag_range.describe()} with {taxonomy.label} (dry run)"
                print(format_diff(diff, title))
            return 0
        store = _open_store(args.duckdb)
        try:
            outcome = retag(store, tag_range, tagger)
        finally:
            store.close()
    if args.format == "json":
        print(json.dumps(outcome.__dict__, indent=2))
        return 0
    if outcome.status != "candidate":
        print(f"{COMMAND}: version {outcome.version} is {outcome.status}; nothing to add")
        return 0
    print(
        f"{COMMAND}: version {outcome.version}: tagged {outcome.tagged:,} texts "
        f"({outcome.events:,} texts, {outcome.tags:,} tags in the version) with "
        f"{taxonomy.label}; owners still see the previous tags. Promote with: "
        f"voc retag --duckdb {args.duckdb} --promote {outcome.version}"
    )
    if outcome.redaction_changed:
        print(
            f"{COMMAND}: warning: {outcome.redaction_changed:,} stored texts would be "
            "redacted differently today (tagged as stored)",
            file=sys.stderr,
        )
    return 0


def _open_store(path: str):
    import duckdb

    from voc.transforms.error_text import first_line
    from voc.transforms.sinks.duckdb_store import DuckDBStore

    store = DuckDBStore(path)
    try:
        store.open()
    except duckdb.Error as error:
        raise UsageError(f"{COMMAND}: --duckdb {path}: {_with_hint(first_line(error))}") from None
    return store


def _promote(args) -> int:
    from voc.pipelines.ops.retag import promote
    from voc.transforms.derived.settings import DEFAULT_SETTINGS

    store = _open_store(args.duckdb)
    try:
        outcome = promote(store, args.promote, DEFAULT_SETTINGS)
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps(outcome.__dict__, indent=2))
    elif not outcome.promotion:
        print(f"{COMMAND}: {outcome.version} is already what owners see; nothing changed")
    else:
        derived = ", ".join(f"{name} {rows:,}" for name, rows in outcome.derived.items())
        print(
            f"{COMMAND}: promoted {outcome.version} (promotion {outcome.promotion}): "
            f"{outcome.events:,} texts, {outcome.tags_replaced:,} tags replaced by "
            f"{outcome.tags_written:,}; derived tables rebuilt ({derived}). "
            f"Undo with: voc retag --duckdb {args.duckdb} --promote {outcome.previous_version}"
        )
    return 0


def _list(args) -> int:
    from voc.pipelines.ops.retag import list_versions

    versions = list_versions(args.duckdb)
    if args.format == "json":
        print(json.dumps(versions, indent=2, default=str))
        return 0
    if not versions:
        print(f"{COMMAND}: {args.duckdb} has no tag versions yet")
        return 0
    print(
        f"{'version':<24} {'kind':<8} {'status':<10} {'range (UTC)':<33} {'texts':>9} {'tags':>9}"
    )
    for v in versions:
        end = f"{v['until']:%Y-%m-%d %H:%M}" if v["until"] else "open"
        span = f"{v['since']:%Y-%m-%d %H:%M} .. {end}"
        print(
            f"{v['version']:<24} {v['kind']:<8} {v['status']:<10} {span:<33} "
            f"{v['events']:>9,} {v['tags']:>9,}"
        )
    return 0
