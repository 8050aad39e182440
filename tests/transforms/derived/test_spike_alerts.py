"""Spike alerts: the score, the alert lifecycle, determinism, and how often it is wrong.

The evaluation at the end replays synthetic hourly traffic with a daily and weekly
cycle and Poisson noise (fixed seeds, Python's random only) at three levels: how many
alerts steady traffic opens in 30 days, and how many planted surges are found, how
late, and whether each is exactly one alert that closes once.
"""

from __future__ import annotations

import functools
import math
import pickle
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import NormalDist

import pytest

from voc.transforms.derived.settings import EventTimeSettings
from voc.transforms.derived.spike_alerts import (
    AlertEvent,
    AlertRule,
    alerts_over,
    next_expectation,
    observe,
    replay,
    state_from_json,
    state_to_json,
    tail_score,
)

HOUR = timedelta(hours=1)
MONDAY = datetime(2024, 1, 1, tzinfo=UTC)
RULE = AlertRule()

# Share of the peak hour's volume by hour of day, and of a Tuesday's by day of week:
# quiet nights, a morning ramp, a lunch dip, busy Mondays, quiet weekends.
DAILY = (
    0.06, 0.04, 0.03, 0.03, 0.04, 0.07, 0.15, 0.35, 0.65, 0.90, 1.00, 0.97,
    0.85, 0.90, 0.95, 0.92, 0.85, 0.70, 0.50, 0.38, 0.30, 0.22, 0.15, 0.10,
)  # fmt: skip
WEEKLY = (1.1, 1.0, 1.0, 0.95, 0.85, 0.45, 0.35)


def poisson(rng: random.Random, mean: float) -> int:
    """An exact Poisson draw (Knuth's, in chunks so exp(-mean) cannot underflow)."""
    count = 0
    while mean > 0:
        chunk = min(mean, 20.0)
        mean -= chunk
        limit, product = math.exp(-chunk), rng.random()
        while product > limit:
            count += 1
            product *= rng.random()
    return count


def rate(peak: float, t: datetime) -> float:
    return peak * DAILY[t.hour] * WEEKLY[t.weekday()]


def steady(
    rng: random.Random, peak: float, start: datetime, hours: int
) -> list[tuple[datetime, int]]:
    return [(start + i * HOUR, poisson(rng, rate(peak, start + i * HOUR))) for i in range(hours)]


def with_surge(
    series: list[tuple[datetime, int]], at: int, factor: float, hours: int, seed: int, peak: float
) -> list[tuple[datetime, int]]:
    rng = random.Random(seed)
    surged = [(t, poisson(rng, factor * rate(peak, t))) for t, _ in series[at : at + hours]]
    return series[:at] + surged + series[at + hours :]


def opened(events: list[AlertEvent]) -> list[AlertEvent]:
    return [event for event in events if event.kind == "opened"]


# -- the rule -----------------------------------------------------------------


def test_rule_takes_the_pipeline_settings() -> None:
    settings = EventTimeSettings(
        alert_threshold=5.0, alert_min_count=3, rollup_window=timedelta(minutes=30)
    )
    rule = AlertRule.from_settings(settings, close_threshold=2.0)
    assert (rule.threshold, rule.min_count, rule.window) == (5.0, 3, timedelta(minutes=30))
    assert rule.close_threshold == 2.0
    assert (rule.windows_per_day, rule.windows_per_week, rule.warmup_windows) == (48, 336, 336)


@pytest.mark.parametrize(
    "knobs",
    [
        {"window": timedelta(minutes=7)},  # does not divide a day
        {"threshold": 0.0},
        {"min_count": 0},
        {"close_threshold": 4.0},  # not below the threshold
        {"seasonal_min_weeks": 5},  # more than are kept
        {"warmup": timedelta(hours=12)},  # the recent expectation needs a day
        {"trim": 0.5},
        {"slot_spread": 12},  # neighbours would reach the next day's slot
        {"max_level_ratio": 0.5},
    ],
)
def test_rule_rejects_nonsense(knobs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        AlertRule(**knobs)  # type: ignore[arg-type]


# -- the score ----------------------------------------------------------------


def _poisson_mid_p(observed: int, mean: float) -> float:
    """P(X > observed) + P(X = observed) / 2, summed term by term from 0."""
    pmf = [math.exp(k * math.log(mean) - mean - math.lgamma(k + 1)) for k in range(observed + 1)]
    return 1 - math.fsum(pmf[:-1]) - pmf[-1] / 2


def _negative_binomial_mid_p(observed: int, mean: float, variance: float) -> float:
    r = mean * mean / (variance - mean)
    q = mean / (r + mean)

    def pmf(k: int) -> float:
        return math.exp(
            math.lgamma(k + r) - math.lgamma(r) - math.lgamma(k + 1)
            + r * math.log(1 - q) + k * math.log(q)
        )  # fmt: skip

    return 1 - math.fsum(pmf(k) for k in range(observed)) - pmf(observed) / 2


@pytest.mark.parametrize(
    ("observed", "mean", "variance"),
    [(6, 0.5, 0.5), (12, 2.0, 2.0), (30, 10.0, 10.0), (5, 0.3, 0.3), (30, 9.5, 14.7), (9, 2, 4)],
)
def test_tail_score_is_the_normal_quantile_of_the_exact_tail(
    observed: int, mean: float, variance: float
) -> None:
    if variance > mean:
        p = _negative_binomial_mid_p(observed, mean, variance)
    else:
        p = _poisson_mid_p(observed, mean)
    assert tail_score(observed, mean, variance) == pytest.approx(-NormalDist().inv_cdf(p), 1e-6)


def test_tail_score_is_count_aware() -> None:
    # A normal approximation calls 6 events where 0.5 were expected a 7.8-sigma event.
    assert (6 - 0.5) / math.sqrt(0.5) > 7.5
    assert 4.0 < tail_score(6, 0.5, 0.5) < 4.5
    # Below the mean it is negative; far beyond the floats it is still finite and growing.
    assert tail_score(0, 5.0, 5.0) < -2
    assert 40 < tail_score(1_000, 5.0, 5.0) < tail_score(10_000, 5.0, 5.0) < math.inf
    # Extra variance (an uncertain expectation) makes the same count less surprising.
    assert tail_score(30, 10.0, 20.0) < tail_score(30, 10.0, 10.0)


def test_tail_score_never_exceeds_the_normal_approximation_by_a_point() -> None:
    """The step computes the exact tail only where the normal one is >= threshold - 1."""
    worst = -math.inf
    for mean in (0.01, 0.05, 0.2, 0.5, 1, 2, 3.5, 6, 10, 25, 60, 150):
        for over in (1.0, 1.1, 1.5, 3.0):
            for tolerance in (0.0, 0.1, 0.3):
                variance = mean * over + (tolerance * mean) ** 2
                sd = math.sqrt(variance)
                for observed in range(math.ceil(mean), int(mean + 8 * sd + 8)):
                    score = tail_score(observed, mean, variance)
                    if score >= 1:
                        worst = max(worst, score - (observed - mean) / sd)
    assert worst < 0.8


# -- one cause, window by window ------------------------------------------------


def _history(seed: int = 1, peak: float = 10.0, days: int = 21) -> list[tuple[datetime, int]]:
    return steady(random.Random(seed), peak, MONDAY, days * 24)


def test_a_surge_opens_one_alert_that_closes_once_with_the_window_it_subsided() -> None:
    series = _history(days=28)
    at = 21 * 24 + 10  # Monday of the 4th week, 10:00
    surged = with_surge(series, at, 6.0, 3, seed=7, peak=10.0)
    events = replay(surged, RULE)[1]
    assert [e.kind for e in events] == ["opened", "updated", "updated", "closed"]
    first, last = events[0], events[-1]
    assert first.opened_window_start == series[at][0]
    assert first.status == "open" and first.closed_window_start is None
    assert first.method == "seasonal" and first.observed == surged[at][1]
    assert first.observed > 2 * first.expected and first.score >= RULE.threshold
    assert last.status == "closed"
    assert last.closed_window_start == last.last_window_start == series[at + 3][0]
    assert last.window_score < RULE.close_threshold
    assert last.peak_observed == max(v for _, v in surged[at : at + 3])
    assert last.peak_score == max(e.window_score for e in events[:-1])
    # The row as it ends up, and nothing on the same history without the surge.
    assert alerts_over(surged, RULE) == [last]
    assert alerts_over(series, RULE) == []


def test_the_surge_is_not_learned_as_the_new_normal() -> None:
    series = _history(days=28)
    at = 14 * 24 + 10  # Monday of the 3rd week
    surged = with_surge(series, at, 6.0, 3, seed=3, peak=10.0)
    week_later = at + 7 * 24
    plain = next_expectation(replay(series[:week_later], RULE)[0], RULE)
    after = next_expectation(replay(surged[:week_later], RULE)[0], RULE)
    assert plain is not None and after is not None
    assert opened(replay(surged[:week_later], RULE)[1])  # it was an alert
    # Learned as-is, one of the two weeks would be 6x: the expectation would rise ~2.5x.
    assert after.expected < 1.25 * plain.expected


def test_an_alert_stays_open_while_elevated_below_the_threshold() -> None:
    series = _history(days=21)
    at = 16 * 24 + 10  # Wednesday, 10:00: about 10 expected
    state = replay(series[:at], RULE)[0]
    kinds, scores = [], []
    for hour, volume in enumerate((60, 22, 19, 9)):
        state, events = observe(state, series[at + hour][0], volume, RULE)
        kinds += [e.kind for e in events]
        scores += [e.window_score for e in events]
    assert kinds == ["opened", "updated", "updated", "closed"]
    # Scores of 2-3 would not open an alert, but keep this one open.
    assert all(RULE.close_threshold <= score < RULE.threshold for score in scores[1:3])
    assert scores[3] < RULE.close_threshold


def test_a_quiet_day_does_not_lower_the_next_days_expectation() -> None:
    series = _history(days=28)
    holiday = 16 * 24  # Wednesday of the 3rd week, no feedback at all
    quiet = [(t, 0 if holiday <= i < holiday + 24 else v) for i, (t, v) in enumerate(series)]
    assert opened(replay(quiet, RULE)[1]) == []


def test_a_lasting_shift_is_absorbed() -> None:
    """Tripled from one day on (as by a broken feature): a few alerts in its first days
    (one can close overnight, where a few events cannot show it), then the new normal.
    At 10 events an hour a shift that starts at night is often absorbed unalerted: the
    morning ramp is learned as it comes (measured: 0.5 alerts per such shift)."""
    series = steady(random.Random(2), 50, MONDAY, 35 * 24)
    rng = random.Random(9)
    shifted = series[: 17 * 24] + [(t, poisson(rng, 3 * rate(50, t))) for t, _ in series[17 * 24 :]]
    state, events = replay(shifted, RULE)
    assert 1 <= len(opened(events)) <= 3
    assert all(e.opened_window_start < shifted[20 * 24][0] for e in opened(events))
    assert state is not None and state.open_alert is None


def test_no_alert_before_the_warm_up_nor_below_the_minimum_count() -> None:
    series = _history(days=14)
    spike_day_2 = with_surge(series, 2 * 24 + 10, 8.0, 1, seed=1, peak=10.0)
    assert opened(replay(spike_day_2, RULE)[1]) == []
    assert opened(replay(spike_day_2, AlertRule(warmup=timedelta(days=1)))[1])

    # 3 a.m., where a sixth of an event is expected: 8 events score well above the
    # threshold, and open an alert only where at least 8 are the minimum count.
    night = 10 * 24 + 3
    spiked = [*series[:night], (series[night][0], 8), *series[night + 1 :]]
    expectation = next_expectation(replay(series[:night], RULE)[0], RULE)
    assert expectation is not None and expectation.expected < 0.25
    assert tail_score(8, expectation.expected, expectation.variance) > RULE.threshold + 0.5
    assert opened(replay(spiked, AlertRule(min_count=9))[1]) == []
    (alert,) = opened(replay(spiked, AlertRule(min_count=8))[1])
    assert alert.observed == 8 and alert.opened_window_start == series[night][0]


def test_skipped_windows_are_windows_without_events() -> None:
    quiet = [(MONDAY - (i + 1) * HOUR, 0) for i in reversed(range(30))]
    series = with_surge(_history(peak=2.0, days=28), 22 * 24 + 11, 8.0, 2, seed=5, peak=2.0)
    assert series[0][1] == 0 and sum(v == 0 for _, v in series) > 200
    series.append((series[-1][0] + HOUR, 1))  # the state is compared after an event
    sparse = [(t, v) for t, v in series if v]
    # Zeros before the first event are no history either (the stream never sees them).
    assert replay(sparse, RULE) == replay(series, RULE) == replay(quiet + series, RULE)
    assert opened(replay(series, RULE)[1])
    assert observe(None, MONDAY, 0, RULE) == (None, ())


def test_a_skipped_window_closes_the_open_alert_and_the_next_may_open_another() -> None:
    series = _history(days=21)
    at = 16 * 24 + 10  # Wednesday, 10:00
    state = replay(series[:at], RULE)[0]
    state, events = observe(state, series[at][0], 60, RULE)
    assert [e.kind for e in events] == ["opened"] and state.open_alert is not None
    state, events = observe(state, series[at + 3][0], 70, RULE)  # two windows skipped
    assert [e.kind for e in events] == ["closed", "opened"]
    assert events[0].closed_window_start == series[at + 1][0]
    assert events[1].opened_window_start == series[at + 3][0]


def test_observing_window_by_window_through_json_is_one_replay() -> None:
    series = with_surge(_history(seed=4, days=20), 18 * 24 + 13, 5.0, 3, seed=2, peak=10.0)
    whole_state, whole_events = replay(series, RULE)
    assert opened(whole_events)
    state, events = None, []
    for t, volume in series:
        state, new = observe(state, t, volume, RULE)
        state = state and state_from_json(state_to_json(state))
        events.extend(new)
    assert events == whole_events and state == whole_state
    assert pickle.loads(pickle.dumps(whole_state)) == whole_state
    # Split anywhere, the second half continues from the first's state.
    half_state, first = replay(series[:440], RULE)
    end_state, second = replay(series[440:], RULE, half_state)
    assert (end_state, first + second) == (whole_state, whole_events)


def test_the_state_is_small_json() -> None:
    state = replay(_history(days=35), RULE)[0]
    assert state is not None
    assert len(state.history) == RULE.history_length == 4 * 168 + 1
    assert len(state_to_json(state)) < 6_000
    with pytest.raises(ValueError, match="version"):
        state_from_json(state_to_json(state).replace('"version":1', '"version":0'))


@pytest.mark.parametrize(
    ("window_start", "message"),
    [
        (datetime(2024, 1, 1, 5), "time zone"),
        (datetime(2024, 1, 1, 5, 30, tzinfo=UTC), "aligned"),
        (datetime(2024, 1, 1, 1, tzinfo=UTC), "not after"),
    ],
)
def test_observe_rejects_windows_it_cannot_place(window_start: datetime, message: str) -> None:
    state, _ = observe(None, datetime(2024, 1, 1, 2, tzinfo=UTC), 3, RULE)
    with pytest.raises(ValueError, match=message):
        observe(state, window_start, 1, RULE)
    with pytest.raises(ValueError, match="negative"):
        observe(state, datetime(2024, 1, 1, 3, tzinfo=UTC), -1, RULE)
    with pytest.raises(ValueError, match="width"):
        observe(state, datetime(2024, 1, 1, 4, tzinfo=UTC), 1, AlertRule(window=2 * HOUR))


# -- evaluation: false alerts on steady traffic, planted surges -------------------

SEEDS = range(200)
LEVELS = (2, 10, 50)  # events per hour at the weekly peak
FACTORS = (3, 4, 6)
SURGE_HOURS = 3
FOLLOW = 12  # windows replayed after a surge


@dataclass
class Evaluation:
    false_alerts: int = 0
    detected: dict[int, int] = field(default_factory=dict)
    delays: dict[int, list[int]] = field(default_factory=dict)
    # a detected surge that was more than one alert, or did not close exactly once
    # within FOLLOW windows; and how many windows after the surge's end it closed
    storms: dict[int, int] = field(default_factory=dict)
    close_lags: dict[int, list[int]] = field(default_factory=dict)


@functools.cache
def evaluate(peak: int) -> Evaluation:
    """30 days per seed; the surge goes on a weekday business hour after day 14.

    The surges branch off the steady replay's state at the surge's start, so each costs
    a few windows instead of 30 days.
    """
    result = Evaluation()
    for seed in SEEDS:
        rng = random.Random(seed)
        start = MONDAY + timedelta(days=rng.randrange(7), hours=rng.randrange(24))
        series = steady(rng, peak, start, 30 * 24)
        while True:
            at = rng.randrange(15 * 24, 28 * 24)
            t = series[at][0]
            if t.weekday() < 5 and 9 <= t.hour <= 14:
                break
        state, before = replay(series[:at], RULE)
        result.false_alerts += len(opened(before) + opened(replay(series[at:], RULE, state)[1]))
        for factor in FACTORS:
            branch = with_surge(series, at, factor, SURGE_HOURS, seed * 100 + factor, peak)
            events = replay(branch[at : at + SURGE_HOURS + FOLLOW], RULE, state)[1]
            windows = [int((e.opened_window_start - t) / HOUR) for e in opened(events)]
            if not windows or windows[0] >= SURGE_HOURS:
                continue
            result.detected[factor] = result.detected.get(factor, 0) + 1
            result.delays.setdefault(factor, []).append(windows[0])
            closes = [e for e in events if e.kind == "closed"]
            if len(windows) != 1 or len(closes) != 1:
                result.storms[factor] = result.storms.get(factor, 0) + 1
            else:
                lag = int((closes[0].closed_window_start - t) / HOUR) - SURGE_HOURS
                result.close_lags.setdefault(factor, []).append(lag)
    return result


def _summary(peak: int) -> str:
    result, n = evaluate(peak), len(SEEDS)
    parts = [f"level {peak}: {result.false_alerts / n:.3f} false alerts / 30 days"]
    for factor in FACTORS:
        delays = result.delays.get(factor, [])
        parts.append(
            f"{factor}x: detected {result.detected.get(factor, 0) / n:.0%}, "
            f"delay {sum(delays) / max(1, len(delays)):.2f}, "
            f"storms {result.storms.get(factor, 0)}"
        )
    return "; ".join(parts)


@pytest.mark.parametrize("peak", LEVELS)
def test_steady_traffic_rarely_alerts(peak: int) -> None:
    # Measured: 0.005 (level 2), 0.005 (10), 0.01 (50) false alerts per cause per 30 days.
    assert evaluate(peak).false_alerts / len(SEEDS) < 0.05, _summary(peak)


@pytest.mark.parametrize(
    ("peak", "factor", "at_least"),
    [
        # Measured over these seeds: level 10 finds 3x in 72%, 4x in 96.5% (target 95%:
        # 3 seeds of margin), 6x in all; level 50 finds all; level 2 (6-12 events
        # where 1.5-2 are expected) finds 6x in 61% and 4x in 18%: within the noise.
        (10, 4, 0.95),
        (10, 6, 0.99),
        (10, 3, 0.6),
        (50, 3, 0.99),
        (50, 4, 1.0),
        (50, 6, 1.0),
        (2, 6, 0.5),
    ],
)
def test_planted_surges_are_found(peak: int, factor: int, at_least: float) -> None:
    result = evaluate(peak)
    assert result.detected.get(factor, 0) / len(SEEDS) >= at_least, _summary(peak)


@pytest.mark.parametrize("peak", LEVELS)
def test_each_found_surge_is_one_alert_that_closes_once_soon_after(peak: int) -> None:
    result = evaluate(peak)
    # Measured: 2 of 1,303 found surges were two alerts (e.g. level 10, 3x: the middle
    # hour drew 10 events where 8 were expected and 24 surged: it did subside, a window).
    found = sum(result.detected.values())
    assert sum(result.storms.values()) <= 0.01 * found, _summary(peak)
    lags = [lag for factor in FACTORS for lag in result.close_lags.get(factor, [])]
    assert lags and max(lags) <= 2, _summary(peak)
    # Most close with the first window after the surge (some inside its last, weaker hour).
    assert sum(lag <= 0 for lag in lags) / len(lags) >= 0.9, _summary(peak)
    if peak >= 10:
        delays = result.delays[4]
        assert sum(delays) / len(delays) <= 0.2, _summary(peak)


def test_a_surge_that_builds_up_is_caught_when_it_peaks() -> None:
    """The planted surge of the demo, in its shape: its first hours score under the
    threshold. Learned whole, they raised the level and the spread until even the
    peak (7x) scored under it; learned winsorised, the peak opens the alert."""
    series = _history(days=24, peak=4.0)
    at = 22 * 24 + 10  # a Tuesday, 10:00, with three weeks of history
    ramp = [
        (t, round(factor * rate(4.0, t)))
        for (t, _), factor in zip(series[at : at + 3], (3.5, 5.0, 7.5), strict=True)
    ]
    surged = series[:at] + ramp + series[at + 3 :]
    found = opened(replay(surged, RULE)[1])
    assert len(found) == 1 and series[at][0] <= found[0].opened_window_start <= series[at + 2][0]
    assert opened(replay(series, RULE)[1]) == []
