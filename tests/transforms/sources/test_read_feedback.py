"""The batched, ack-after-commit source against the real Pub/Sub emulator."""

from __future__ import annotations

import time

import apache_beam as beam
import pytest
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from google.cloud import pubsub_v1

from voc.transforms.sources.pull_pubsub import (
    PULL_RESPONSE_BUDGET_BYTES,
    PullSession,
    messages_per_pull,
)
from voc.transforms.sources.read_feedback import ReadFeedback
from voc.transforms.sources.session_registry import acknowledge_committed

pytestmark = pytest.mark.integration


def publish(topology, topic: str, count: int, start: int = 0) -> None:
    publisher = pubsub_v1.PublisherClient(
        batch_settings=pubsub_v1.types.BatchSettings(max_messages=500, max_latency=0.02)
    )
    path = publisher.topic_path(topology.project, topology.topics[topic])
    futures = [publisher.publish(path, b"m%d" % i, n=str(i)) for i in range(start, start + count)]
    for future in futures:
        future.result(timeout=30)
    publisher.stop()


def drain(session: PullSession, want: int, timeout: float = 20) -> list:
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        batch = session.pull_batch()
        got.extend(batch)
        if not batch:
            time.sleep(0.05)
    return got


def test_pulls_bundles_much_larger_than_one_request(pubsub_topology, session):
    publish(pubsub_topology, "surveys", 1500)
    pulled = session(max_batch=1000, max_linger_seconds=2.0)
    first = pulled.pull_batch()
    # The emulator returns at most 100 per request; the session fills the bundle.
    assert len(first) == 1000
    assert pulled.outstanding == 1000
    assert {m.data for m in first} <= {b"m%d" % i for i in range(1500)}


def test_flow_control_caps_messages_in_flight(pubsub_topology, session):
    publish(pubsub_topology, "surveys", 400)
    pulled = session(max_batch=1000, max_outstanding=250, max_linger_seconds=1.0)
    assert len(pulled.pull_batch()) == 250
    assert pulled.pull_batch() == []
    assert pulled.outstanding == 250


def test_unacked_messages_come_back_and_acked_ones_do_not(pubsub_topology, session):
    publish(pubsub_topology, "agent-notes", 50)
    first = session(ack_extension_seconds=10, max_linger_seconds=1.0)
    batch = drain(first, 50)
    assert len(batch) == 50
    acknowledge_committed(m.ack for m in batch[:20])
    # A crashed reader: it stops extending leases and never acks the other 30.
    first.mark_finished()
    second = session(max_linger_seconds=1.0)
    again = drain(second, 30, timeout=40)
    assert sorted(m.data for m in again) == sorted(m.data for m in batch[20:])


def test_pipeline_drains_and_finishes_by_itself(pubsub_topology, session):
    publish(pubsub_topology, "surveys", 700)
    publish(pubsub_topology, "agent-notes", 300)
    pulled = session(stop_when_idle_seconds=1.5, max_batch=1000, max_linger_seconds=0.5)

    class CommitFn(beam.DoFn):
        def __init__(self):
            self.seen = Metrics.counter("test", "seen")
            self.bundles = Metrics.distribution("test", "bundle")

        def start_bundle(self):
            self.buffer = []

        def process(self, message):
            self.buffer.append(message)

        def finish_bundle(self):
            acknowledge_committed(m.ack for m in self.buffer)
            self.seen.inc(len(self.buffer))
            if self.buffer:
                self.bundles.update(len(self.buffer))

    options = PipelineOptions(runner="BundleBasedDirectRunner", streaming=True)
    p = beam.Pipeline(options=options)
    subscriptions = list(pubsub_topology.subscriptions.values())
    p | ReadFeedback(subscriptions, session_id=pulled.session_id) | beam.ParDo(CommitFn())
    result = p.run()
    result.wait_until_finish()  # returns only because the source drained and ended

    metrics = result.metrics().query(MetricsFilter().with_namespace("test"))
    assert sum(c.committed for c in metrics["counters"]) == 1000
    assert pulled.stats.acknowledged == 1000
    assert pulled.outstanding == 0
    bundle = metrics["distributions"][0].committed
    assert bundle.max > 100, "bundles must be larger than one Pub/Sub pull"


def test_a_failed_acknowledgement_after_commit_is_logged_not_raised(
    pubsub_topology, session, caplog
):
    """The rows are committed; an acknowledgement the service refuses only means a
    redelivery (a no-op for the keyed sink), so it must not fail the bundle."""
    publish(pubsub_topology, "surveys", 5)
    pulling = session(max_batch=5)
    messages = drain(pulling, 5)
    pubsub_v1.SubscriberClient().delete_subscription(
        request={"subscription": pubsub_topology.subscriptions["surveys"]}
    )
    pulling.acknowledge([m.ack for m in messages])
    assert pulling.outstanding == 0 and pulling.stats.ack_failures == 5
    assert "they will be delivered again" in caplog.text


@pytest.mark.parametrize(
    ("room", "largest", "expected"),
    [
        (5000, 0, 1000),  # nothing seen yet: Pub/Sub's own maximum
        (300, 2_000, 300),  # small messages: as many as there is room for
        (5000, 9_990_000, 6),  # near Pub/Sub's 10 MB limit: ~64 MiB per response
        (5000, 100_000_000, 1),  # always at least one
    ],
)
def test_a_pull_asks_for_fewer_messages_after_large_ones(room, largest, expected):
    assert messages_per_pull(room, largest) == expected
    assert messages_per_pull(room, largest) * max(largest, 1) <= max(
        PULL_RESPONSE_BUDGET_BYTES, largest
    )


def test_large_messages_are_pulled_in_small_responses(pubsub_topology, session):
    publisher = pubsub_v1.PublisherClient()
    path = publisher.topic_path(pubsub_topology.project, pubsub_topology.topics["surveys"])
    for _ in range(3):
        publisher.publish(path, b"x" * 6_000_000).result(timeout=60)
    publish(pubsub_topology, "surveys", 20)
    pulling = session(max_batch=100)
    got = drain(pulling, 23, timeout=60)
    assert sorted(len(m.data) for m in got)[-3:] == [6_000_000] * 3 and len(got) == 23
