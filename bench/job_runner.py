"""Run one streaming job (voc or the baseline) in this process and watch its table.

    python -m bench.job_runner --job voc --expect 20000 --report out.json ...

Both jobs are measured the same way: a reader connection in the job's own
process (DuckDB lets only one process open a file it writes) polls the rows the
job has committed and records when each event id first became visible. The
runner stops the job once ``--expect`` rows are visible or ``--timeout`` passed,
then writes a JSON report: start time, the time the last expected row became
visible, per-event first-seen times, and the process's peak RSS.

Run as a subprocess by ``bench/run.py`` so each job gets a clean process and
its own peak-RSS figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

from voc.pipelines.logs import configure_logging

POLL_SECONDS = 0.1


# How far the issue rollups are behind the tags: both totals, polled together.
# Tags of late events never reach the rollups (until a reconciliation): not counted.
_ROLLUP_PROGRESS = (
    "select (select count(*) from feedback_tags where cause_id <> 'unclassified'"
    "  and event_id not in (select event_id from late_events)),"
    " (select coalesce(sum(volume), 0) from issue_rollups where level = 'cause')"
)


def _reader(
    db_path: str,
    tables: list[str],
    expect: int,
    seen: dict[str, float],
    done,
    rollups: list | None = None,
):
    """Poll newly committed event ids; stop when ``expect`` are visible.

    Only rows past the last row id seen are read, so the reader's own cost stays
    flat as the table grows (both jobs pay the same for it). With ``rollups``, each
    poll also appends (time, tags stored, volume in the cause-level rollups), and
    the reader goes on until the rollups have caught up with the tags.
    """
    import duckdb

    con = None
    last_rowid = dict.fromkeys(tables, -1)
    while not done.is_set():
        try:
            if con is None:
                # Same process, same file: DuckDB shares the job's database instance.
                con = duckdb.connect(db_path)
            for table in tables:
                rows = con.execute(
                    f"select rowid, event_id from {table} where rowid > ?", [last_rowid[table]]
                ).fetchall()
                now = time.time()
                for rowid, event_id in rows:
                    last_rowid[table] = max(last_rowid[table], rowid)
                    if event_id not in seen:
                        seen[event_id] = now
            caught_up = True
            if rollups is not None:
                tags, volume = con.execute(_ROLLUP_PROGRESS).fetchone()
                rollups.append((time.time(), tags, volume))
                caught_up = volume >= tags
            if len(seen) >= expect and caught_up:
                done.set()
                return
        except duckdb.CatalogException:  # the job has not created its table yet
            pass
        time.sleep(POLL_SECONDS)


def run_voc(args, seen: dict[str, float], done: threading.Event, rollups=None) -> float:
    from apache_beam.options.pipeline_options import PipelineOptions

    from voc.pipelines.local_driver import run_job
    from voc.pipelines.options import job_flags

    started: list[float] = []

    def watch_then_stop(session) -> None:
        started.append(time.time())

        def watch() -> None:
            _watch(args, seen, done, ["surveys", "agent_notes"], rollups)
            session.request_stop()

        threading.Thread(target=watch, name="bench-watch", daemon=True).start()

    subscriptions = dict(zip(("surveys", "agent-notes"), args.subscriptions, strict=True))
    flags = job_flags(args.project, subscriptions, args.db)
    if args.job == "voc-facts-only":
        flags.append("--no-derived")  # this starting point: facts only
    options = PipelineOptions(flags)
    run_job(options, on_running=watch_then_stop)
    return started[0]


def run_baseline(args, seen: dict[str, float], done: threading.Event, rollups=None) -> float:
    import apache_beam as beam

    from bench.baseline_job import baseline_options, build_baseline

    p = beam.Pipeline(options=baseline_options(args.project))
    build_baseline(p, list(args.subscriptions), args.db)
    result = p.run()
    started = time.time()  # after run(), as for voc (bench.job_runner.run_voc)
    _watch(args, seen, done, ["baseline_feedback"])
    result.cancel()
    return started


def _watch(args, seen, done, tables: list[str], rollups=None) -> None:
    if args.ready:
        Path(args.ready).touch()
    reader = threading.Thread(
        target=_reader, args=(args.db, tables, args.expect, seen, done, rollups), daemon=True
    )
    reader.start()
    done.wait(args.timeout)
    done.set()
    reader.join()


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    parser = argparse.ArgumentParser(prog="bench.job_runner")
    parser.add_argument("--job", choices=("voc", "voc-facts-only", "baseline"), required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--subscriptions", nargs=2, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--ready", help="touched once the pipeline is running")
    args = parser.parse_args(argv)

    seen: dict[str, float] = {}
    done = threading.Event()
    runner = run_baseline if args.job == "baseline" else run_voc
    rollups: list | None = [] if args.job == "voc" else None
    started = runner(args, seen, done, rollups)
    report = {
        "job": args.job,
        "started": started,
        "last_visible": max(seen.values()) if seen else None,
        "visible": len(seen),
        "expected": args.expect,
        "first_seen": seen,
        "rollup_progress": rollups,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    Path(args.report).write_text(json.dumps(report), encoding="utf-8")
    sys.stdout.flush()
    # The baseline's cancelled DirectRunner leaves worker threads behind; the
    # report is written, so end the process without waiting for them.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
