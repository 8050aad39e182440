"""Nothing stuck: oversized messages, a subscription that fails mid-run, stops that end.

Real conditions against the real emulator: a 5 MB message (above gRPC's default
4 MiB receive limit, below Pub/Sub's 10 MB), several ~900 KB ones that only fit
a pull together, and a subscription deleted under the running job.
"""

from __future__ import annotations

import json
import signal

import duckdb
import pytest
from google.cloud import pubsub_v1

from tests.integration.test_sink_outages import publish, start_job
from voc.pipelines.dev.chaos import compare, observed_outcome
from voc.pipelines.dev.generate import generate_events
from voc.pipelines.ops.publish import publish_messages
from voc.transforms.parse_event import TOO_LARGE_KEPT_BYTES

pytestmark = pytest.mark.integration

SURVEY_ATTRIBUTES = {
    "event_type": "survey",
    "schema_version": "1",
    "event_time": "2026-01-05T10:00:00Z",
}


def big_survey(comment_bytes: int) -> bytes:
    return json.dumps({"event_id": f"big-{comment_bytes}", "comment": "x" * comment_bytes}).encode()


def publish_raw(topology, payloads: list[bytes]) -> list[str]:
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(topology.project, topology.topics["surveys"])
    return [publisher.publish(topic, p, **SURVEY_ATTRIBUTES).result(60) for p in payloads]


def dead_letters_by_message(db: str) -> dict[str, tuple[str, int, str]]:
    with duckdb.connect(db, read_only=True) as con:
        rows = con.execute(
            "select message_id, reason, octet_length(data), error from dead_letters"
        ).fetchall()
    return {message_id: (reason, size, error) for message_id, reason, size, error in rows}


def test_oversized_messages_are_dead_letters_and_the_stream_flows(
    pubsub_emulator, pubsub_topology, tmp_path
):
    db = str(tmp_path / "voc.duckdb")
    huge_id, *large_ids = publish_raw(
        pubsub_topology, [big_survey(5_000_000)] + [big_survey(900_000)] * 6
    )
    expected = publish(pubsub_topology, 200, seed=31)
    job = start_job(pubsub_topology, pubsub_emulator, db, "--stop-when-idle=3")
    assert job.wait(timeout=180) == 0, "\n".join(job.lines[-20:])
    said = "\n".join(job.lines)
    assert "Traceback" not in said and "ResourceExhausted" not in said

    tables = compare(expected, observed_outcome(db))
    for table in ("surveys", "agent_notes", "tags"):
        assert tables[table]["missing"] == tables[table]["doubled"] == 0, tables[table]
        assert tables[table]["extra"] == 0, tables[table]
    dead = dead_letters_by_message(db)
    reason, kept, error = dead[huge_id]
    assert (reason, kept) == ("too_large", TOO_LARGE_KEPT_BYTES)
    assert "5,000,0" in error and "sha256" in error
    # Under the limit, the large ones are parsed like any message (and fail their contract).
    assert {dead[i][:2] for i in large_ids} == {("schema_violation", len(big_survey(900_000)))}


def surveys_published(n: int, seed: int) -> int:
    messages, _ = generate_events(n, seed=seed)
    return sum(1 for m in messages if m.topic == "surveys")


def delete_notes_subscription(topology) -> None:
    pubsub_v1.SubscriberClient().delete_subscription(
        request={"subscription": topology.subscriptions["agent-notes"]}
    )


def test_a_subscription_failing_mid_run_strands_nothing_and_sigterm_ends_the_job(
    pubsub_emulator, pubsub_topology, tmp_path
):
    db = str(tmp_path / "voc.duckdb")
    job = start_job(pubsub_topology, pubsub_emulator, db, "--stop-grace=5")
    job.wait_for(r"committed\s+0\b")  # running, and nothing published yet
    delete_notes_subscription(pubsub_topology)
    job.wait_for(r"pulling \S+ failed")
    messages, _ = generate_events(300, seed=32)
    publish_messages(messages, pubsub_topology.project, topics=pubsub_topology.topics)
    surveys = surveys_published(300, seed=32)
    job.wait_for(rf"committed\s+{surveys:,}\b", timeout=60)

    job.process.send_signal(signal.SIGTERM)
    # --stop-grace 5: drained and acknowledged (exit 0) well within it.
    assert job.wait(timeout=5 + 15) == 0, "\n".join(job.lines[-20:])
    with duckdb.connect(db, read_only=True) as con:
        stored = con.execute(
            "select (select count(*) from surveys) + (select count(*) from dead_letters)"
        ).fetchone()[0]
    duplicates = sum(1 for m in messages if m.topic == "surveys" and m.kind == "duplicate")
    assert stored == surveys - duplicates


def test_pulls_that_keep_failing_stop_an_idle_limited_job_with_an_error(
    pubsub_emulator, pubsub_topology, tmp_path
):
    db = str(tmp_path / "voc.duckdb")
    job = start_job(pubsub_topology, pubsub_emulator, db, "--stop-when-idle=3")
    job.wait_for(r"committed\s+0\b")
    delete_notes_subscription(pubsub_topology)
    assert job.wait(timeout=60) == 1, "\n".join(job.lines[-20:])
    assert job.lines[-1].startswith("voc run: pulls kept failing for"), job.lines[-1]
    assert "Traceback" not in "\n".join(job.lines)
