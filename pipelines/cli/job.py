"""``voc run``: the streaming job. Beam's own options (--runner, --project, ...) pass through."""

from __future__ import annotations

import sys

from voc.pipelines.arguments import MAX_SECONDS


def add_parsers(commands) -> dict:
    from voc.pipelines.options import VocOptions

    run = commands.add_parser(
        "run",
        help="run the streaming pipeline",
        description="Run the streaming pipeline. Beam pipeline options (--runner, "
        "--project, --region, --temp_location, ...) are passed through to Beam. "
        f"SECONDS are finite, from 0 to {MAX_SECONDS:,} (30 days).",
    )
    VocOptions._add_argparse_args(run)
    return {"run": run_command}


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
