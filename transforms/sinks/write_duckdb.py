"""Write tagged events and dead letters to DuckDB, then acknowledge them.

The order is the whole point: rows are committed first and the Pub/Sub
messages acknowledged after. A crash between the two makes Pub/Sub deliver the
message again, and the store's keys turn that redelivery into a no-op; the
other order would lose the message. Each bundle is one transaction, so a bundle
is either entirely stored (and then acked) or not at all. A write that fails on a
locked file or a full disk is retried with backoff (:mod:`voc.transforms.sinks.retry_sink`);
until it succeeds nothing is acknowledged. Given a lake (``--sink ducklake``) the same
bundles go to :class:`~voc.transforms.sinks.ducklake_store.DuckLakeStore`, which keeps
the same write contract for many writer processes.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import Timestamp
from apache_beam.utils.windowed_value import WindowedValue

from voc.transforms.records import AckHandle, DeadLetter, TaggedEvent, stored_fact
from voc.transforms.sinks.duckdb_store import build_batch, shared_store
from voc.transforms.sinks.ducklake_catalog import LakeSpec
from voc.transforms.sinks.ducklake_store import shared_lake_store
from voc.transforms.sinks.retry_sink import retry_transient
from voc.transforms.sinks.tables import DEAD_LETTERS, DEFAULT_SINK_SETTINGS, TABLES, SinkSettings
from voc.transforms.sources.session_registry import acknowledge_committed, sessions_of
from voc.transforms.sources.source_watermark import epoch_micros


class WriteBundleFn(beam.DoFn):
    """Buffers a bundle, writes it in one transaction, then acks its messages."""

    def __init__(
        self,
        db_path: str,
        stop_grace: float = 30.0,
        settings: SinkSettings = DEFAULT_SINK_SETTINGS,
        lake: LakeSpec | None = None,
    ) -> None:
        self.db_path = db_path
        # --sink ducklake: the same batches go to this lake instead of the file.
        self.lake = lake
        # Options the row builders need (the recovery items' due time).
        self.settings = settings
        # How long a stopping job keeps retrying a write that fails on a locked file
        # or a full disk before it gives up (leaving those messages unacknowledged).
        self.stop_grace = stop_grace
        self.rows_new = {
            table.name: Metrics.counter("voc.sink", f"{table.name}_new") for table in TABLES
        }
        self.redeliveries = Metrics.counter("voc.sink", "redeliveries_ignored")
        self.batch_size = Metrics.distribution("voc.sink", "batch_size")

    def setup(self) -> None:
        self.store = shared_lake_store(self.lake) if self.lake else shared_store(self.db_path)

    def _stopping_for_too_long(self) -> bool:
        """Keep retrying while the job runs; once it is asked to stop, only for a grace
        period, so a drain on a full disk ends (unacknowledged) instead of hanging."""
        return any(
            session.stop_requested and session.stopping_for() >= self.stop_grace
            for session in sessions_of(_ack_handles(self.pending))
        )

    def start_bundle(self) -> None:
        self.pending: list[TaggedEvent | DeadLetter] = []

    def process(self, record: TaggedEvent | DeadLetter) -> None:
        self.pending.append(record)

    def finish_bundle(self) -> None:
        if not self.pending:
            return
        batch = build_batch(self.pending, settings=self.settings)
        result = retry_transient(
            lambda: self.store.write(batch),
            what=f"writing {len(batch):,} rows to {self.store.path}",
            give_up=self._stopping_for_too_long,
        )
        acknowledge_committed(_ack_handles(self.pending))
        # Only now, committed and acknowledged, do the events' facts go on to the
        # derived branches; a redelivery stored nothing and sends nothing.
        stored: dict[str, TaggedEvent] = {}
        for record in self.pending:
            if isinstance(record, TaggedEvent) and record.event.event_id in result.new_event_ids:
                stored.setdefault(record.event.event_id, record)
        for name, counter in self.rows_new.items():
            counter.inc(result[name])
        # Each message makes one fact or one dead letter; the rest were known keys.
        new_facts = sum(result[table.name] for table in TABLES if table.holds_events)
        self.redeliveries.inc(len(batch) - new_facts - result[DEAD_LETTERS.name])
        self.batch_size.update(len(self.pending))
        self.pending = []
        for tagged in stored.values():
            yield WindowedValue(
                stored_fact(tagged),
                Timestamp(micros=epoch_micros(tagged.event.event_time)),
                (GlobalWindow(),),
            )


def _ack_handles(records: list[TaggedEvent | DeadLetter]) -> list[AckHandle | None]:
    return [
        record.ack if isinstance(record, DeadLetter) else record.event.message.ack
        for record in records
    ]


class WriteToDuckDB(beam.PTransform):
    """Sink for PCollection[TaggedEvent | DeadLetter]; its output is the StoredFact of
    each event it stored for the first time, at the event's time, after the commit."""

    def __init__(
        self,
        db_path: str,
        stop_grace: float = 30.0,
        settings: SinkSettings = DEFAULT_SINK_SETTINGS,
        lake: LakeSpec | None = None,
    ) -> None:
        super().__init__()
        self.db_path = db_path
        self.stop_grace = stop_grace
        self.settings = settings
        self.lake = lake

    def expand(self, records):
        return records | "WriteBundles" >> beam.ParDo(
            WriteBundleFn(self.db_path, self.stop_grace, self.settings, self.lake)
        )
