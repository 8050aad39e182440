"""The batched source's event-time rule, without Pub/Sub: timestamps and the watermark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.utils.timestamp import MIN_TIMESTAMP, Timestamp

from voc.transforms.records import ReceivedMessage
from voc.transforms.sources.direct_pull_evaluator import beam_watermark
from voc.transforms.sources.read_feedback import ReadFeedback
from voc.transforms.sources.source_watermark import (
    WATERMARK_MIN,
    SubscriptionProgress,
    attribute_event_time,
    epoch_micros,
    minus,
    next_watermark,
    stamp_messages,
)

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
BOUND = timedelta(minutes=10)
MINUTE = timedelta(minutes=1)


def at(newest: datetime | None, empty_for: float = 0.0) -> SubscriptionProgress:
    return SubscriptionProgress(newest, empty_for)


def step(progress, previous=WATERMARK_MIN, now=NOW) -> datetime:
    return next_watermark(progress, previous, bound=BOUND, now=now)


# -- the watermark rule ---------------------------------------------------------


def test_the_watermark_trails_the_newest_event_time_by_the_bound():
    newest = NOW - timedelta(days=3)
    assert step([at(newest)]) == newest - BOUND


def test_an_event_out_of_order_within_the_bound_is_not_late():
    read_first = NOW - timedelta(days=3)
    watermark = step([at(read_first)])
    # Read after it, 9 minutes older: still ahead of the watermark.
    later_read = read_first - 9 * MINUTE
    assert later_read > watermark
    # The newest event time does not go back, so neither does the watermark.
    assert step([at(read_first)], previous=watermark) == watermark
    # 11 minutes older would be late.
    assert read_first - 11 * MINUTE < watermark


def test_the_slowest_subscription_holds_the_watermark():
    surveys, notes = NOW - timedelta(days=1), NOW - timedelta(days=5)
    assert step([at(surveys), at(notes)]) == notes - BOUND
    assert step([at(notes), at(surveys)]) == notes - BOUND


def test_an_idle_subscription_does_not_hold_the_watermark():
    surveys, notes = NOW - timedelta(days=1), NOW - timedelta(days=5)
    # Empty for a second or more: idle.
    assert step([at(surveys), at(notes, empty_for=1.0)]) == surveys - BOUND
    # One empty answer is not idleness yet (Pub/Sub may answer empty with a backlog).
    assert step([at(surveys), at(notes, empty_for=0.3)]) == notes - BOUND


def test_a_subscription_that_delivered_no_event_time_yet_holds_the_watermark():
    surveys = NOW - timedelta(days=1)
    previous = surveys - timedelta(hours=1)
    assert step([at(surveys), at(None)]) == WATERMARK_MIN
    assert step([at(surveys), at(None)], previous=previous) == previous
    assert step([at(surveys), at(None, empty_for=5.0)]) == surveys - BOUND


def test_when_all_subscriptions_are_idle_the_watermark_is_the_newest_read_anywhere():
    surveys, notes = NOW - timedelta(days=1), NOW - timedelta(days=5)
    # Both went idle before a watermark was computed with the surveys delivering
    # (drained within one batch): what was read still moves it.
    assert step([at(surveys, 1.5), at(None, 1.9)]) == surveys - BOUND
    assert step([at(surveys, 1.0), at(notes, 1.2)]) == surveys - BOUND


def test_when_all_subscriptions_idle_long_enough_the_watermark_follows_the_wall_clock():
    old = NOW - timedelta(days=3)
    previous = old - BOUND
    # Idle, but not all of them for 2 s yet.
    assert step([at(old, 1.5), at(None, 9.0)], previous=previous) == previous
    assert step([at(old, 2.0), at(None, 7.0)], previous=previous) == NOW - BOUND
    later = NOW + timedelta(seconds=30)
    assert step([at(old, 32.0), at(None, 40.0)], NOW - BOUND, later) == later - BOUND


def test_before_any_event_time_is_read_the_watermark_stays_at_the_minimum():
    assert step([at(None), at(None)]) == WATERMARK_MIN
    assert step([at(None, 3600.0), at(None, 3600.0)]) == WATERMARK_MIN
    assert step([]) == WATERMARK_MIN


def test_the_watermark_never_moves_backwards():
    ahead = NOW - timedelta(hours=1)
    assert step([at(NOW - timedelta(days=2))], previous=ahead) == ahead
    # Not even when the wall clock is behind it (a clock stepped back).
    assert step([at(None, 9.0)], previous=ahead, now=NOW - timedelta(days=1)) == ahead


def test_an_event_in_the_future_is_capped_at_the_wall_clock():
    future = NOW + timedelta(hours=20)
    assert step([at(future)]) == NOW - BOUND
    assert step([at(future), at(NOW - timedelta(days=1))]) == NOW - timedelta(days=1) - BOUND


def test_the_rule_takes_its_thresholds_as_arguments():
    surveys, notes = NOW - timedelta(days=1), NOW - timedelta(days=5)
    progress = [at(surveys, 0.0), at(notes, 0.2)]
    assert next_watermark(progress, WATERMARK_MIN, bound=BOUND, now=NOW, idle_after=0.1) == (
        surveys - BOUND
    )
    idle = [at(surveys, 0.3), at(notes, 0.2)]
    assert next_watermark(
        idle, WATERMARK_MIN, bound=BOUND, now=NOW, idle_after=0.1, wall_clock_after=0.2
    ) == (NOW - BOUND)


def test_subtracting_the_bound_saturates_at_the_minimum():
    assert minus(WATERMARK_MIN, BOUND) == WATERMARK_MIN
    assert minus(WATERMARK_MIN + MINUTE, BOUND) == WATERMARK_MIN
    assert step([at(WATERMARK_MIN + MINUTE)]) == WATERMARK_MIN
    assert minus(NOW, BOUND) == NOW - BOUND


# -- element timestamps -----------------------------------------------------------


def message(event_time: str | None, published: datetime | None = NOW) -> ReceivedMessage:
    attributes = {"event_type": "survey"}
    if event_time is not None:
        attributes["event_time"] = event_time
    return ReceivedMessage(b"{}", attributes, "1", published)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-01T08:30:00Z", datetime(2025, 3, 1, 8, 30, tzinfo=UTC)),
        ("2025-03-01T08:30:00.123456z", datetime(2025, 3, 1, 8, 30, 0, 123456, tzinfo=UTC)),
        ("2025-03-01T10:30:00+02:00", datetime(2025, 3, 1, 8, 30, tzinfo=UTC)),
        ("2025-03-01T08:30:00", None),  # no offset: ambiguous
        ("yesterday", None),
        ("1741509000000", None),  # milliseconds are not the contract's format
        ("2025-03-01T08:30:00Z" + " " * 100, None),
    ],
)
def test_the_event_time_attribute_is_read_as_the_parse_step_reads_it(value, expected):
    assert attribute_event_time({"event_time": value}) == expected


def test_elements_are_stamped_with_their_event_time_else_their_publish_time():
    published = NOW - timedelta(seconds=5)
    old = "2025-03-01T08:30:00Z"
    timed, newest = stamp_messages(
        [
            message(old, published),
            message(None, published),  # no attribute
            message("not a time", published),  # unparseable
            message(None, None),  # no publish time either (not from Pub/Sub)
        ],
        NOW,
    )
    assert [t.timestamp_micros for t in timed] == [
        epoch_micros(datetime(2025, 3, 1, 8, 30, tzinfo=UTC)),
        epoch_micros(published),
        epoch_micros(published),
        epoch_micros(NOW),
    ]
    assert [t.message.attributes.get("event_time") for t in timed] == [
        old,
        None,
        "not a time",
        None,
    ]
    # Only the attribute counts toward the newest event time: the publish times of a
    # backlog are far ahead of the events still waiting in it.
    assert newest == datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def test_the_newest_event_time_of_a_batch_is_its_latest_capped_at_now():
    timed, newest = stamp_messages(
        [message("2025-03-01T08:30:00Z"), message("2025-03-02T08:30:00Z")], NOW
    )
    assert newest == datetime(2025, 3, 2, 8, 30, tzinfo=UTC)
    future = "2025-03-05T06:00:00Z"  # 18 h ahead: the parse step accepts it
    timed, newest = stamp_messages([message(future)], NOW)
    assert newest == NOW
    # The element keeps its own time; only the watermark is capped.
    assert timed[0].timestamp_micros == epoch_micros(datetime(2025, 3, 5, 6, tzinfo=UTC))
    assert stamp_messages([message(None)], NOW)[1] is None
    assert stamp_messages([], NOW) == ([], None)


def test_epoch_micros_is_beams_timestamp():
    moment = datetime(2025, 3, 1, 8, 30, 0, 123456, tzinfo=UTC)
    assert Timestamp(micros=epoch_micros(moment)) == Timestamp.from_utc_datetime(moment)


def test_the_runner_hold_is_the_minimum_until_an_event_time_was_read():
    assert beam_watermark(WATERMARK_MIN) == MIN_TIMESTAMP
    moment = NOW - timedelta(days=3)
    assert beam_watermark(moment) == Timestamp.from_utc_datetime(moment)


# -- the native read (Dataflow) -----------------------------------------------------


def native_reads(**kwargs) -> list:
    p = beam.Pipeline(options=PipelineOptions([]))
    subscriptions = ["projects/voc-prod/subscriptions/a", "projects/voc-prod/subscriptions/b"]
    p | ReadFeedback(subscriptions, id_label="event_id", **kwargs)
    reads = []

    class Visitor(beam.pipeline.PipelineVisitor):
        def visit_transform(self, node):
            if isinstance(node.transform, beam.io.ReadFromPubSub):
                reads.append(node.transform)

        enter_composite_transform = visit_transform

    p.visit(Visitor())
    return reads


def test_the_native_read_takes_timestamps_from_the_event_time_attribute():
    reads = native_reads()
    assert len(reads) == 2
    assert {read._source.timestamp_attribute for read in reads} == {"event_time"}
    assert {
        read._source.timestamp_attribute for read in native_reads(timestamp_attribute=None)
    } == {None}


def test_one_message_far_ahead_does_not_carry_the_watermark():
    """A malformed message whose attribute is days ahead of a backlog (the parser
    rejects it only later) must not make the rest of that backlog late."""
    backlog = [message(f"2025-03-01T08:{minute:02d}:00Z") for minute in range(9)]
    _, frontier = stamp_messages([*backlog, message("2025-03-04T11:00:00Z")], NOW)
    assert frontier == datetime(2025, 3, 1, 8, 5, tzinfo=UTC)
