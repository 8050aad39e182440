"""The streaming job: Pub/Sub -> parse/validate -> tag -> DuckDB, then the event-time branches.

    voc run --duckdb voc.duckdb --stop-when-idle 5     # local, against the emulator
    voc run --runner DataflowRunner --project P ...    # same graph on Dataflow

    ReadFeedback -> ParseTagAndStore(sink = WriteToDuckDB) -> stored facts
    stored facts (+ the recent facts replayed at a start) -> DeriveFromFacts -> WriteDerived

This module only wires the graph; the steps live in ``transforms/`` and the
shared part after the source in :mod:`voc.pipelines.parse_tag_and_store`. How
a local run is driven (the pull session, signals, progress, the replay at a
start) is :mod:`voc.pipelines.local_driver`.
"""

from __future__ import annotations

from datetime import datetime

import apache_beam as beam

from voc.pipelines.options import IN_PROCESS_RUNNERS, JobConfig
from voc.pipelines.parse_tag_and_store import ParseTagAndStore
from voc.transforms.derived.derive_from_facts import DeriveFromFacts
from voc.transforms.sinks.stored_facts import ReplayStoredFacts
from voc.transforms.sinks.tables import SinkSettings
from voc.transforms.sinks.write_derived import WriteDerived
from voc.transforms.sinks.write_duckdb import WriteToDuckDB
from voc.transforms.sources.read_feedback import EVENT_TIME_ATTRIBUTE, ReadFeedback


def build_pipeline(
    p: beam.Pipeline,
    config: JobConfig,
    session_id: str | None = None,
    replay: tuple[datetime, datetime] | None = None,
) -> dict:
    """Wire the job; returns its named PCollections so tests can assert on them.

    ``replay`` = (since, stored_before): the stored facts the derived branches'
    state is rebuilt from before new ones arrive (state lives in memory here).
    """
    messages = p | "ReadFeedback" >> ReadFeedback(
        config.subscriptions,
        session_id=session_id,
        id_label=config.id_attribute,
        # Beam's in-process read fails a whole bundle on one unparseable event_time
        # attribute instead of letting the parser dead-letter that message.
        timestamp_attribute=None if config.runner in IN_PROCESS_RUNNERS else EVENT_TIME_ATTRIBUTE,
    )
    sink = WriteToDuckDB(
        config.duckdb,
        config.stop_grace,
        SinkSettings(recovery_due=config.recovery_due),
        lake=config.lake,  # --sink ducklake
    )
    outputs = messages | "ParseTagAndStore" >> ParseTagAndStore(
        sink, config.taxonomy, config.parse_limits, config.pseudonym_key, config.model
    )
    if not config.derived:
        return outputs
    facts = outputs["stored"]
    if replay is not None:
        replayed = p | "ReplayStoredFacts" >> ReplayStoredFacts(
            config.duckdb, *replay, lake=config.lake
        )
        facts = (facts, replayed) | "WithReplayedFacts" >> beam.Flatten()
    derived = facts | "DeriveFromFacts" >> DeriveFromFacts(config.event_time)
    derived["rows"] | "StoreDerived" >> WriteDerived(config.duckdb, config.lake)
    return outputs | {f"derived_{name}": pcoll for name, pcoll in derived.items()}
