"""``voc demo``: the whole product on embedded defaults, in one command.

Starts a private Pub/Sub emulator, publishes three weeks of generated surveys
and agent notes ending now (daily and weekly cycles, repeat contacts, messages
out of order and days late, a planted surge of one cause on one day, ~1%
malformed messages and ~1% duplicate deliveries), runs the streaming job until
the subscriptions are drained, then reads the DuckDB file back and checks it
against the generator's ground truth: valid unique events in the fact tables,
malformed ones in dead_letters, duplicates absent, and an alert on the planted
surge. A mismatch is a failure (exit 1), not a footnote. It prints the rising
causes, the alerts with their examples and first-contact resolution.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from apache_beam.options.pipeline_options import PipelineOptions

from voc.pipelines.arguments import DEFAULT_DUCKDB
from voc.pipelines.dev import DEMO_DAYS, DEMO_EVENTS
from voc.pipelines.dev.emulator import provision, running_emulator
from voc.pipelines.dev.generate import GenerationReport, generate_with_truth
from voc.pipelines.digests.run import write_demo_digests
from voc.pipelines.local_driver import RunReport, run_job
from voc.pipelines.ops.publish import publish_messages
from voc.pipelines.ops.summary import (
    alerts_summary,
    cause_evidence,
    cause_sentiment,
    department_summary,
    derived_counts,
    format_table,
    named_query,
    table_counts,
)
from voc.pipelines.topology import DEFAULT_PROJECT


@dataclass(frozen=True)
class DemoResult:
    report: GenerationReport
    run: RunReport
    counts: dict[str, int]
    seconds: float
    truth: dict = field(default_factory=dict)
    # Alerts of the planted surge's cause whose opening window is inside the surge.
    surge_alerts: int = 0

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
        found = [
            f"{table}: expected {want:,}, found {self.counts[table]:,}"
            for table, want in self.expected.items()
            if self.counts[table] != want
        ]
        surge = self.truth.get("surge")
        if surge and self.surge_alerts != 1 and _after_warmup(surge, self.truth):
            found.append(
                f"alerts: expected one alert on the planted {surge['cause_id']} surge "
                f"({surge['start']} to {surge['end']}), found {self.surge_alerts}"
            )
        return found


# How many causes the demo prints with their evidence; `voc summary` prints all.
DEMO_CAUSES = 12
_EVIDENCE_WIDTH = 48


def _shortened(rows: list[tuple]) -> list[tuple]:
    """Evidence cut to fit a terminal line; the table keeps it whole."""
    return [
        (*row[:-1], row[-1] if len(row[-1]) <= _EVIDENCE_WIDTH else row[-1][:45] + "...")
        for row in rows
    ]


def _after_warmup(surge: dict, truth: dict) -> bool:
    """Whether the surge comes after the alert baseline's warm-up (a week of history):
    a short demo has no alert to expect."""
    from datetime import datetime

    from voc.transforms.derived.spike_alerts import AlertRule

    start = datetime.fromisoformat(truth["parameters"]["start"].replace("Z", "+00:00"))
    surged = datetime.fromisoformat(surge["start"].replace("Z", "+00:00"))
    return surged - start >= AlertRule().warmup


def _shortened_text(rows: list[tuple]) -> list[tuple]:
    """Long text cells cut to fit a terminal line; the tables keep them whole."""
    return [
        tuple(
            v[:57] + "..." if isinstance(v, str) and len(v) > _EVIDENCE_WIDTH + 12 else v
            for v in row
        )
        for row in rows
    ]


def _surge_alerts(con, surge: dict | None) -> int:
    """Alerts on the surge's cause that opened inside the planted surge."""
    if not surge:
        return 0
    return con.execute(
        "select count(*) from alerts where cause_id = ?"
        " and opened_window_start >= ?::timestamptz and opened_window_start < ?::timestamptz",
        [surge["cause_id"], surge["start"], surge["end"]],
    ).fetchone()[0]


def run_demo(
    events: int = DEMO_EVENTS,
    seed: int = 7,
    days: int = DEMO_DAYS,
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

    messages, report, truth = generate_with_truth(events, seed=seed, days=days)
    params = truth["parameters"]
    print(
        f"voc demo: generated {report.messages:,} messages for {report.interactions:,} "
        f"interactions over {days} days ({params['start']} to {params['end']}): "
        f"{report.valid_surveys:,} surveys, {report.valid_notes:,} notes, "
        f"{report.duplicates:,} duplicates, {report.malformed:,} malformed, "
        f"{len(truth['late_event_ids']):,} days late",
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
        event_time = {
            "rising": named_query(con, "rising_causes", limit=8),
            "alerts": alerts_summary(con),
            "examples": named_query(con, "alert_examples", limit=3),
            "resolution": named_query(con, "resolution_by_cause_channel", limit=10),
        }
        derived = derived_counts(con)
        surge_alerts = _surge_alerts(con, truth.get("surge"))
    result = DemoResult(report, run, counts, time.monotonic() - started, truth, surge_alerts)

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
    titles = {
        "rising": "Rising causes, last 7 days vs the 7 before (sql/queries/rising_causes.sql)",
        "alerts": "Spike alerts (alerts table)",
        "examples": "What customers said when an alert opened (sql/queries/alert_examples.sql)",
        "resolution": "First-contact resolution, worst first "
        "(sql/queries/resolution_by_cause_channel.sql)",
    }
    for name, (table_columns, table_rows) in event_time.items():
        print(f"\n{titles[name]}:\n", file=out)
        print(format_table(table_columns, _shortened_text(table_rows)), file=out)
    surge = truth.get("surge")
    if surge:
        print(
            f"\nPlanted surge: {surge['cause_id']} x{surge['multiplier']:g} from {surge['start']}"
            f" to {surge['end']}; alerts opened inside it: {surge_alerts}",
            file=out,
        )
    print(
        f"Repeat contacts: {derived['repeat contacts']:,} found, "
        f"{len(truth.get('repeat_contacts', [])):,} planted or accidental in the generator's "
        f"truth; late events: {derived['late events']:,} "
        f"({len(truth.get('late_event_ids', [])):,} sent days late)",
        file=out,
    )
    print("\nDerived tables: " + ", ".join(f"{k} {v:,}" for k, v in derived.items()), file=out)
    print("\nTable counts vs. what the generator sent:", file=out)
    expected = result.expected
    for table, count in counts.items():
        want = f"expected {expected[table]:,}" if table in expected else "(one per event and cause)"
        print(f"  {table:<14} {count:>8,}   {want}", file=out)
    write_demo_digests(duckdb_path, out=out)
    print(f"\nvoc demo: done in {result.seconds:.1f} s", file=out, flush=True)
    return result


def serve_demo(
    duckdb_path: str = DEFAULT_DUCKDB,
    state_dir: Path = Path(".voc/demo"),
    taxonomy: str | None = None,
    port: int = 0,
    out=sys.stdout,
) -> RunReport:
    """``voc demo --serve``: after the checks, the job runs on and serves SQL until Ctrl-C.

    The demo's own job stopped when its subscriptions drained, so that its checks
    could read the file. This one runs on the same file with a fresh emulator
    (empty subscriptions) and no idle stop, and prints how to query it while it
    runs (``voc sql``, the DuckDB CLI) and how to publish more events to it.
    Ctrl-C drains it like any ``voc run``.
    """
    from voc.pipelines.ops.live_job import running_job
    from voc.pipelines.ops.serve_sql import duckdb_cli_commands

    def instructions(_session) -> None:
        job = running_job(duckdb_path)
        if job is None or job.quack_uri is None:
            return
        cli = "\n".join(f"      {line}" for line in duckdb_cli_commands(duckdb_path, job.quack_uri))
        print(
            f"\nvoc demo: the job keeps running and serves read-only SQL on {job.quack_uri} "
            "until Ctrl-C. From another shell:\n"
            f'    voc sql --duckdb {duckdb_path} "select department, count(*) as tags '
            'from feedback_tags group by all order by tags desc"\n'
            f"    voc summary --duckdb {duckdb_path} --since 7d\n"
            f"    voc sql --duckdb {duckdb_path}          (a prompt; statements end with ';')\n"
            "  Publish more events and watch the counts grow:\n"
            f"    {emulator.env_line()}\n"
            "    voc generate -n 500 --days 1 --publish\n"
            "  The DuckDB CLI of the same version (pip install duckdb-cli==1.5.5), then:\n"
            f"{cli}\n",
            file=out,
            flush=True,
        )

    with running_emulator(state_dir, DEFAULT_PROJECT) as emulator:
        provision(emulator.address, DEFAULT_PROJECT)
        argv = [
            f"--duckdb={duckdb_path}",
            f"--project={DEFAULT_PROJECT}",
            "--serve",
            f"--serve-port={port}",
            "--progress-every=10",
        ]
        if taxonomy:
            argv.append(f"--taxonomy={taxonomy}")
        run = run_job(PipelineOptions(argv), out=out, on_running=instructions)
    print(
        f"voc demo: stopped serving; {run.acknowledged:,} more messages committed",
        file=out,
        flush=True,
    )
    return run
