"""The backfill job: load history from saved messages with the streaming job's own steps.

    voc backfill --input 'history/*.jsonl.gz' --since 2026-01-01 --duckdb voc.duckdb

    files -> ReadFeedbackFiles -> ParseEvents -> TagFeedback -> StageRows -> staged parts
    (then, in this process) staged parts -> store.write -> rebuild the derived tables

Parsing, validation, dead letters, PII redaction, tagging and the table rows are
the streaming job's (the steps of :class:`ParseTagAndStore`, with a staging sink on
each branch: see :class:`ParseTagAndStage`), on bounded input. The graph
(:func:`build_backfill`) names no runner. Locally it runs on
Beam's FnApiRunner with worker processes (``direct_running_mode=multi_processing``,
what the DirectRunner picks for a batch pipeline once Prism, which it would
download, is out of the way).

One DuckDB file has one writer, so the workers never open it: they stage the
registry's rows as Parquet (:mod:`voc.transforms.sinks.staged_rows`) and this
process loads them afterwards through the store's ``write``, whose keys make a
second run over the same input add nothing. The derived tables (interactions,
rollups, alerts, repeat contacts) are then rebuilt from the facts by the
reconciliation's code, since they depend on facts across the loaded range's edges
(an interaction's other parts, a customer's earlier contacts, an alert's four-week
baseline).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from voc.pipelines.ops.reconcile import rebuild
from voc.pipelines.parse_tag_and_store import DEFAULT_LIMITS
from voc.transforms.derived.settings import DEFAULT_SETTINGS, EventTimeSettings
from voc.transforms.parse_event import ParseEvents, ParseLimits
from voc.transforms.sinks.duckdb_schema import write_departments
from voc.transforms.sinks.duckdb_store import DuckDBStore
from voc.transforms.sinks.staged_rows import (
    DEFAULT_RECORDS_PER_PART,
    LoadReport,
    StageRows,
    load_staged,
)
from voc.transforms.sinks.tables import DEAD_LETTERS, DEFAULT_SINK_SETTINGS, SinkSettings
from voc.transforms.sources.read_files import (
    ALL_TIME,
    DEFAULT_LINES_PER_CHUNK,
    ReadFeedbackFiles,
    TimeRange,
)
from voc.transforms.tag_feedback import TagFeedback

METRICS_NAMESPACE = "voc.backfill"


class BackfillFailed(RuntimeError):
    """The pipeline failed; nothing was loaded. The message says where the logs are."""


@dataclass(frozen=True)
class BackfillConfig:
    """Everything the backfill needs, checked by the caller (the CLI)."""

    files: tuple[str, ...]
    duckdb: str
    staging_dir: str
    workers: int = 2
    time_range: TimeRange = ALL_TIME
    taxonomy: str | None = None
    model: str | None = None
    pseudonym_key: bytes | None = field(default=None, repr=False)
    departments: tuple[dict, ...] = ()
    limits: ParseLimits = DEFAULT_LIMITS
    sink_settings: SinkSettings = DEFAULT_SINK_SETTINGS
    event_time: EventTimeSettings = DEFAULT_SETTINGS
    derived: bool = True
    lines_per_chunk: int = DEFAULT_LINES_PER_CHUNK
    records_per_part: int = DEFAULT_RECORDS_PER_PART


class ParseTagAndStage(beam.PTransform):
    """ParseTagAndStore's steps (the same ParseEvents and TagFeedback), with the staging
    sink applied to each branch instead of to their Flatten.

    The FnApiRunner materialises every Flatten of several inputs: each tagged event
    would be pickled, sent to the runner's process, buffered there and sent back to a
    worker for the sink, which is most of a worker's time and all of the driver's
    memory. Without it, reading, parsing, tagging and staging a chunk is one fused
    stage, and only part descriptors leave a worker.
    """

    def __init__(self, config: BackfillConfig) -> None:
        super().__init__()
        self.config = config

    def _stage(self) -> StageRows:
        config = self.config
        return StageRows(config.staging_dir, config.sink_settings, config.records_per_part)

    def expand(self, messages) -> dict:
        config = self.config
        parsed = messages | "ParseEvents" >> ParseEvents(config.limits)
        tagged = parsed.events | "TagFeedback" >> TagFeedback(
            config.taxonomy, config.pseudonym_key, config.model
        )
        parts = (
            tagged.tagged | "StageEvents" >> self._stage(),
            parsed.dead_letters | "StageParseFailures" >> self._stage(),
            tagged.dead_letters | "StageTagFailures" >> self._stage(),
        )
        return {
            "parts": parts,
            "events": parsed.events,
            "tagged": tagged.tagged,
            "parse_failures": parsed.dead_letters,
            "tag_failures": tagged.dead_letters,
        }


def build_backfill(p: beam.Pipeline, config: BackfillConfig) -> dict:
    """Wire the bounded graph; returns its named PCollections (``parts``: every staged
    part, as StagedPart) so tests can assert on them."""
    read = p | "ReadFiles" >> ReadFeedbackFiles(
        list(config.files), config.time_range, config.lines_per_chunk
    )
    outputs = read.messages | "ParseTagAndStage" >> ParseTagAndStage(config)
    unreadable = read.dead_letters | "StageUnreadableLines" >> StageRows(
        config.staging_dir, config.sink_settings, config.records_per_part
    )
    # Part descriptors only: this Flatten moves a few small records per worker.
    parts = (*outputs.pop("parts"), unreadable) | "AllParts" >> beam.Flatten()
    return outputs | {"parts": parts, "unreadable_lines": read.dead_letters}


def local_options(workers: int) -> PipelineOptions:
    """Worker processes on this machine. ``flags=[]``: the command's own flags are not
    Beam's, and Beam would otherwise read sys.argv."""
    return PipelineOptions(
        flags=[],
        direct_running_mode="multi_processing",
        direct_num_workers=workers,
        default_sdk_harness_log_level="WARNING",
    )


def local_runner(options: PipelineOptions):
    """The FnApiRunner, named, as the DirectRunner would set it up for a batch job: so
    nothing tries Prism (a download) first, and the workers get the options."""
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    info = beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)
    return fn_runner.FnApiRunner(provision_info=fn_runner.ExtendedProvisionInfo(info))


@contextlib.contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """Send this process's stderr (file descriptor 2, which the worker processes
    inherit) to ``path`` meanwhile: their start-up and shutdown notices would bury the
    summary. On a failure the file is kept and named."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


@dataclass
class BackfillReport:
    files: int
    workers: int
    lines: int = 0
    outside_range: int = 0
    unreadable_lines: int = 0
    load: LoadReport = field(default_factory=LoadReport)
    store_dead_letters: int = 0  # conflicting duplicates refused at the load
    derived: dict[str, int] = field(default_factory=dict)
    pipeline_seconds: float = 0.0
    derive_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def redeliveries(self) -> int:
        """Events read that were already stored, or repeated in the input."""
        return self.load.events - self.load.stored - self.store_dead_letters

    @property
    def dead_letters(self) -> int:
        return self.load.dead_letters + self.store_dead_letters

    @property
    def per_second(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        tables = ", ".join(f"{name} {count:,}" for name, count in self.load.new_rows.items())
        derived = ", ".join(f"{name} {count:,}" for name, count in self.derived.items())
        lines = [
            f"read {self.lines:,} lines from {self.files:,} file(s) with {self.workers} "
            f"worker process(es); {self.outside_range:,} outside --since/--until",
            f"stored {self.load.stored:,} events; {self.redeliveries:,} redeliveries ignored; "
            f"{self.dead_letters:,} dead letters ({self.unreadable_lines:,} unreadable lines, "
            f"{self.load.new_rows.get(DEAD_LETTERS.name, 0):,} new)",
            f"new rows: {tables}",
        ]
        if self.derived:
            lines.append(f"derived tables rebuilt from the facts: {derived}")
        lines.append(
            f"{self.seconds:.1f} s ({self.per_second:,.0f} events/s): pipeline "
            f"{self.pipeline_seconds:.1f} s, load {self.load.seconds:.1f} s, derived "
            f"{self.derive_seconds:.1f} s"
        )
        return "\n".join(lines)


def _counter(result, name: str) -> int:
    found = result.metrics().query(
        MetricsFilter().with_namespace(METRICS_NAMESPACE).with_name(name)
    )
    return sum(counter.committed or 0 for counter in found["counters"])


def run_pipeline(config: BackfillConfig, report: BackfillReport, log: Path) -> None:
    options = local_options(config.workers)
    started = time.monotonic()
    try:
        with stderr_to(log):
            p = beam.Pipeline(runner=local_runner(options), options=options)
            build_backfill(p, config)
            result = p.run()
            result.wait_until_finish()
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[-1][:300]
        raise BackfillFailed(
            f"the pipeline failed, nothing was loaded ({first}); worker logs: {log}"
        ) from error
    report.pipeline_seconds = time.monotonic() - started
    report.lines = _counter(result, "lines_read")
    report.outside_range = _counter(result, "outside_range")
    report.unreadable_lines = _counter(result, "invalid_lines")


def _store_dead_letters(store: DuckDBStore) -> int:
    return store.in_transaction(
        lambda cur: cur.execute(
            f"select count(*) from {DEAD_LETTERS.name} where stage = 'store'"
        ).fetchone()[0]
    )


def run_backfill(config: BackfillConfig) -> BackfillReport:
    """Stage, load, rebuild, clean up. The store is opened (and its file locked) by
    the caller's check and stays this process's for the whole run."""
    started = time.monotonic()
    report = BackfillReport(files=len(config.files), workers=config.workers)
    store = DuckDBStore(config.duckdb)
    staging = Path(config.staging_dir)
    staging.mkdir(parents=True, exist_ok=True)
    try:
        store.open()
        if config.departments:
            store.in_transaction(lambda cur: write_departments(cur, list(config.departments)))
        run_pipeline(config, report, staging / "workers.log")
        conflicts_before = _store_dead_letters(store)
        report.load = load_staged(store, config.staging_dir)
        report.store_dead_letters = _store_dead_letters(store) - conflicts_before
        if config.derived and report.load.stored:
            derive_started = time.monotonic()
            rebuilt = store.in_transaction(lambda cur: rebuild(cur, config.event_time))
            report.derived = {name: len(rows) for name, rows in rebuilt.rows.items()}
            report.derive_seconds = time.monotonic() - derive_started
    finally:
        store.close()
    shutil.rmtree(staging, ignore_errors=True)
    with contextlib.suppress(OSError):  # the default parent, once no other run uses it
        staging.parent.rmdir()
    report.seconds = time.monotonic() - started
    return report


def staging_dir_for(duckdb: str, now: datetime | None = None) -> str:
    """A fresh staging directory beside the database, unique per run."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    return str(Path(f"{duckdb}.backfill") / f"run-{stamp}-{os.getpid()}")
