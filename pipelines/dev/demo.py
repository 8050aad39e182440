"""``voc demo``: the whole product on embedded defaults, in one command.

Starts a private Pub/Sub emulator, publishes generated surveys and agent notes
(with the generator's ~1% malformed messages and ~1% duplicate deliveries),
runs the streaming job until the subscriptions are drained, then reads the
DuckDB file back and checks every count against what the generator says it
sent: valid unique events in the fact tables, malformed ones in dead_letters,
duplicates absent. A mismatch is a failure (exit 1), not a footnote.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
from apache_beam.options.pipeline_options import PipelineOptions

from voc.pipelines.arguments import DEFAULT_DUCKDB
from voc.pipelines.dev.emulator import provision, running_emulator
from voc.pipelines.dev.generate import GenerationReport, generate_events
from voc.pipelines.local_driver import RunReport, run_job
from voc.pipelines.ops.publish import publish_messages
from voc.pipelines.ops.summary import (
    cause_evidence,
    cause_sentiment,
    department_summary,
    format_table,
    table_counts,
)
from voc.pipelines.topology import DEFAULT_PROJECT


@dataclass(frozen=True)
class DemoResult:
    report: GenerationReport
    run: RunReport
    counts: dict[str, int]
    seconds: float

    @property
    def expected(self) -> dict[str, int]:
        return {
            "surveys": self.report.valid_surveys,
            "agent_notes": self.report.valid_notes,
            "dead_letters": self.report.malformed,
            # Every stored event has at least one tag (a cause or 'unclassified').
            "tagged_events": self.report.valid_surveys + self.report.valid_notes,
        }

    @property
    def mismatches(self) -> list[str]:
        return [
            f"{table}: expected {want:,}, found {self.counts[table]:,}"
            for table, want in self.expected.items()
            if self.counts[table] != want
        ]


# How many causes the demo prints with their evidence; `voc summary` prints all.
DEMO_CAUSES = 12
_EVIDENCE_WIDTH = 48


def _shortened(rows: list[tuple]) -> list[tuple]:
    """Evidence cut to fit a terminal line; the table keeps it whole."""
    return [
        (*row[:-1], row[-1] if len(row[-1]) <= _EVIDENCE_WIDTH else row[-1][:45] + "...")
        for row in rows
    ]


def run_demo(
    events: int = 5000,
    seed: int = 7,
    duckdb_path: str = DEFAULT_DUCKDB,
    state_dir: Path = Path(".voc/demo"),
    taxonomy: str | None = None,
    out=sys.stdout,
) -> DemoResult:
    started = time.monotonic()
    db = Path(duckdb_path)
    for stale in (db, Path(f"{db}.wal")):
        if stale.exists():
            print(f"voc demo: replacing {stale}", file=out)
            stale.unlink()

    messages, report = generate_events(events, seed=seed)
    print(
        f"voc demo: generated {report.messages:,} messages for {report.interactions:,} "
        f"interactions ({report.valid_surveys:,} surveys, {report.valid_notes:,} notes, "
        f"{report.duplicates:,} duplicates, {report.malformed:,} malformed)",
        file=out,
        flush=True,
    )
    with running_emulator(state_dir, DEFAULT_PROJECT) as emulator:
        print(f"voc demo: Pub/Sub emulator on {emulator.address}", file=out, flush=True)
        provision(emulator.address, DEFAULT_PROJECT)
        t0 = time.monotonic()
        published = len(publish_messages(messages, DEFAULT_PROJECT))
        print(
            f"voc demo: published {published:,} messages in {time.monotonic() - t0:.1f} s",
            file=out,
            flush=True,
        )
        argv = [
            f"--duckdb={duckdb_path}",
            "--stop-when-idle=3",
            "--progress-every=2",
            f"--project={DEFAULT_PROJECT}",
        ]
        if taxonomy:
            argv.append(f"--taxonomy={taxonomy}")
        run = run_job(PipelineOptions(argv), out=out, published=published)
    print(
        f"voc demo: pipeline drained: {run.acknowledged:,} messages committed in "
        f"{run.seconds:.1f} s ({run.per_second:,.0f} msg/s)",
        file=out,
        flush=True,
    )

    with duckdb.connect(duckdb_path, read_only=True) as con:
        counts = table_counts(con)
        counts["tagged_events"] = con.execute(
            "select count(distinct event_id) from feedback_tags"
        ).fetchone()[0]
        columns, rows = department_summary(con)
        evidence_columns, evidence_rows = cause_evidence(con, limit=DEMO_CAUSES)
        sentiment_columns, sentiment_rows = cause_sentiment(con)
    result = DemoResult(report, run, counts, time.monotonic() - started)

    print("\nPer-department summary (feedback_tags in " + duckdb_path + "):\n", file=out)
    print(format_table(columns, rows), file=out)
    print(
        f"\nCauses with their evidence (top {DEMO_CAUSES}; sql/queries/cause_evidence.sql):\n",
        file=out,
    )
    print(format_table(evidence_columns, _shortened(evidence_rows)), file=out)
    print(
        "\nSentiment by cause (where customers named it; sql/queries/cause_sentiment.sql):\n",
        file=out,
    )
    print(format_table(sentiment_columns, sentiment_rows), file=out)
    print("\nTable counts vs. what the generator sent:", file=out)
    expected = result.expected
    for table, count in counts.items():
        want = f"expected {expected[table]:,}" if table in expected else "(one per event and cause)"
        print(f"  {table:<14} {count:>8,}   {want}", file=out)
    print(f"\nvoc demo: done in {result.seconds:.1f} s", file=out, flush=True)
    return result
