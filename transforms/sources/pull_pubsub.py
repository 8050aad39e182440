"""Pull Pub/Sub in large batches and acknowledge only after the sink commits.

Why this exists: on the legacy DirectRunner, Beam's own ``ReadFromPubSub`` pulls
10 messages per request and acknowledges them *before* they are processed. The
runner's cost is per bundle, so 10-message bundles cap a local job at a few
hundred events/s, and a crash loses whatever was in flight.

A :class:`PullSession` is the process-wide state of one local read:

- it pulls up to ``max_batch`` messages (the emulator returns at most 100 per
  request, so it pulls repeatedly) and hands them to the runner as one bundle;
- it keeps every pulled message *outstanding* until the sink calls
  :meth:`PullSession.acknowledge` after its DuckDB transaction committed, and
  extends the ack deadline of outstanding messages so slow bundles are not
  redelivered mid-flight;
- it stops pulling when ``max_outstanding`` messages are in flight (flow
  control), and it can drain: stop pulling, wait for the outstanding messages to
  be acknowledged, then let the pipeline finish.

A message that was pulled but never acknowledged (the process was killed) is
delivered again by Pub/Sub after its ack deadline; the sink is idempotent on
``event_id``, so the redelivery never makes a second row.

It also keeps the read's event-time watermark: every message is stamped with its
``event_time`` attribute (publish time if that is absent or unparseable; the parse
step dead-letters such a message anyway), and each subscription's newest event
time, with which of them are idle, gives the watermark by the rule in
:func:`voc.transforms.sources.source_watermark.next_watermark`. Only the thread
that pulls (the runner's evaluator) updates it; :attr:`PullSession.watermark` is a
plain read.

The runner side (:mod:`voc.transforms.sources.direct_pull_evaluator`) only asks this
session for the next batch and its watermark; everything that talks to Pub/Sub
lives here.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from voc.transforms.backoff import Backoff
from voc.transforms.derived.settings import DEFAULT_SETTINGS
from voc.transforms.error_text import first_line
from voc.transforms.records import AckHandle, ReceivedMessage
from voc.transforms.sources.pubsub_client import subscriber_client
from voc.transforms.sources.source_watermark import (
    ALL_IDLE_SECONDS,
    SUBSCRIPTION_IDLE_SECONDS,
    WATERMARK_MIN,
    SubscriptionProgress,
    TimedMessage,
    next_watermark,
    stamp_messages,
)

_LOGGER = logging.getLogger(__name__)

# How far each lease extension pushes the ack deadline of an in-flight message.
# Short on purpose: it bounds how long a killed job's in-flight messages wait
# before Pub/Sub delivers them again (they are extended every third of it).
LEASE_SECONDS = 10

# After a pull fails, that subscription waits 0.2 s before the next try, doubling
# per failure in a row up to 5 s, so a broken subscription costs a request every few
# seconds instead of a spinning core.
PULL_RETRY = Backoff(first=0.2, cap=5.0)
# A failing subscription is logged on its first failure, then at most this often.
PULL_FAILURE_LOG_EVERY_SECONDS = 30.0
# Beyond --stop-grace, how long a stopping job still waits for in-flight messages
# before it hands their leases back and ends anyway.
STOP_MARGIN_SECONDS = 5.0

# Pub/Sub's limit of ack ids in one acknowledge or modify_ack_deadline request.
_ACK_REQUEST_MAX = 1000

# The emulator and Pub/Sub both cap one pull; asking for more is harmless.
_PULL_REQUEST_MAX = 1000
# What one pull response may hold, about: with no receive limit on the channel, 1,000
# messages of up to 10 MB each would be 10 GB in one response. After large messages
# the next pull asks for fewer (messages_per_pull).
PULL_RESPONSE_BUDGET_BYTES = 64 * 1024 * 1024

# Pulls are non-blocking on purpose (see _pull_once); the client warns on every
# call that the flag is deprecated, which would flood the logs of an idle job.
warnings.filterwarnings(
    "ignore", message="The return_immediately flag is deprecated", category=DeprecationWarning
)


@dataclass
class PullStats:
    """Counters a driver reads to report progress and decide when to stop."""

    pulled: int = 0
    acknowledged: int = 0
    # Start of the current run of pulls that found every subscription empty; None
    # while messages keep coming (or while no pull was possible at all).
    empty_since: float | None = None
    # When the newest acknowledgement went out: the end of the work, for rates.
    last_acknowledged_at: float | None = None
    # Pulls that raised (a deleted subscription, the service unreachable, ...).
    pull_failures: int = 0
    last_pull_error: str | None = None
    # Committed messages whose acknowledgement failed (they come back, as no-ops).
    ack_failures: int = 0


class _PullFailures(NamedTuple):
    """A subscription's current run of failed pulls."""

    since: float  # when the run began
    count: int  # failures in a row
    retry_at: float  # earliest next try
    logged_at: float  # when it was last logged


class PullSession:
    """Process-wide state of one batched, ack-after-commit Pub/Sub read."""

    def __init__(
        self,
        subscriptions: Sequence[str],
        *,
        max_batch: int = 1000,
        max_linger_seconds: float = 0.25,
        max_outstanding: int = 5000,
        ack_extension_seconds: int = LEASE_SECONDS,
        stop_when_idle_seconds: float | None = None,
        stop_grace_seconds: float = 30.0,
        session_id: str | None = None,
        max_out_of_orderness: timedelta = DEFAULT_SETTINGS.max_out_of_orderness,
        subscription_idle_seconds: float = SUBSCRIPTION_IDLE_SECONDS,
        all_idle_seconds: float = ALL_IDLE_SECONDS,
    ) -> None:
        if not subscriptions:
            raise ValueError("a pull session needs at least one subscription")
        self.session_id = session_id or uuid.uuid4().hex
        self.subscriptions = list(subscriptions)
        self.max_batch = max_batch
        self.max_linger_seconds = max_linger_seconds
        self.max_outstanding = max_outstanding
        self.ack_extension_seconds = ack_extension_seconds
        self.stop_when_idle_seconds = stop_when_idle_seconds
        self.stop_grace_seconds = stop_grace_seconds
        self.stats = PullStats()
        # Why the read ended without everything in flight acknowledged, or None.
        self.failure: str | None = None
        # subscription -> its current run of failed pulls.
        self._failing: dict[str, _PullFailures] = {}
        self._lock = threading.Lock()
        # subscription -> ack ids pulled but not yet acknowledged.
        self._outstanding: dict[str, set[str]] = {s: set() for s in self.subscriptions}
        # When a stop was asked (signal, idle limit, caller); None while running.
        self.stop_requested_at: float | None = None
        self._finished = threading.Event()
        self._client = None
        self._next_subscription = 0
        # subscription -> the largest message size lately seen on it, in bytes.
        self._largest_message: dict[str, int] = {}
        self._lease_thread: threading.Thread | None = None
        # Event time (see source_watermark); touched only by the pulling thread.
        self.max_out_of_orderness = max_out_of_orderness
        self.subscription_idle_seconds = subscription_idle_seconds
        self.all_idle_seconds = all_idle_seconds
        # subscription -> newest event time read from it, capped at the wall clock.
        self._newest: dict[str, datetime | None] = dict.fromkeys(self.subscriptions)
        # subscription -> start of its current run of clean empty pulls, or None.
        self._empty_since: dict[str, float | None] = dict.fromkeys(self.subscriptions)
        self._watermark = WATERMARK_MIN

    # -- lifecycle -------------------------------------------------------

    @property
    def client(self):
        """The subscriber client, created on first use (grpc clients are thread-safe)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = subscriber_client()
        return self._client

    def request_stop(self) -> None:
        """Stop pulling; the read ends once everything in flight is acknowledged."""
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()

    @property
    def stop_requested(self) -> bool:
        return self.stop_requested_at is not None

    def stopping_for(self) -> float:
        """Seconds since a stop was asked; 0 while the job runs."""
        asked = self.stop_requested_at
        return 0.0 if asked is None else time.monotonic() - asked

    def mark_finished(self) -> None:
        self._finished.set()

    def wait_finished(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the read to end; True if it did."""
        return self._finished.wait(seconds)

    @property
    def outstanding(self) -> int:
        with self._lock:
            return sum(len(ids) for ids in self._outstanding.values())

    def idle_for(self) -> float:
        """How long pulls have been finding the subscriptions empty.

        Not the time since the last message arrived: while the sink is stuck (a
        full disk, a locked file) or flow control holds pulls back, nothing
        arrives although the subscriptions are full, and that is not idleness.
        """
        empty_since = self.stats.empty_since
        return 0.0 if empty_since is None else time.monotonic() - empty_since

    @property
    def watermark(self) -> datetime:
        """The read's event-time watermark as of the last pull (UTC);
        :data:`~voc.transforms.sources.source_watermark.WATERMARK_MIN` until an event
        time was read. Never moves backwards."""
        return self._watermark

    def failing_for(self) -> float:
        """How long the longest current run of failed pulls of one subscription lasts."""
        now = time.monotonic()
        with self._lock:
            return max((now - f.since for f in self._failing.values()), default=0.0)

    def should_finish(self) -> bool:
        """True once the read may end: stop was asked (or the idle limit passed)
        and nothing pulled is still waiting for the sink.

        Two limits keep a stop from hanging. Under ``--stop-when-idle``, pulls that
        keep failing for that long stop the job too (as a failure: messages may be
        waiting). And once a stop was asked, whatever is still in flight after
        ``stop_grace_seconds`` (plus a margin) has its leases handed back, so
        Pub/Sub delivers it again to the next run, and the read ends.
        """
        if self.stop_when_idle_seconds is not None and not self.stop_requested:
            failing_for = self.failing_for()
            if self.idle_for() >= self.stop_when_idle_seconds:
                self.request_stop()
            elif failing_for >= self.stop_when_idle_seconds:
                self.failure = (
                    f"pulls kept failing for {failing_for:.0f} s "
                    f"({self.stats.last_pull_error}); messages may still be waiting"
                )
                self.request_stop()
        if not self.stop_requested:
            return False
        if self.outstanding == 0:
            return True
        if self.stopping_for() >= self.stop_grace_seconds + STOP_MARGIN_SECONDS:
            released = self.release_outstanding()
            self.failure = (
                f"{released:,} messages were still in flight "
                f"{self.stop_grace_seconds + STOP_MARGIN_SECONDS:.0f} s after the stop; their "
                "leases were handed back and they will be delivered again"
            )
            return True
        return False

    # -- pulling ---------------------------------------------------------

    def pull_batch(self) -> list[ReceivedMessage]:
        """:meth:`pull_timed_batch` without the timestamps."""
        return [timed.message for timed in self.pull_timed_batch()]

    def pull_timed_batch(self) -> list[TimedMessage]:
        """Pull up to ``max_batch`` messages across the subscriptions, with their
        element timestamps, and advance the watermark.

        Returns early when the subscriptions are empty, when ``max_linger_seconds``
        passed since the first message of the batch, or when flow control says
        enough is in flight. An empty list means nothing was available.
        """
        if self.stop_requested:
            return []
        self._ensure_lease_thread()
        batch: list[TimedMessage] = []
        deadline = time.monotonic() + self.max_linger_seconds
        # Subscriptions in a row that gave nothing, and whether any of them failed
        # (or was waiting to retry): only clean empty answers make a job idle.
        empty_rounds, unanswered = 0, False
        answered_empty: set[str] = set()
        while len(batch) < self.max_batch and time.monotonic() < deadline:
            room = min(self.max_batch - len(batch), self.max_outstanding - self.outstanding)
            if room <= 0:
                if not batch:
                    self.stats.empty_since = None  # held back, not idle
                break
            subscription = self._behind_most(answered_empty)
            received = self._pull_or_none(subscription, room)
            if received:
                batch.extend(received)
                empty_rounds, unanswered = 0, False
                answered_empty.clear()
                continue
            answered_empty.add(subscription)
            empty_rounds += 1
            unanswered = unanswered or received is None
            if empty_rounds >= len(self.subscriptions):
                if batch or unanswered:
                    self.stats.empty_since = None
                elif self.stats.empty_since is None:
                    self.stats.empty_since = time.monotonic()
                break
        if batch:
            self.stats.empty_since = None
        self._advance_watermark()
        return batch

    def _behind_most(self, skip: set[str]) -> str:
        """The subscription furthest behind in event time (never read: first) of those
        that did not just answer empty; ties round robin. Round robin paced backlogs
        in messages, not event time: on three weeks of history surveys ran days ahead
        of notes, so the watermark (their minimum) lagged and late surveys passed."""
        start = self._next_subscription
        self._next_subscription = (start + 1) % len(self.subscriptions)
        order = self.subscriptions[start:] + self.subscriptions[:start]
        candidates = [s for s in order if s not in skip] or order
        return min(candidates, key=lambda s: (self._newest[s] is not None, self._newest[s] or 0))

    def _advance_watermark(self) -> None:
        now = time.monotonic()
        progress = [
            SubscriptionProgress(
                self._newest[s], 0.0 if (since := self._empty_since[s]) is None else now - since
            )
            for s in self.subscriptions
        ]
        self._watermark = next_watermark(
            progress,
            self._watermark,
            bound=self.max_out_of_orderness,
            now=datetime.now(UTC),
            idle_after=self.subscription_idle_seconds,
            wall_clock_after=self.all_idle_seconds,
        )

    def _pull_or_none(self, subscription: str, room: int) -> list[TimedMessage] | None:
        """One pull; None if it failed or the subscription is waiting to retry.

        A failed pull must not raise: the runner would fail the bundle and the
        messages already pulled into it from other subscriptions would stay in
        flight, leased and never stored. They go on to the sink instead, and the
        failing subscription is retried with backoff.
        """
        now = time.monotonic()
        with self._lock:
            failing = self._failing.get(subscription)
        # Idle only while it answers, and answers with nothing (see source_watermark).
        empty_since = self._empty_since[subscription]
        self._empty_since[subscription] = None
        if failing is not None and now < failing.retry_at:
            return None
        try:
            received = self._pull_once(subscription, room)
        except Exception as error:  # transport, auth, NotFound, ... have no common base
            self._pull_failed(subscription, error, now, failing)
            return None
        if not received:
            self._empty_since[subscription] = now if empty_since is None else empty_since
        if failing is not None:
            with self._lock:
                self._failing.pop(subscription, None)
            _LOGGER.warning("pulling %s works again after %d failures", subscription, failing.count)
        return received

    def _pull_failed(
        self,
        subscription: str,
        error: Exception,
        now: float,
        failing: _PullFailures | None,
    ) -> None:
        since, count, _, logged_at = failing or _PullFailures(now, 0, now, float("-inf"))
        count += 1
        retry_in = PULL_RETRY.delay(count - 1)
        line = first_line(error, 300)
        if now - logged_at >= PULL_FAILURE_LOG_EVERY_SECONDS:
            _LOGGER.warning(
                "pulling %s failed (%d in a row): %s; retrying in %.1f s",
                subscription,
                count,
                line,
                retry_in,
            )
            logged_at = now
        with self._lock:
            self._failing[subscription] = _PullFailures(since, count, now + retry_in, logged_at)
            self.stats.pull_failures += 1
            self.stats.last_pull_error = line

    def _pull_once(self, subscription: str, max_messages: int) -> list[TimedMessage]:
        largest = self._largest_message.get(subscription, 0)
        response = self.client.pull(
            request={
                "subscription": subscription,
                "max_messages": messages_per_pull(max_messages, largest),
                # Never block: the runner calls again, and a blocking pull would
                # delay stop requests by the server's wait time.
                "return_immediately": True,
            },
            timeout=30,
        )
        messages = []
        # The raw protobuf, not the proto-plus wrappers: converting every field
        # through proto-plus cost more than the pull itself (profiled).
        raw = type(response).pb(response)
        with self._lock:
            pending = self._outstanding[subscription]
            for received in raw.received_messages:
                pending.add(received.ack_id)
                message = received.message
                messages.append(
                    ReceivedMessage(
                        data=message.data,
                        attributes=dict(message.attributes),
                        message_id=message.message_id,
                        publish_time=(
                            message.publish_time.ToDatetime(tzinfo=UTC)
                            if message.HasField("publish_time")
                            else None
                        ),
                        ack=AckHandle(self.session_id, subscription, received.ack_id),
                    )
                )
            self.stats.pulled += len(messages)
        # Remember the largest recent message, letting the estimate decay so one large
        # message does not slow the subscription down for good.
        largest_now = max((len(m.data) for m in messages), default=0)
        self._largest_message[subscription] = max(largest_now, largest // 2)
        timed, newest = stamp_messages(messages, datetime.now(UTC))
        known = self._newest[subscription]
        if newest is not None and (known is None or newest > known):
            self._newest[subscription] = newest
        return timed

    # -- acknowledging -----------------------------------------------------

    def acknowledge(self, handles: Iterable[AckHandle]) -> None:
        """Acknowledge messages whose rows are committed. Call only after commit.

        Best effort, like lease extension: the rows are committed, so an acknowledgement
        that fails (the emulator restarted, the subscription was deleted, the service
        is unreachable) only means Pub/Sub delivers those messages again, and the
        sink's keys make that a no-op. Raising here would fail a bundle whose rows are
        already stored, and after the runner's retries end the job.
        """
        by_subscription: dict[str, list[str]] = {}
        for handle in handles:
            by_subscription.setdefault(handle.subscription, []).append(handle.ack_id)
        for subscription, ack_ids in by_subscription.items():
            for chunk in _chunks(ack_ids):
                try:
                    self.client.acknowledge(
                        request={"subscription": subscription, "ack_ids": chunk}, timeout=60
                    )
                except Exception as error:  # transport, NotFound, ... have no common base
                    self.stats.ack_failures += len(chunk)
                    _LOGGER.warning(
                        "acknowledging %d committed messages on %s failed: %s; they will be "
                        "delivered again and change nothing",
                        len(chunk),
                        subscription,
                        first_line(error, 300),
                    )
            with self._lock:
                self._outstanding.get(subscription, set()).difference_update(ack_ids)
                self.stats.acknowledged += len(ack_ids)
                self.stats.last_acknowledged_at = time.monotonic()

    def release_outstanding(self) -> int:
        """Hand everything still in flight back to Pub/Sub at once (deadline 0).

        For a job that ends without storing what it pulled (the sink stayed
        unwritable through a stop): the next run gets those messages right away
        instead of after their lease runs out. Best effort; a lease that cannot
        be released simply expires. Returns how many were released.
        """
        with self._lock:
            snapshot = {s: list(ids) for s, ids in self._outstanding.items() if ids}
            for ids in self._outstanding.values():
                ids.clear()
        return self._set_deadlines(snapshot, 0)

    def _set_deadlines(self, ack_ids_by_subscription: dict[str, list[str]], seconds: int) -> int:
        """modify_ack_deadline for these messages; returns how many were changed.

        Best effort on purpose: a lease that cannot be extended or released only
        means a redelivery (which the sink's keys absorb), never a loss.
        """
        changed = 0
        for subscription, ack_ids in ack_ids_by_subscription.items():
            for chunk in _chunks(ack_ids):
                try:
                    self.client.modify_ack_deadline(
                        request={
                            "subscription": subscription,
                            "ack_ids": chunk,
                            "ack_deadline_seconds": seconds,
                        },
                        timeout=30,
                    )
                    changed += len(chunk)
                except Exception as error:
                    _LOGGER.warning(
                        "could not set ack deadlines to %d s on %s: %s",
                        seconds,
                        subscription,
                        error,
                    )
        return changed

    # -- lease extension ---------------------------------------------------

    def _ensure_lease_thread(self) -> None:
        if self._lease_thread is None:
            with self._lock:
                if self._lease_thread is None:
                    self._lease_thread = threading.Thread(
                        target=self._extend_leases, name="voc-pubsub-lease", daemon=True
                    )
                    self._lease_thread.start()

    def _extend_leases(self) -> None:
        """Keep outstanding messages leased, so a slow bundle is not redelivered
        while it is still being written (that would only waste work: the sink is
        idempotent, but every redelivery is tagged again)."""
        interval = max(1.0, self.ack_extension_seconds / 3)
        while not self._finished.wait(interval):
            with self._lock:
                snapshot = {s: list(ids) for s, ids in self._outstanding.items() if ids}
            self._set_deadlines(snapshot, self.ack_extension_seconds)


def messages_per_pull(room: int, largest_bytes: int) -> int:
    """How many messages to ask one pull for: as many as there is room for, but no more
    than PULL_RESPONSE_BUDGET_BYTES of messages as large as the largest lately seen."""
    fitting = PULL_RESPONSE_BUDGET_BYTES // max(largest_bytes, 1)
    return max(1, min(room, _PULL_REQUEST_MAX, fitting))


def _chunks(ack_ids: list[str]) -> Iterator[list[str]]:
    """Pub/Sub takes at most 1,000 ack ids a request (acknowledge, modify_ack_deadline)."""
    for start in range(0, len(ack_ids), _ACK_REQUEST_MAX):
        yield ack_ids[start : start + _ACK_REQUEST_MAX]
