"""Time in the generated data: when contacts happen, who comes back, and when messages arrive.

The event-time branches of the pipeline (hourly rollups, alerts, repeat contacts,
late data) can only be tested on a stream that has time in it: a daily cycle
(quiet nights, busy business hours) and a weekly one (quieter weekends) for the
alert baselines to learn, one planted surge for them to find, customers who come
back about the same problem, and messages that arrive out of order, beyond the
watermark bound and beyond the allowed lateness. A Timeline draws all of that
from the generator's one seeded random source, so a seed and a start still give
the same bytes.

The span is [start, start + days). Interactions begin inside it and every event
time is clamped to its last second, so the data never reaches past the span:
with the default start ("the span ends at the current hour") no event is in the
future, although a survey may be written up to hours after its contact began.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from voc.pipelines.dev.generate.phrases import PRIMARY_WEIGHTS
from voc.pipelines.dev.generate.world import NO_CAUSE, NO_CAUSE_RATE

if TYPE_CHECKING:
    from voc.pipelines.dev.generate.world import Interaction

HOUR = 3600
DAY = 24 * HOUR

# Relative contact volume by UTC hour of day: a quiet night, a morning ramp, two
# business-hour peaks either side of lunch, a long evening tail.
DAILY_PROFILE = (
    *(0.10, 0.07, 0.05, 0.05, 0.07, 0.12),  # 00-05
    *(0.25, 0.50, 0.85, 1.00, 1.10, 1.05),  # 06-11
    *(0.90, 0.95, 1.05, 1.00, 0.90, 0.75),  # 12-17
    *(0.55, 0.45, 0.38, 0.30, 0.22, 0.15),  # 18-23
)
# Relative volume by weekday, Monday first: the week starts busy, weekends are quiet.
WEEKLY_PROFILE = (1.10, 1.05, 1.00, 1.00, 0.95, 0.50, 0.40)
# Each hour's volume varies by up to this much either way, so no two days are alike.
HOURLY_JITTER = 0.15

# The planted surge: billing_error by default because its texts are the ones the
# shipped tagger finds most reliably (recall 1.0 and under 1% false positives on
# generated data), so a missed alert is the alerting's fault, not the tagging's.
DEFAULT_SURGE_CAUSE = "billing_error"
SURGE_HOURS = 4
# x8, not x5: at the demo's volume (12,000 events in 21 days, billing_error at ~4 an
# hour in business hours) a x5 surge scored under the alert threshold on about one
# "now" in six (the span ends at the current hour, so the surge's weekday and the
# history before it move with the clock); x8 opened its alert at every hour of a week.
SURGE_MULTIPLIER = 8.0
# Whole UTC hours a surge may start at: all four hours inside business hours.
SURGE_FIRST_HOURS = (9, 10, 11, 12, 13)

# Planted repeat contacts: a share of interactions are a customer coming back about
# the same primary cause 1-6 days after an earlier surveyed contact, and a few
# come back 8-14 days later, which is outside the repeat window and no repeat.
FOLLOW_UP_RATE = 0.05
FOLLOW_UP_GAP = (1 * DAY, 6 * DAY)
RETURN_RATE = 0.01
RETURN_GAP = (8 * DAY, 14 * DAY)
REPEAT_WINDOW = 7 * DAY

# What the pipeline's event-time settings assume (EventTimeSettings): the arrival
# classes below are placed either side of these.
WATERMARK_BOUND = 10 * 60
ALLOWED_LATENESS = 2 * HOUR

# How a valid message arrives after its event time: (class, share, shortest and
# longest delay in seconds). The rest arrive promptly, seconds after the event.
PROMPT = "prompt"
OUT_OF_ORDER = "out_of_order"  # 1-5 min: behind newer events, inside the watermark bound
BEYOND_BOUND = "beyond_bound"  # 20-60 min: behind the watermark, inside allowed lateness
LATE = "late"  # 1-3 days: beyond the allowed lateness; the pipeline's late events
ARRIVAL_CLASSES = (
    (LATE, 0.003, 1 * DAY, 3 * DAY),
    (BEYOND_BOUND, 0.01, 20 * 60, 60 * 60),
    (OUT_OF_ORDER, 0.02, 60, 5 * 60),
)
PROMPT_MEAN_SECONDS = 4.0
PROMPT_MAX_SECONDS = 30.0
# A delayed message must arrive this long before the span ends: the stream goes on
# after it, so the watermark (the newest event time read) really has passed it.
ARRIVAL_MARGIN = 3 * HOUR


@dataclass(frozen=True)
class Surge:
    """One cause at `multiplier` times its normal volume for `hours` whole UTC hours."""

    cause_id: str
    start: float  # epoch seconds, on a whole UTC hour
    hours: int
    multiplier: float

    @property
    def end(self) -> float:
        return self.start + self.hours * HOUR


@dataclass(frozen=True)
class Plan:
    """What the timeline fixes about the next interaction before the world draws the rest."""

    began: float
    kind: str = "normal"  # normal | surge | follow_up | return
    primary: str | None = None  # None: the world draws the causes as usual
    customer_id: str | None = None  # None: the world picks a customer as usual
    survey: bool = False  # the customer answers the survey (a repeat needs one)
    earlier_id: str | None = None  # the interaction a follow-up or return comes back to


@dataclass(frozen=True)
class _Contact:
    interaction_id: str
    customer_id: str
    primary: str
    began: float


def default_start(days: int, now: datetime | None = None) -> datetime:
    """The start that makes a span of `days` end at the current hour (UTC)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(days=days)


class Timeline:
    """Hourly volume weights of the span, the surge, the repeat planner and arrival delays.

    Hours are whole UTC hours (the pipeline's rollup windows); a span that starts or
    ends mid-hour weights its first and last hour by the part it covers.
    """

    def __init__(
        self, rng: random.Random, start: float, days: int, surge_cause: str | None
    ) -> None:
        self.start = float(math.floor(start))
        self.end = self.start + days * DAY
        self.first_hour = self.start - self.start % HOUR
        slots = math.ceil((self.end - self.first_hour) / HOUR)
        weights = []
        for slot in range(slots):
            began = self.first_hour + slot * HOUR
            clock = time.gmtime(began)
            covered = (min(began + HOUR, self.end) - max(began, self.start)) / HOUR
            weights.append(
                DAILY_PROFILE[clock.tm_hour]
                * WEEKLY_PROFILE[clock.tm_wday]
                * rng.uniform(1 - HOURLY_JITTER, 1 + HOURLY_JITTER)
                * covered
            )
        self.weights = weights
        self.cumulative = list(itertools.accumulate(weights))
        self.surge = _place_surge(rng, self.start, self.end, surge_cause)
        self.surge_share = 0.0
        if self.surge is not None:
            # Extra interactions of the cause, as a share of all, so that in each surge
            # hour the cause has `multiplier` times the interactions it has otherwise.
            share = (
                (1 - NO_CAUSE_RATE) * PRIMARY_WEIGHTS[surge_cause] / sum(PRIMARY_WEIGHTS.values())
            )
            first, last = self._surge_slots()
            surge_weight = sum(weights[first:last]) / self.cumulative[-1]
            ratio = (self.surge.multiplier - 1) * share * surge_weight
            self.surge_share = ratio / (1 + ratio)
        self._contacts: list[_Contact] = []

    # ---------------------------------------------------------------- when

    def draw(self, rng: random.Random, first: int = 0, last: int | None = None) -> float:
        """A time in the hours [first, last) of the span, as likely as each hour's weight."""
        last = len(self.weights) if last is None else last
        below = self.cumulative[first - 1] if first else 0.0
        point = below + rng.random() * (self.cumulative[last - 1] - below)
        slot = min(bisect.bisect_right(self.cumulative, point, first, last), last - 1)
        low = max(self.first_hour + slot * HOUR, self.start)
        high = min(self.first_hour + (slot + 1) * HOUR, self.end)
        return low + rng.random() * (high - low)

    def draw_between(self, rng: random.Random, low: float, high: float) -> float | None:
        """A time in whole hours of the span inside [low, high), or None if there are none."""
        first = max(0, math.ceil((low - self.first_hour) / HOUR))
        last = min(len(self.weights), math.floor((high - self.first_hour) / HOUR))
        if first >= last:
            return None
        return self.draw(rng, first, last)

    def clamp(self, event_time: float) -> float:
        """Keep an event time inside the span (its last whole second)."""
        return min(event_time, self.end - 1)

    def _surge_slots(self) -> tuple[int, int]:
        assert self.surge is not None
        first = int((self.surge.start - self.first_hour) // HOUR)
        return first, first + self.surge.hours

    # ---------------------------------------------------------------- who

    def plan(self, rng: random.Random) -> Plan:
        """The next interaction: a surge extra, a repeat or return of an earlier one, or normal."""
        roll = rng.random()
        if roll < self.surge_share:
            assert self.surge is not None
            began = self.draw(rng, *self._surge_slots())
            return Plan(began, kind="surge", primary=self.surge.cause_id)
        roll -= self.surge_share
        if roll < FOLLOW_UP_RATE + RETURN_RATE and self._contacts:
            earlier = self._contacts[rng.randrange(len(self._contacts))]
            kind, (low, high) = (
                ("follow_up", FOLLOW_UP_GAP) if roll < FOLLOW_UP_RATE else ("return", RETURN_GAP)
            )
            began = self.draw_between(rng, earlier.began + low, earlier.began + high)
            if began is not None:
                return Plan(
                    began,
                    kind=kind,
                    primary=earlier.primary,
                    customer_id=earlier.customer_id,
                    survey=True,
                    earlier_id=earlier.interaction_id,
                )
        return Plan(self.draw(rng))

    def remember(self, interaction: Interaction) -> None:
        """A surveyed contact with a cause is one its customer may come back about."""
        if interaction.has_survey and interaction.primary != NO_CAUSE:
            self._contacts.append(
                _Contact(
                    interaction.interaction_id,
                    interaction.customer_id,
                    interaction.primary,
                    interaction.began,
                )
            )

    # ---------------------------------------------------------------- arrival

    def arrival(self, rng: random.Random, event_time: float) -> tuple[float, str]:
        """When a message is published, and its arrival class (PROMPT, OUT_OF_ORDER, ...).

        A delayed class that would arrive within ARRIVAL_MARGIN of the span's end is
        shortened to fit, or the message arrives promptly if even the shortest delay
        does not fit; so the rates dip slightly in the last days of a span.
        """
        roll = rng.random()
        threshold = 0.0
        for kind, share, shortest, longest in ARRIVAL_CLASSES:
            threshold += share
            if roll < threshold:
                room = self.end - ARRIVAL_MARGIN - event_time
                if room >= shortest:
                    return event_time + rng.uniform(shortest, min(longest, room)), kind
                break
        return event_time + min(
            PROMPT_MAX_SECONDS, rng.expovariate(1 / PROMPT_MEAN_SECONDS)
        ), PROMPT


def _place_surge(rng: random.Random, start: float, end: float, cause: str | None) -> Surge | None:
    """A weekday nearest the middle of the span, at a seeded business hour, if it fits.

    Falls back to a weekend day, then to None if no day of the span has SURGE_HOURS
    whole hours inside business hours (a span of a day or more always has).
    """
    if cause is None:
        return None
    preferred = rng.choice(SURGE_FIRST_HOURS)
    hours = sorted(SURGE_FIRST_HOURS, key=lambda hour: (abs(hour - preferred), hour))
    middle = start + (end - start) / 2
    days = range(int(start // DAY) * DAY, int(end // DAY) * DAY + DAY, DAY)
    by_distance = sorted(days, key=lambda day: (abs(day + DAY / 2 - middle), day))
    for weekdays_only in (True, False):
        for day in by_distance:
            if weekdays_only and time.gmtime(day).tm_wday >= 5:
                continue
            for hour in hours:
                first = day + hour * HOUR
                if first >= start and first + SURGE_HOURS * HOUR <= end:
                    return Surge(cause, float(first), SURGE_HOURS, SURGE_MULTIPLIER)
    return None
