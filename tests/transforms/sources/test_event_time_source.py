"""The batched source follows event time, against the real Pub/Sub emulator.

Messages carry ``event_time`` attributes days in the past, as a backlog or a replay
does; the elements must carry those times and the watermark must follow them, not
the wall clock (which would make every one of them late).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.transforms import window
from google.cloud import pubsub_v1

from voc.transforms.sources.pull_pubsub import PullSession
from voc.transforms.sources.read_feedback import ReadFeedback
from voc.transforms.sources.session_registry import acknowledge_committed
from voc.transforms.sources.source_watermark import WATERMARK_MIN, epoch_micros

pytestmark = pytest.mark.integration

BOUND = timedelta(minutes=10)


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def publish(topology, topic: str, event_times: list[datetime | str | None], start: int = 0):
    """One message per event time (an RFC 3339 text as is, None: no attribute), with
    attribute n = its index; returns the publish times the service assigned, by n."""
    publisher = pubsub_v1.PublisherClient(
        batch_settings=pubsub_v1.types.BatchSettings(max_messages=500, max_latency=0.02)
    )
    path = publisher.topic_path(topology.project, topology.topics[topic])
    futures = []
    for i, event_time in enumerate(event_times, start):
        attributes = {"n": str(i)}
        if isinstance(event_time, datetime):
            attributes["event_time"] = rfc3339(event_time)
        elif event_time is not None:
            attributes["event_time"] = event_time
        futures.append(publisher.publish(path, b"m%d" % i, **attributes))
    for future in futures:
        future.result(timeout=30)
    publisher.stop()


@pytest.fixture
def session(session):
    """The shared session factory, with this module's watermark bound."""
    return lambda **kwargs: session(max_out_of_orderness=BOUND, **kwargs)


def pull_for(session: PullSession, seconds: float, want: int = 0) -> list:
    """Pull for ``seconds`` (and at least until ``want`` messages came)."""
    got = []
    deadline = time.monotonic() + seconds
    hard_deadline = time.monotonic() + seconds + 30
    while time.monotonic() < deadline or (len(got) < want and time.monotonic() < hard_deadline):
        batch = session.pull_timed_batch()
        got.extend(batch)
        if not batch:
            time.sleep(0.02)
    acknowledge_committed(t.message.ack for t in got)
    return got


def hour_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


# -- the session -------------------------------------------------------------------


def test_elements_carry_their_event_times_and_the_watermark_follows_them(pubsub_topology, session):
    base = hour_start(datetime.now(UTC) - timedelta(days=3))
    surveys = [base + timedelta(minutes=20, seconds=i) for i in range(120)]
    notes = [base - timedelta(days=2) + timedelta(seconds=i) for i in range(80)]
    publish(pubsub_topology, "surveys", surveys)
    publish(pubsub_topology, "agent-notes", notes, start=1000)
    # Neither subscription goes idle within the test: both hold the watermark.
    pulling = session(subscription_idle_seconds=600, all_idle_seconds=600)
    assert pulling.watermark == WATERMARK_MIN

    got = pull_for(pulling, 0.5, want=200)

    expected = {str(i): t for i, t in enumerate(surveys)} | {
        str(1000 + i): t for i, t in enumerate(notes)
    }
    assert len(got) == 200
    assert {t.message.attributes["n"]: t.timestamp_micros for t in got} == {
        n: epoch_micros(t) for n, t in expected.items()
    }
    # The slower subscription (the notes, two days further back) holds it, at the
    # median of a pull of them (one outlier cannot carry it), never past their newest.
    assert min(notes) - BOUND <= pulling.watermark <= max(notes) - BOUND
    assert pulling.watermark < datetime.now(UTC) - timedelta(days=4)


def test_an_idle_subscription_stops_holding_the_watermark(pubsub_topology, session):
    newest = datetime.now(UTC) - timedelta(days=2)
    publish(pubsub_topology, "surveys", [newest - timedelta(minutes=i) for i in range(30)])
    pulling = session(subscription_idle_seconds=0.3, all_idle_seconds=600)
    pull_for(pulling, 1.0, want=30)
    # The notes subscription answered empty for 0.3 s and more: it is idle, and the
    # surveys alone set the watermark (at their pull's median, not held at the minimum).
    oldest = newest - timedelta(minutes=29)
    assert oldest - BOUND <= pulling.watermark <= newest - BOUND


def test_when_every_subscription_is_idle_the_watermark_follows_the_wall_clock(
    pubsub_topology, session
):
    publish(pubsub_topology, "surveys", [datetime.now(UTC) - timedelta(days=3)])
    pulling = session(subscription_idle_seconds=0.2, all_idle_seconds=0.5)
    before = datetime.now(UTC)
    pull_for(pulling, 1.5, want=1)
    assert before - BOUND <= pulling.watermark <= datetime.now(UTC) - BOUND


def test_before_any_event_time_is_read_the_watermark_stays_at_the_minimum(pubsub_topology, session):
    # Messages without a usable event time are stamped with their publish time, which
    # must not move the watermark (the parse step dead-letters them).
    publish(pubsub_topology, "surveys", [None, "not a time", "2025-01-01T00:00:00"])
    pulling = session(subscription_idle_seconds=0.1, all_idle_seconds=0.2)
    got = pull_for(pulling, 1.0, want=3)
    assert len(got) == 3
    for timed in got:
        assert timed.timestamp_micros == epoch_micros(timed.message.publish_time)
    # Idle for long past both thresholds, yet nothing to close: it stays put.
    assert pulling.watermark == WATERMARK_MIN


def test_an_event_in_the_future_does_not_push_the_watermark_past_the_wall_clock(
    pubsub_topology, session
):
    future = datetime.now(UTC) + timedelta(hours=20)
    publish(pubsub_topology, "surveys", [future])
    publish(pubsub_topology, "agent-notes", [future], start=1)
    pulling = session(subscription_idle_seconds=600, all_idle_seconds=600)
    before = datetime.now(UTC)
    got = pull_for(pulling, 0.3, want=2)
    assert {t.timestamp_micros for t in got} == {epoch_micros(future)}
    assert before - BOUND <= pulling.watermark <= datetime.now(UTC) - BOUND


# -- the pipeline ------------------------------------------------------------------

# What the test pipelines saw, by session id (the DirectRunner runs in this process).
_SEEN: dict[str, list] = defaultdict(list)
_SEEN_LOCK = threading.Lock()


class RecordAndCommit(beam.DoFn):
    """Records each element's timestamp, then acknowledges like the sink does."""

    def __init__(self, key: str) -> None:
        self.key = key

    def start_bundle(self):
        self.buffer = []

    def process(self, message, timestamp=beam.DoFn.TimestampParam):
        self.buffer.append(message)
        with _SEEN_LOCK:
            _SEEN[self.key].append((message.attributes["n"], timestamp.micros))
        yield message

    def finish_bundle(self):
        acknowledge_committed(m.ack for m in self.buffer)


class CountPanes(beam.DoFn):
    def __init__(self, key: str) -> None:
        self.key = key

    def process(self, grouped, win=beam.DoFn.WindowParam):
        with _SEEN_LOCK:
            _SEEN[f"{self.key}/panes"].append((win.start.micros, len(list(grouped[1]))))


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_backlog_days_old_is_windowed_by_event_time_and_not_late(pubsub_topology, session):
    """Two deliveries into the same hour, three days ago: the second arrives after the
    first moved the watermark, up to 5 minutes older than what was read before it.
    With the wall clock as watermark the hour would have closed after the first
    delivery and the second been dropped as late."""
    hour = hour_start(datetime.now(UTC) - timedelta(days=3))
    first = [hour + timedelta(minutes=30, seconds=i) for i in range(150)]
    second = [hour + timedelta(minutes=25, seconds=i) for i in range(50)]
    publish(pubsub_topology, "surveys", first)
    pulling = session(
        stop_when_idle_seconds=3.0,
        max_batch=1000,
        max_linger_seconds=0.3,
        subscription_idle_seconds=0.3,
        all_idle_seconds=600,
    )
    key = pulling.session_id

    p = beam.Pipeline(options=PipelineOptions(runner="BundleBasedDirectRunner", streaming=True))
    subscriptions = list(pubsub_topology.subscriptions.values())
    (
        p
        | ReadFeedback(subscriptions, session_id=pulling.session_id)
        | beam.ParDo(RecordAndCommit(key))
        | beam.WindowInto(window.FixedWindows(3600))
        | beam.Map(lambda m: ("all", m.attributes["n"]))
        | beam.GroupByKey()
        | beam.ParDo(CountPanes(key))
    )
    result = p.run()
    # The first delivery is read and the watermark follows it (once the empty notes
    # subscription counts as idle), before the second one is published.
    wait_for(lambda: pulling.stats.acknowledged == 150)
    wait_for(lambda: pulling.watermark >= min(first) - BOUND)
    publish(pubsub_topology, "surveys", second, start=150)
    result.wait_until_finish()  # drained by the idle stop

    expected = {str(i): epoch_micros(t) for i, t in enumerate(first + second)}
    assert dict(_SEEN[key]) == expected
    assert len(_SEEN[key]) == 200
    # One pane for the hour, with both deliveries in it.
    assert _SEEN[f"{key}/panes"] == [(epoch_micros(hour), 200)]
    # Reading older events did not move it back, and it never became the wall clock.
    assert min(first) - BOUND <= pulling.watermark <= max(first) - BOUND
