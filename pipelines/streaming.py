"""The streaming job: Pub/Sub -> parse/validate -> tag -> DuckDB.

    voc run --duckdb voc.duckdb --stop-when-idle 5     # local, against the emulator
    voc run --runner DataflowRunner --project P ...    # same graph on Dataflow

    ReadFeedback -> ParseTagAndStore(sink = WriteToDuckDB)

This module only wires the graph; the steps live in ``transforms/`` and the
shared part after the source in :mod:`voc.pipelines.parse_tag_and_store`. How
a local run is driven (the pull session, signals, progress) is
:mod:`voc.pipelines.local_driver`.
"""

from __future__ import annotations

import apache_beam as beam

from voc.pipelines.options import JobConfig
from voc.pipelines.parse_tag_and_store import ParseTagAndStore
from voc.transforms.sinks.write_duckdb import WriteToDuckDB
from voc.transforms.sources.read_feedback import ReadFeedback


def build_pipeline(p: beam.Pipeline, config: JobConfig, session_id: str | None = None) -> dict:
    """Wire the job; returns its named PCollections so tests can assert on them."""
    messages = p | "ReadFeedback" >> ReadFeedback(
        config.subscriptions, session_id=session_id, id_label=config.id_attribute
    )
    sink = WriteToDuckDB(config.duckdb, config.stop_grace)
    return messages | "ParseTagAndStore" >> ParseTagAndStore(
        sink, config.taxonomy, config.parse_limits, config.pseudonym_key, config.model
    )
