"""Staged table rows: how worker processes hand a bounded job's output to the one writer.

    workers:  records -> the registry's rows -> STAGING/<part>/<table>.parquet + _manifest.json
    driver:   parts -> WriteBatch -> store.write (one transaction per ~20k events)

A DuckDB file has one writer, and a backfill's workers are other processes: they
must not open it. So each worker turns its records into the rows of every table
of the registry (:mod:`voc.transforms.sinks.tables`, the same builders as the
streaming sink) and writes them as Parquet, one part per flush under a unique
name. After the pipeline, the driver loads the parts through the store's own
``write(WriteBatch)``, so the registry's idempotent rules apply unchanged: fact
rows only for new ``event_id``s, tags and recovery items only for events the same
transaction stored, dead letters once per id, and an ``event_id`` reused with
other content becomes a ``conflicting_duplicate`` dead letter. Loading the same
parts twice adds nothing. Any store with that write contract (the DuckLake store)
takes the same parts.

A part is complete only once its ``_manifest.json`` exists (written last): a
worker that died mid-part leaves files the loader ignores, and the runner's retry
of that bundle stages the records again under a new part, which the keys make
harmless. Facts and the rows derived from them are always in the same part, so
they always reach the same transaction.

The store's conflict check needs, for each event, its identity and its message as
received (the dead letter of a conflict keeps the raw bytes); that is the
``_messages`` file of a part, and :class:`StagedEvent` rebuilds just that.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from voc.transforms.records import (
    DeadLetter,
    FeedbackEvent,
    ReceivedMessage,
    SentimentScore,
    TaggedEvent,
)
from voc.transforms.sinks.duckdb_store import WriteBatch, WriteResult, build_batch
from voc.transforms.sinks.tables import (
    DEFAULT_SINK_SETTINGS,
    TABLES,
    Record,
    Row,
    SinkSettings,
    Table,
)

MANIFEST = "_manifest.json"
MESSAGES = "_messages"
# Records a worker buffers before it writes a part: bounds its memory on a bundle
# that holds half the input (the local runner gives each worker one bundle).
DEFAULT_RECORDS_PER_PART = 10_000
# Events per load transaction: thousands of rows per commit are what DuckDB is fast
# at, and the rows of one transaction are held in memory as Python dicts.
DEFAULT_EVENTS_PER_TRANSACTION = 20_000

_TS = pa.timestamp("us", tz="UTC")
MESSAGES_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("schema_version", pa.int32()),
        ("event_time", _TS),
        ("payload_sha256", pa.string()),
        ("message_id", pa.string()),
        ("published_at", _TS),
        ("attributes", pa.string()),
        ("data", pa.binary()),
    ]
)


# -- pure: records -> staged tables --------------------------------------------

# What ties a derived row (a tag, a recovery item) to its event, for the store's
# "only for new events" and conflict rules; not every table has these as columns.
_EVENT_LINK = (("event_id", pa.string()), ("source", pa.string()), ("payload_sha256", pa.string()))


def staging_schema(table: Table) -> pa.Schema:
    """The table's columns, plus its rows' link to their event where the table has no
    such column (the store reads it, then writes only the table's own columns)."""
    schema = table.schema
    if table.only_for_new_events:
        for name, kind in _EVENT_LINK:
            if name not in schema.names:
                schema = schema.append(pa.field(name, kind))
    return schema


def message_row(tagged: TaggedEvent) -> Row:
    """An event's identity and its message as received, for the load's conflict check."""
    event = tagged.event
    message = event.message
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "schema_version": event.schema_version,
        "event_time": event.event_time,
        "payload_sha256": tagged.payload_sha256,
        "message_id": message.message_id,
        "published_at": message.publish_time,
        "attributes": json.dumps(message.attributes, sort_keys=True),
        "data": message.data,
    }


def staged_tables(
    records: Iterable[Record],
    now: datetime | None = None,
    settings: SinkSettings = DEFAULT_SINK_SETTINGS,
) -> dict[str, pa.Table]:
    """The registry's rows of these records as Arrow tables (empty ones left out),
    plus the events' ``_messages``."""
    batch = build_batch(records, now, settings)
    tables = {
        table.name: pa.Table.from_pylist(batch.rows[table.name], schema=staging_schema(table))
        for table in TABLES
        if batch.rows[table.name]
    }
    messages = [message_row(r) for r in batch.records if isinstance(r, TaggedEvent)]
    if messages:
        tables[MESSAGES] = pa.Table.from_pylist(messages, schema=MESSAGES_SCHEMA)
    return tables


@dataclass(frozen=True)
class StagedPart:
    """One part as its manifest describes it."""

    path: str
    events: int
    dead_letters: int
    tables: tuple[str, ...]


def write_part(staging_dir: str, tables: dict[str, pa.Table], events: int, dead: int) -> StagedPart:
    """Write the tables under a new unique part directory, the manifest last."""
    part = FileSystems.join(staging_dir, f"part-{uuid.uuid4().hex}")
    for name, table in tables.items():
        with FileSystems.create(FileSystems.join(part, f"{name}.parquet")) as out:
            pq.write_table(table, out)
    staged = StagedPart(part, events, dead, tuple(sorted(tables)))
    manifest = {"events": events, "dead_letters": dead, "tables": list(staged.tables)}
    with FileSystems.create(FileSystems.join(part, MANIFEST)) as out:
        out.write(json.dumps(manifest).encode("utf-8"))
    return staged


def stage_records(
    staging_dir: str,
    records: list[Record],
    now: datetime | None = None,
    settings: SinkSettings = DEFAULT_SINK_SETTINGS,
) -> StagedPart:
    events = sum(1 for r in records if isinstance(r, TaggedEvent))
    tables = staged_tables(records, now, settings)
    return write_part(staging_dir, tables, events, len(records) - events)


# -- Beam: the workers' sink ---------------------------------------------------------


class StageRowsFn(beam.DoFn):
    """Buffers records and writes a part every ``records_per_part`` and at the end of
    a bundle; outputs each part written (a StagedPart)."""

    def __init__(
        self,
        staging_dir: str,
        settings: SinkSettings = DEFAULT_SINK_SETTINGS,
        records_per_part: int = DEFAULT_RECORDS_PER_PART,
    ) -> None:
        self.staging_dir = staging_dir
        self.settings = settings
        self.records_per_part = records_per_part
        self.parts = Metrics.counter("voc.backfill", "parts_staged")

    def start_bundle(self) -> None:
        self.pending: list[Record] = []

    def process(self, record: TaggedEvent | DeadLetter):
        self.pending.append(record)
        if len(self.pending) >= self.records_per_part:
            yield self._flush()

    def finish_bundle(self):
        if self.pending:
            yield beam.transforms.window.GlobalWindows.windowed_value(self._flush())

    def _flush(self) -> StagedPart:
        part = stage_records(self.staging_dir, self.pending, settings=self.settings)
        self.pending = []
        self.parts.inc()
        return part


class StageRows(beam.PTransform):
    """Sink for PCollection[TaggedEvent | DeadLetter] that writes staged parts; its
    output is the StagedPart of each part (what the driver will load)."""

    def __init__(
        self,
        staging_dir: str,
        settings: SinkSettings = DEFAULT_SINK_SETTINGS,
        records_per_part: int = DEFAULT_RECORDS_PER_PART,
    ) -> None:
        super().__init__()
        self.staging_dir = staging_dir
        self.settings = settings
        self.records_per_part = records_per_part

    def expand(self, records):
        return records | "StageParts" >> beam.ParDo(
            StageRowsFn(self.staging_dir, self.settings, self.records_per_part)
        )


# -- the driver: staged parts -> the store -----------------------------------------


def list_parts(staging_dir: str) -> list[StagedPart]:
    """The complete parts under ``staging_dir`` (those with a manifest), in path order."""
    pattern = FileSystems.join(staging_dir, "*", MANIFEST)
    parts = []
    for result in FileSystems.match([pattern]):
        for metadata in result.metadata_list:
            with FileSystems.open(metadata.path) as manifest_file:
                manifest = json.loads(manifest_file.read())
            path = metadata.path[: -len(MANIFEST) - 1]
            parts.append(
                StagedPart(
                    path, manifest["events"], manifest["dead_letters"], tuple(manifest["tables"])
                )
            )
    return sorted(parts, key=lambda part: part.path)


def read_table(part: StagedPart, name: str) -> pa.Table | None:
    if name not in part.tables:
        return None
    with FileSystems.open(FileSystems.join(part.path, f"{name}.parquet")) as data:
        return pq.read_table(data)


@dataclass(frozen=True)
class StagedEvent(TaggedEvent):
    """A tagged event rebuilt from its staged identity, for the store's conflict check.

    Only what a store reads from a batch's records is real here: the event's id, type,
    time and schema version, its content hash and its message as received. Its rows
    (text, sentiment, causes) were built by the worker and travel in the batch's rows.
    """

    staged_sha256: str = ""

    @property
    def payload_sha256(self) -> str:  # type: ignore[override]
        return self.staged_sha256


_NO_SENTIMENT = SentimentScore(0.0, "neutral")


def staged_event(row: Row) -> StagedEvent:
    message = ReceivedMessage(
        data=row["data"],
        attributes=json.loads(row["attributes"]),
        message_id=row["message_id"] or "",
        publish_time=row["published_at"],
    )
    event = FeedbackEvent(
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        event_id=row["event_id"],
        interaction_id="",
        event_time=row["event_time"],
        payload={},
        message=message,
    )
    return StagedEvent(
        event=event,
        text="",
        sentiment=_NO_SENTIMENT,
        causes=(),
        taxonomy_version=0,
        redactions=0,
        staged_sha256=row["payload_sha256"],
    )


def batch_of_parts(parts: list[StagedPart], now: datetime) -> WriteBatch:
    """One WriteBatch holding every row of the parts, in staging order."""
    batch = WriteBatch(now)
    for part in parts:
        messages = read_table(part, MESSAGES)
        if messages is not None:
            batch.records.extend(staged_event(row) for row in messages.to_pylist())
        for table in TABLES:
            staged = read_table(part, table.name)
            if staged is not None:
                batch.rows[table.name].extend(staged.to_pylist())
    return batch


def transactions(
    parts: list[StagedPart], events_per_transaction: int
) -> Iterator[list[StagedPart]]:
    """Consecutive groups of whole parts of about ``events_per_transaction`` records."""
    group: list[StagedPart] = []
    size = 0
    for part in parts:
        group.append(part)
        size += part.events + part.dead_letters
        if size >= events_per_transaction:
            yield group
            group, size = [], 0
    if group:
        yield group


@dataclass
class LoadReport:
    parts: int = 0
    events: int = 0  # staged events (every valid event read, repeats included)
    dead_letters: int = 0  # staged dead letters (read, parse and tag failures)
    new_rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def stored(self) -> int:
        return sum(self.new_rows.get(t.name, 0) for t in TABLES if t.holds_events)


class Store(Protocol):
    """What loading needs of a store: DuckDBStore, and any store with its write contract."""

    def write(self, batch: WriteBatch) -> WriteResult: ...


def load_staged(
    store: Store,
    staging_dir: str,
    events_per_transaction: int = DEFAULT_EVENTS_PER_TRANSACTION,
) -> LoadReport:
    """Load every complete part into ``store``, one transaction per group of parts."""
    started = datetime.now(UTC)
    report = LoadReport(new_rows={t.name: 0 for t in TABLES})
    parts = list_parts(staging_dir)
    for group in transactions(parts, events_per_transaction):
        batch = batch_of_parts(group, datetime.now(UTC))
        result = store.write(batch)
        for name in report.new_rows:
            report.new_rows[name] += result.get(name, 0)
        report.parts += len(group)
        report.events += sum(p.events for p in group)
        report.dead_letters += sum(p.dead_letters for p in group)
    report.seconds = (datetime.now(UTC) - started).total_seconds()
    return report
