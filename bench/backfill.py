"""Backfill throughput: `voc backfill` on the same generated history with 1 and 2 worker
processes, full tagging included. Target: >= 5,000 events/s with 2 workers on 2 cores.

    .venv/bin/python -m bench.backfill                       # 50,000 events
    BENCH_BACKFILL_N=10000 BENCH_BACKFILL_REPEAT=1 .venv/bin/python -m bench.backfill

``make bench`` runs it after the other parts (bench/run.py). Figures go to
``bench/results/<date>-backfill.json`` and ``.md``.

Each run is the whole command's work (worker start-up, reading, parsing, tagging,
staging, the load into a fresh DuckDB file, the derived tables' rebuild), timed
end to end and by phase. To say where the time goes it also measures:

- the fixed cost of a run (the same job on 200 events): worker processes importing
  Beam and voc and compiling the taxonomy, and the runner's stages;
- the marginal rate, (N - 200) / (time at N - time at 200): what more events cost
  once the workers are up, i.e. the rate a long backfill tends to;
- the CPU time per event of tagging alone in this process, which bounds what two
  cores can do whatever the runner does.

The load average is recorded before each run: on a shared machine other work takes
cores from the workers, and the figures say so rather than hide it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.result_files import write_result_files

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_EVENTS_PER_S = 5_000
SMALL_RUN = 200
DEFAULT_EVENTS = 50_000
KEY = "5e" * 32


def _history(path: Path, events: int) -> dict:
    from voc.pipelines.dev.generate import generate_events, write_jsonl

    messages, report = generate_events(events, seed=17, days=28)
    write_jsonl(messages, path)
    return report.to_dict()


def _backfill(files: list[Path], workdir: Path, workers: int) -> dict:
    from voc.pipelines.backfill import BackfillConfig, run_backfill, staging_dir_for
    from voc.pipelines.options import owned_departments

    db = workdir / f"backfill-{workers}-{time.monotonic_ns()}.duckdb"
    config = BackfillConfig(
        files=tuple(str(f) for f in files),
        duckdb=str(db),
        staging_dir=staging_dir_for(str(db)),
        workers=workers,
        pseudonym_key=bytes.fromhex(KEY),
        departments=owned_departments(None, None),
    )
    load = os.getloadavg()[0]
    cpu = os.times()
    report = run_backfill(config)
    after = os.times()
    for path in db.parent.glob(db.name + "*"):
        path.unlink()
    return {
        "workers": workers,
        "lines": report.lines,
        "stored": report.load.stored,
        "seconds": round(report.seconds, 2),
        "events_per_s": round(report.per_second),
        "pipeline_seconds": round(report.pipeline_seconds, 2),
        "load_seconds": round(report.load.seconds, 2),
        "derive_seconds": round(report.derive_seconds, 2),
        "driver_cpu_seconds": round((after.user + after.system) - (cpu.user + cpu.system), 2),
        "workers_cpu_seconds": round(
            (after.children_user + after.children_system)
            - (cpu.children_user + cpu.children_system),
            2,
        ),
        "load_average_before": round(load, 2),
    }


def _phase_costs(path: Path, count: int = 3_000) -> dict[str, float]:
    """CPU milliseconds per event of each phase a worker runs, in this process, after a
    warm-up: where a worker's time goes, without the runner around it."""
    from voc.transforms.parse_event import parse_message
    from voc.transforms.sinks.staged_rows import stage_records
    from voc.transforms.sources.read_files import message_from_line
    from voc.transforms.tag_feedback import shared_taxonomy, tag_event

    taxonomy = shared_taxonomy(None)
    key = bytes.fromhex(KEY)
    lines = path.read_bytes().splitlines()[: count + 200]
    costs: dict[str, float] = {}

    def timed(name, work):
        started = time.process_time()
        result = work()
        costs[name] = (time.process_time() - started) * 1000 / len(lines[200:])
        return result

    def parse_all(messages):
        events = []
        for message in messages:
            try:
                events.append(parse_message(message))
            except ValueError:
                continue
        return events

    for event in parse_all(message_from_line(line, "warm-up") for line in lines[:200]):
        tag_event(event, taxonomy, key)
    messages = timed("read", lambda: [message_from_line(line, "f:1") for line in lines[200:]])
    events = timed("parse", lambda: parse_all(messages))
    tagged = timed("tag", lambda: [tag_event(event, taxonomy, key) for event in events])
    with tempfile.TemporaryDirectory() as staging:
        timed("stage", lambda: stage_records(staging, tagged))
    return {name: round(value, 3) for name, value in costs.items()}


def run(
    events: int, worker_counts: tuple[int, ...] = (1, 2), repeats: int = 2, out=sys.stdout
) -> dict:
    def say(text: str) -> None:
        print(f"bench.backfill: {text}", file=out, flush=True)

    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "events": events,
        "cpus": os.cpu_count(),
        "target_events_per_s": TARGET_EVENTS_PER_S,
        "repeats": repeats,
        "runs": {},
        "small_runs": {},
        "all_seconds": {},
    }
    with tempfile.TemporaryDirectory(prefix="voc-backfill-bench-") as tmp:
        workdir = Path(tmp)
        say(f"generating {events:,} events")
        results["generated"] = _history(workdir / "history.jsonl", events)
        _history(workdir / "small.jsonl", SMALL_RUN)
        phases = _phase_costs(workdir / "history.jsonl")
        results["worker_cpu_ms_per_event"] = phases
        per_event = sum(phases.values()) / 1000
        results["ceiling_events_per_s"] = {str(n): round(n / per_event) for n in worker_counts}
        # Interleaved and repeated, the best run kept: other work on a shared machine
        # only ever slows a run down, and it should not land on one setting only.
        for attempt in range(1, repeats + 1):
            for workers in worker_counts:
                key = str(workers)
                say(f"{SMALL_RUN} events, {workers} worker(s), run {attempt}: the fixed cost")
                small = _backfill([workdir / "small.jsonl"], workdir, workers)
                say(f"{events:,} events, {workers} worker(s), run {attempt}")
                run_ = _backfill([workdir / "history.jsonl"], workdir, workers)
                say(f"{run_['events_per_s']:,} events/s ({run_['seconds']} s)")
                results["all_seconds"].setdefault(key, []).append(run_["seconds"])
                if key not in results["runs"] or run_["seconds"] < results["runs"][key]["seconds"]:
                    results["runs"][key] = run_
                best_small = results["small_runs"].get(key)
                if best_small is None or small["seconds"] < best_small["seconds"]:
                    results["small_runs"][key] = small
        for key, run_ in results["runs"].items():
            extra = run_["seconds"] - results["small_runs"][key]["seconds"]
            run_["marginal_events_per_s"] = (
                round((events - SMALL_RUN) / extra) if extra > 0 else None
            )
    runs = results["runs"]
    if "1" in runs and "2" in runs:
        results["ratio_2_vs_1"] = round(runs["1"]["seconds"] / runs["2"]["seconds"], 2)
    two = runs.get("2", {}).get("events_per_s")
    results["met"] = two is not None and two >= TARGET_EVENTS_PER_S
    return results


def format_markdown(results: dict) -> str:
    lines = [
        f"# Backfill throughput, {results['date']}",
        "",
        f"{results['events']:,} generated events (28 days, 1% malformed, 1% duplicates), "
        f"full tagging, into a fresh DuckDB file; {results['cpus']} CPUs. Target: "
        f">= {results['target_events_per_s']:,} events/s with 2 workers "
        f"({'met' if results['met'] else 'not met'}). Best of {results['repeats']} "
        f"interleaved runs each; all runs' seconds: {results['all_seconds']}.",
        "",
        "| workers | events/s | seconds | pipeline | load | derived | marginal events/s "
        "| fixed cost (200 events) | worker CPU s | load avg before |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for workers, run_ in results["runs"].items():
        small = results["small_runs"][workers]
        lines.append(
            f"| {workers} | {run_['events_per_s']:,} | {run_['seconds']} | "
            f"{run_['pipeline_seconds']} | {run_['load_seconds']} | {run_['derive_seconds']} | "
            f"{run_['marginal_events_per_s'] or '-'} | {small['seconds']} s | "
            f"{run_['workers_cpu_seconds']} | {run_['load_average_before']} |"
        )
    ceiling = ", ".join(
        f"{n} worker(s) {v:,}/s" for n, v in results["ceiling_events_per_s"].items()
    )
    phases = results["worker_cpu_ms_per_event"]
    lines += [
        "",
        f"- ratio 2 vs 1 workers (end to end): {results.get('ratio_2_vs_1', '-')}",
        "- a worker's CPU per event, by phase (ms, one process, no runner): "
        + ", ".join(f"{name} {value}" for name, value in phases.items())
        + f"; total {sum(phases.values()):.3f} ms",
        f"- the ceiling those phases alone set, on free cores: {ceiling}",
    ]
    return "\n".join(lines) + "\n"


def write_results(results: dict, results_dir: Path = RESULTS_DIR) -> tuple[Path, Path]:
    return write_result_files(results, format_markdown(results), results_dir, "backfill")


def run_and_write(results_dir: Path = RESULTS_DIR, out=sys.stdout) -> dict:
    events = int(os.environ.get("BENCH_BACKFILL_N", DEFAULT_EVENTS))
    repeats = int(os.environ.get("BENCH_BACKFILL_REPEAT", 2))
    results = run(events, repeats=repeats, out=out)
    json_path, md_path = write_results(results, results_dir)
    print(file=out)
    print(format_markdown(results), file=out)
    print(f"bench.backfill: wrote {md_path} and {json_path}", file=out)
    return results


def main() -> int:
    from voc.pipelines.logs import configure_logging

    configure_logging()
    run_and_write(Path(os.environ.get("BENCH_RESULTS_DIR", RESULTS_DIR)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
