"""``voc run``: the streaming job. Beam's own options (--runner, --project, ...) pass through.

``voc reconcile``: rebuild (or check) the derived tables of a stopped job's file,
or of a lake (``--duckdb 'ducklake:postgres:...'``), from its facts, with the job's
event-time flags.
"""

from __future__ import annotations

import sys

from voc.pipelines.arguments import MAX_SECONDS


def add_parsers(commands, with_job_flags: bool = True) -> dict:
    """``with_job_flags=False`` leaves out the run flags, which need Beam imported."""
    run = commands.add_parser(
        "run",
        help="run the streaming pipeline",
        description="Run the streaming pipeline. Beam pipeline options (--runner, "
        "--project, --region, --temp_location, ...) are passed through to Beam. "
        f"SECONDS are finite, from 0 to {MAX_SECONDS:,} (30 days).",
    )
    if with_job_flags:
        from voc.pipelines.options import VocOptions

        VocOptions._add_argparse_args(run)

    reconcile = commands.add_parser(
        "reconcile",
        help="rebuild or check the derived tables from the facts",
        description="Recompute interactions, issue rollups, alerts and repeat contacts "
        "from the fact tables of a DuckDB file no job is writing, with the same "
        "event-time flags as voc run (--rollup-window, --allowed-lateness, ...). "
        "Late events are folded in. --check compares instead and changes nothing.",
    )
    reconcile.add_argument(
        "--duckdb",
        required=True,
        help="the job's DuckDB file, or its lake: 'ducklake:postgres:dbname=... host=...'",
    )
    reconcile.add_argument(
        "--check",
        action="store_true",
        help="report how the stored tables differ from the facts; exit 1 if they do",
    )
    return {"run": run_command, "reconcile": reconcile_command}


def reconcile_command(args, _argv, beam_args) -> int:
    from pathlib import Path

    from apache_beam.options.pipeline_options import PipelineOptions

    from voc.pipelines.cli.common import EXIT_FAILED, UsageError
    from voc.pipelines.ops.reconcile import differences, in_lake_transaction, rebuild
    from voc.pipelines.options import VocOptions, check_flags, event_time_settings
    from voc.transforms.error_text import first_line
    from voc.transforms.sinks.duckdb_store import shared_store
    from voc.transforms.sinks.ducklake_catalog import LakeSpecError, is_lake, parse_catalog
    from voc.transforms.sinks.ducklake_store import DuckLakeStore

    check_flags(beam_args)
    settings = event_time_settings(PipelineOptions(beam_args).view_as(VocOptions))
    if is_lake(args.duckdb):
        try:
            store = DuckLakeStore(parse_catalog(args.duckdb))
        except LakeSpecError as error:
            raise UsageError(f"voc reconcile: --duckdb: {error}") from None

        def run(work):  # a commit conflict with a running job's writers is retried
            return in_lake_transaction(store, work, "reconciling")

    elif not Path(args.duckdb).is_file():
        raise UsageError(f"voc reconcile: --duckdb {args.duckdb}: no such file")
    else:
        store = shared_store(args.duckdb)
        run = store.in_transaction
    try:
        store.open()
    except Exception as error:  # duckdb.Error, or the lake's extensions missing
        raise UsageError(f"voc reconcile: --duckdb {store.path}: {first_line(error)}") from None
    try:
        if args.check:
            problems = run(lambda cur: differences(cur, settings))
            for line in problems:
                print(f"voc reconcile: {line}", file=sys.stderr)
            if problems:
                return EXIT_FAILED
            print("voc reconcile: the derived tables match the facts", file=sys.stderr)
            return 0
        result = run(lambda cur: rebuild(cur, settings))
    finally:
        store.close()
    counts = ", ".join(f"{name} {len(rows):,}" for name, rows in result.rows.items())
    print(f"voc reconcile: {result.facts:,} facts -> {counts}", file=sys.stderr)
    return 0


def run_command(_args, argv, beam_args) -> int:
    from apache_beam.options.pipeline_options import PipelineOptions

    from voc.pipelines.local_driver import run_job
    from voc.pipelines.options import check_flags

    check_flags(beam_args)
    report = run_job(PipelineOptions(argv))
    if report.acknowledged:
        print(
            f"voc run: committed {report.acknowledged:,} messages in {report.seconds:.1f} s "
            f"({report.per_second:,.0f} msg/s)",
            file=sys.stderr,
        )
    return 0
