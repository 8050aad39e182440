"""Re-tag throughput: texts/s of ``voc retag`` on a generated file, 1 and 2 workers.

    .venv/bin/python -m bench.retag                   # 50,000 events (BENCH_RETAG_EVENTS)
    BENCH_RETAG_EVENTS=10000 .venv/bin/python -m bench.retag

``make bench`` runs the same measurement as one of its parts (bench/run.py).

The file is made the way the pipeline makes it: the generator's events over 28
days, parsed, redacted, tagged with the generic pack (sentiment included) and
written by the DuckDB sink, then the derived tables rebuilt from the facts, as a
stopped job leaves it. The new taxonomy extends the generic pack with one cause,
so the re-tag has something to move. Measured, each on a fresh copy of the file:
the dry run (read, tag, diff), the re-tag into candidates (read, tag, write), and
the promotion (swap plus the rebuild of every derived table). Throughput counts
texts tagged per second of wall time, full tagging included (redaction,
sentiment, causes), the issue's target for the batch jobs being >= 5,000 events/s
with 2 workers on 2 cores.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.result_files import write_result_files

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_EVENTS = 50_000
DAYS = 28
START = datetime(2026, 10, 1, tzinfo=UTC)
PSEUDONYM_KEY = b"voc-bench-retag-key-0123456789ab"
# The generic pack plus one cause: what an analyst's first edit typically looks like.
NEW_TAXONOMY = """\
version: 2
extends: generic
release: "1.1.0"
causes:
  - {id: callback_never_came, description: "We promised a call back and never called",
     department: support_ops, phrases: ["call back", "called back", "{not} call me back"]}
"""


def write_generated_file(path: Path, events: int, seed: int = 7, days: int = DAYS) -> None:
    """A voc DuckDB file holding ``events`` generated events, tagged and stored by the
    pipeline's own functions, with its derived tables rebuilt from the facts."""
    from voc.pipelines.dev.generate import generate_events
    from voc.pipelines.ops.reconcile import rebuild
    from voc.transforms.derived.settings import DEFAULT_SETTINGS
    from voc.transforms.parse_event import parse_message
    from voc.transforms.records import ReceivedMessage
    from voc.transforms.sinks.duckdb_schema import create_department_schemas
    from voc.transforms.sinks.duckdb_store import DuckDBStore, build_batch
    from voc.transforms.tag_feedback import tag_event
    from voc.transforms.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    messages, _ = generate_events(
        events, seed=seed, start=START, malformed_rate=0, duplicate_rate=0, days=days
    )
    store = DuckDBStore(str(path))
    store.open()
    try:
        batch = []
        for number, message in enumerate(messages):
            received = ReceivedMessage(message.data, message.attributes, str(number), None)
            batch.append(tag_event(parse_message(received), taxonomy, PSEUDONYM_KEY))
            if len(batch) == 5_000:
                store.write(build_batch(batch))
                batch = []
        if batch:
            store.write(build_batch(batch))
        store.in_transaction(lambda cur: rebuild(cur, DEFAULT_SETTINGS))
        store.in_transaction(create_department_schemas)  # as the job's next start would
    finally:
        store.close()


def measure(source: Path, taxonomy_path: Path, workdir: Path, workers: int) -> dict:
    """Dry run, re-tag and promotion on fresh copies of ``source`` with ``workers``."""
    from voc.pipelines.ops.reconcile import rebuild
    from voc.pipelines.ops.retag import Tagger, dry_run, promote, retag
    from voc.pipelines.ops.retag_versions import TagRange
    from voc.transforms.derived.settings import DEFAULT_SETTINGS
    from voc.transforms.sinks.duckdb_store import DuckDBStore
    from voc.transforms.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(taxonomy_path)
    tag_range = TagRange(START)
    copy = workdir / f"retag-{workers}.duckdb"
    shutil.copyfile(source, copy)
    figures: dict = {"workers": workers}
    with Tagger(taxonomy, None, workers) as tagger:
        began = time.perf_counter()
        diff = dry_run(str(copy), tag_range, tagger, examples=3)
        seconds = time.perf_counter() - began
        figures["dry_run"] = _rate(diff.texts, seconds) | {"changed": diff.changed}
        store = DuckDBStore(str(copy))
        store.open()
        try:
            began = time.perf_counter()
            outcome = retag(store, tag_range, tagger)
            seconds = time.perf_counter() - began
            figures["retag"] = _rate(outcome.tagged, seconds) | {"tags": outcome.tags}
            began = time.perf_counter()
            promoted = promote(store, outcome.version, DEFAULT_SETTINGS)
            promote_seconds = time.perf_counter() - began
            # The same rebuild alone, to tell the swap's cost from the recomputation's.
            began = time.perf_counter()
            store.in_transaction(lambda cur: rebuild(cur, DEFAULT_SETTINGS))
            figures["promote"] = {
                "seconds": round(promote_seconds, 2),
                "rebuild_seconds": round(time.perf_counter() - began, 2),
                "tags_written": promoted.tags_written,
                "derived_rows": sum(promoted.derived.values()),
            }
        finally:
            store.close()
    copy.unlink()
    return figures


def _rate(texts: int, seconds: float) -> dict:
    return {
        "texts": texts,
        "seconds": round(seconds, 2),
        "texts_per_s": round(texts / seconds, 1) if seconds > 0 else None,
    }


def run(events: int, workdir: Path | None = None, out=sys.stdout) -> dict:
    def say(text: str) -> None:
        print(f"bench: retag: {text}", file=out, flush=True)

    with tempfile.TemporaryDirectory(prefix="voc-bench-retag-") as tmp:
        folder = workdir or Path(tmp)
        source = folder / "retag-source.duckdb"
        taxonomy_path = folder / "retag-taxonomy.yaml"
        taxonomy_path.write_text(NEW_TAXONOMY, encoding="utf-8")
        say(f"building a file of {events:,} events through the pipeline's tagging and sink")
        began = time.perf_counter()
        write_generated_file(source, events)
        build_seconds = round(time.perf_counter() - began, 1)
        results: dict = {"events": events, "build_seconds": build_seconds, "runs": []}
        for workers in (1, 2):
            say(f"{workers} worker(s): dry run, re-tag, promote")
            results["runs"].append(measure(source, taxonomy_path, folder, workers))
        source.unlink()
    results["cpus"] = os.cpu_count()
    # Other work on a shared machine slows worker processes most: say how busy it was.
    results["load_average"] = [round(load, 2) for load in os.getloadavg()]
    return results


def summary_rows(results: dict) -> list[tuple[str, float | None]]:
    """(figure, value) pairs for bench/run.py's summary table."""
    rows = []
    for run_figures in results["runs"]:
        workers = run_figures["workers"]
        rows.append((f"retag, {workers} worker(s) (texts/s)", run_figures["retag"]["texts_per_s"]))
        rows.append(
            (
                f"retag --dry-run, {workers} worker(s) (texts/s)",
                run_figures["dry_run"]["texts_per_s"],
            )
        )
    return rows


def format_markdown(results: dict) -> str:
    lines = [
        f"Re-tag on a generated file of {results['events']:,} events ({DAYS} days, built "
        f"through the pipeline's tagging and sink in {results['build_seconds']} s, "
        f"{results['cpus']} CPUs, load average after the runs "
        f"{', '.join(f'{v:.1f}' for v in results.get('load_average', []))}); "
        "new taxonomy: the generic pack plus one cause:",
        "",
        "| workers | dry run texts/s | re-tag texts/s | re-tag s | tags written | promote s "
        "(swap + derived rebuild) | of which the rebuild, s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["runs"]:
        lines.append(
            f"| {r['workers']} | {_per_s(r['dry_run'])} | "
            f"{_per_s(r['retag'])} | {r['retag']['seconds']} | "
            f"{r['promote']['tags_written']:,} | {r['promote']['seconds']} | "
            f"{r['promote']['rebuild_seconds']} |"
        )
    return "\n".join(lines) + "\n"


def _per_s(figures: dict) -> str:
    value = figures["texts_per_s"]
    return "-" if value is None else f"{value:,.0f}"


def write_results(results: dict, results_dir: Path = RESULTS_DIR) -> tuple[Path, Path]:
    return write_result_files(
        results, "# voc re-tag benchmark\n\n" + format_markdown(results), results_dir, "retag"
    )


def main() -> int:
    from voc.pipelines.logs import configure_logging

    configure_logging()
    events = int(os.environ.get("BENCH_RETAG_EVENTS", DEFAULT_EVENTS))
    results = run(events)
    json_path, md_path = write_results(
        results, Path(os.environ.get("BENCH_RESULTS_DIR", RESULTS_DIR))
    )
    print(format_markdown(results))
    print(f"bench: wrote {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
