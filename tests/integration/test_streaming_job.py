"""End to end: generator -> real Pub/Sub emulator -> streaming job -> DuckDB file."""

from __future__ import annotations

import re

import duckdb
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from voc.pipelines.dev.generate import generate_events
from voc.pipelines.local_driver import run_job
from voc.pipelines.ops.publish import publish_messages
from voc.pipelines.options import job_flags

pytestmark = pytest.mark.integration

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")


def job_options(topology, db_path, *extra: str) -> PipelineOptions:
    return PipelineOptions(
        [
            *job_flags(topology.project, topology.subscriptions, db_path),
            "--stop-when-idle=1.5",
            "--max-linger=0.2",
            *extra,
        ]
    )


@pytest.fixture(scope="module")
def generated():
    return generate_events(1200, seed=11)


def test_job_loads_every_event_once_and_dead_letters_the_rest(pubsub_topology, tmp_path, generated):
    messages, report = generated
    db_path = tmp_path / "voc.duckdb"
    publish_messages(messages, pubsub_topology.project, topics=pubsub_topology.topics)

    run = run_job(job_options(pubsub_topology, db_path))
    assert run.acknowledged == report.messages

    with duckdb.connect(str(db_path), read_only=True) as con:
        count = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        assert count("select count(*) from surveys") == report.valid_surveys
        assert count("select count(*) from agent_notes") == report.valid_notes
        assert count("select count(*) from dead_letters") == report.malformed
        # Every stored event has at least one tag (a cause or 'unclassified').
        assert count("select count(distinct event_id) from feedback_tags") == (
            report.valid_surveys + report.valid_notes
        )
        # Dead letters keep the raw bytes exactly as published.
        malformed = {m.data for m in messages if m.kind == "malformed"}
        stored = {row[0] for row in con.execute("select data from dead_letters").fetchall()}
        assert stored == malformed
        assert count("select count(*) from dead_letters where reason = '' or error = ''") == 0
        # No PII in department-facing text.
        texts = con.execute(
            "select comment from surveys union all select note from agent_notes "
            "union all select evidence from feedback_tags"
        ).fetchall()
        assert not [t for (t,) in texts if EMAIL.search(t) or CARD.search(t)]
        assert (
            count(
                "select count(*) from surveys where comment like '%<EMAIL>%' "
                "or comment like '%<CARD>%' or comment like '%<PHONE>%'"
            )
            + count(
                "select count(*) from agent_notes where note like '%<EMAIL>%' "
                "or note like '%<CARD>%' or note like '%<PHONE>%'"
            )
            > 0
        )


def fact_counts(db_path) -> tuple[int, int, int]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(
            "select (select count(*) from surveys), (select count(*) from agent_notes), "
            "(select count(*) from feedback_tags)"
        ).fetchone()


def test_redelivering_everything_adds_no_rows(pubsub_topology, tmp_path, generated):
    messages, report = generated
    db_path = tmp_path / "voc.duckdb"
    publish_messages(messages, pubsub_topology.project, topics=pubsub_topology.topics)
    run_job(job_options(pubsub_topology, db_path))
    before = fact_counts(db_path)

    # Every valid message again, as Pub/Sub would after a crash before acking.
    publish_messages(
        [m for m in messages if m.kind != "malformed"],
        pubsub_topology.project,
        topics=pubsub_topology.topics,
    )
    run_job(job_options(pubsub_topology, db_path))
    assert fact_counts(db_path) == before
    assert before[:2] == (report.valid_surveys, report.valid_notes)
