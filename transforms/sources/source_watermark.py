"""Event time of a pulled message, and the watermark rule of the batched local source.

Why the source follows event time: surveys and notes are published minutes to days
after they happened (a backlog, a replay, an outage upstream). A source whose
watermark is the wall clock makes every one of them late on arrival, so no
event-time window could ever hold them. Here the watermark trails the newest event
time read, per subscription, by ``max_out_of_orderness``.

The rule (:func:`next_watermark`) is pure so it can be tested without Pub/Sub;
:class:`voc.transforms.sources.pull_pubsub.PullSession` feeds it what it pulls and
the runner's evaluator reports the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from voc.transforms.parse_event import parse_timestamp
from voc.transforms.records import ReceivedMessage

# The message attribute that carries the event time (RFC 3339; every valid message
# has it, equal to the payload's submitted_at / created_at).
EVENT_TIME_ATTRIBUTE = "event_time"

# The watermark before the source has read any event time: the minimum. Until it
# has read something, no event-time window holds anything it could close.
WATERMARK_MIN = datetime.min.replace(tzinfo=UTC)

# A subscription whose pulls have found it empty for this long is idle and no longer
# holds the watermark back. Not after one empty answer: Pub/Sub may answer a
# non-blocking pull with nothing while messages wait, and a subscription taken for
# idle while it still has a backlog would make that backlog late.
SUBSCRIPTION_IDLE_SECONDS = 1.0
# Once every subscription has been empty for this long, the watermark follows the
# wall clock (minus the bound), so a live feed without traffic still closes windows.
ALL_IDLE_SECONDS = 2.0

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Longer than any RFC 3339 date-time; a longer attribute is not parsed at all.
_MAX_TIME_CHARS = 64


class TimedMessage(NamedTuple):
    """A pulled message and its element timestamp, in microseconds since the epoch."""

    message: ReceivedMessage
    timestamp_micros: int


class SubscriptionProgress(NamedTuple):
    """What the watermark rule needs to know of one subscription."""

    # Newest event time read from it (capped at the wall clock when read); None: none yet.
    newest: datetime | None
    # How long its pulls have been finding it empty, in seconds; 0 while it delivers
    # (or while its pulls fail: a failing subscription may hold messages).
    empty_for: float


def attribute_event_time(attributes: Mapping[str, str]) -> datetime | None:
    """The message's ``event_time`` attribute in UTC, or None if absent or unparseable.

    The same strict RFC 3339 parser as the parse step, so a value the source takes
    for an event time is one the parse step accepts too.
    """
    value = attributes.get(EVENT_TIME_ATTRIBUTE)
    if value is None or len(value) > _MAX_TIME_CHARS:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def epoch_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch (Beam's timestamp unit), exactly."""
    return (moment - _EPOCH) // _MICROSECOND


def stamp_messages(
    messages: Sequence[ReceivedMessage], now: datetime
) -> tuple[list[TimedMessage], datetime | None]:
    """Each message with its element timestamp, and how far the batch says event time
    has come: the median of its event_time attributes, capped at ``now`` (None if
    none has a valid one).

    The timestamp is the event_time attribute, else the publish time, else ``now``.
    Only event_time attributes count toward the watermark: a message without a valid
    one is stamped with its publish time, which in a backlog is far newer than the
    events still waiting and would make them late. The median, not the newest: one
    malformed or hostile message whose attribute is days ahead of the others (the
    parser dead-letters it later, but the source reads it first) would otherwise
    make the rest of the backlog late; measured on the demo's three weeks, the first
    pull's newest attribute was already mid-span. A future event counts as ``now``:
    it must not push the watermark ahead of the wall clock.
    """
    times: list[datetime] = []
    timed = []
    for message in messages:
        event_time = attribute_event_time(message.attributes)
        if event_time is not None:
            times.append(event_time)
            stamp = event_time
        else:
            stamp = message.publish_time or now
        timed.append(TimedMessage(message, epoch_micros(stamp)))
    if not times:
        return timed, None
    times.sort()
    return timed, min(times[len(times) // 2], now)


def minus(moment: datetime, bound: timedelta) -> datetime:
    """``moment - bound``, saturating at :data:`WATERMARK_MIN` instead of overflowing
    (an attribute of 0001-01-01 parses, and must not raise in the source)."""
    return moment - bound if moment - WATERMARK_MIN > bound else WATERMARK_MIN


def next_watermark(
    subscriptions: Iterable[SubscriptionProgress],
    previous: datetime,
    *,
    bound: timedelta,
    now: datetime,
    idle_after: float = SUBSCRIPTION_IDLE_SECONDS,
    wall_clock_after: float = ALL_IDLE_SECONDS,
) -> datetime:
    """The source's watermark after ``previous``, given what each subscription read.

    - Each subscription's newest event time counts at most ``now``: an event stamped
      in the future (the parse step accepts a day of skew) must not push the
      watermark ahead of the wall clock.
    - The watermark is the minimum, over the subscriptions that are not idle, of
      (newest event time - ``bound``): surveys and notes are drained at different
      speeds, and the slower one's events must not become late because the faster
      one is ahead.
    - A subscription that is not idle but has no event time yet holds the watermark
      where it is: it may be about to deliver anything.
    - An idle subscription (empty for ``idle_after`` seconds) does not count. When all
      are idle, the watermark is the newest event time read anywhere minus ``bound``
      (everything read is behind it), and once they have all been idle for
      ``wall_clock_after`` seconds it is ``now - bound``. Before any event time was
      read it stays put: no window holds anything yet, and a backlog published after
      the job started must not be late on arrival.
    - It never moves backwards.
    """
    progress = list(subscriptions)
    known = [min(p.newest, now) for p in progress if p.newest is not None]
    active = [p for p in progress if p.empty_for < idle_after]
    candidate: datetime | None = None
    if active:
        if all(p.newest is not None for p in active):
            candidate = minus(min(min(p.newest, now) for p in active), bound)
    elif known:
        all_idle_for = min(p.empty_for for p in progress)
        candidate = minus(now if all_idle_for >= wall_clock_after else max(known), bound)
    if candidate is None or candidate <= previous:
        return previous
    return candidate
