"""Volume spikes of one (department, cause): a pure baseline, a score, one alert per surge.

The stream's stateful step calls :func:`observe` once per finalised event-time window, in
window order; the batch reconciliation calls :func:`replay` / :func:`alerts_over` over the
whole history. Both run the same per-window step, so alerts are a deterministic function
of the sequence of (window_start, volume): a skipped window is a window of volume 0 (filled
in here), history starts at the cause's first window with events, and a state written to
JSON and read back (:func:`state_to_json`) continues exactly like one that never was.

*Expected volume.* Feedback has a strong daily and weekly cycle: an EWMA of recent windows
lags every morning ramp and "detects" every Monday. So ``seasonal`` (from
``seasonal_min_weeks`` weeks of history) pools the same hour of week, and its neighbouring
windows, over the last ``seasonal_weeks`` weeks (the slot is the window start's position in
the week over the width: the window ``windows_per_week`` back); before that, ``recent``
pools the same hour of day over the last ``recent_days`` days. The pool (6-21 values) is
summarised by a lightly trimmed mean (a median of a few small counts is biased low, and a
low expectation is a false alert), then scaled by the recent level (learned volume of the
last ``level_windows`` windows over their expectation, shrunk, clamped to [1, 4]): only
ever up, so growth and lasting shifts are absorbed while a quiet day (a holiday) never
lowers the next day's expectation into a false alert.

*Score.* The normal quantile of the exact mid-p upper tail (:func:`tail_score`) of a
negative binomial: mean the expectation, variance Poisson noise plus the expectation's own
uncertainty (a mean of n values), a relative tolerance (0.1 seasonal; 0.3 recent, which
mixes weekdays and weekends) and a learned over-dispersion (EWMAs of squared residuals
beyond the model over squared expectations, per method, from ordinary windows: feedback
varies more than Poisson). A z-score would call 6 events where 0.5 were expected a
7.8-sigma event; it is a 4.2-sigma one. An alert opens on ``observed >= min_count`` and
``score >= threshold``, not during the warm-up: a week by default, since a day of history
cannot tell a Monday from a surge after a weekend (with 24 windows a B2B-like cause at
50/h had 0.48 false alerts per 30 days; with a week, 0.005).

*The surge is not learned as the new normal.* An open alert's windows are learned capped
at ``expected + close_threshold * sigma`` and do not feed the over-dispersion; capping
rather than skipping keeps every slot's history and lets a lasting shift in slowly.

*Hysteresis.* An alert stays one alert (``updated`` events carry its peak) until the first
window scoring below ``close_threshold`` (1.5 sigma; threshold / 2 split 3x surges in two
whenever one hour drew low) and closes with that window. So the first skipped window closes
an open alert: while ``state.open_alert`` is set, call for every finalised window, or the
close is only seen (with the right window) at the cause's next event.

Measured by the tests (200 synthetic 30-day Poisson series per level, daily and weekly
cycle): 0.005 / 0.005 / 0.01 false alerts per cause per 30 days at 2 / 10 / 50 events per
peak hour; 3-hour surges of 3x / 4x / 6x found in 72 / 96 / 100% at level 10, all at level
50, 4 / 18 / 61% at level 2 (6-12 events where 1.5-2 are expected: within the noise).

*Why not apache_beam.ml.anomaly* (Beam 2.77): its ZScore / RobustZScore / IQR trackers
window over the last N *elements*, not event time (a quiet window never reaches them,
nothing knows the hour of week); ``_ScoreAndLearnDoFn`` learns every element, so a surge
becomes the new normal; scores are absolute and not count-aware (MAD is 0 on small counts,
and RobustZScore then returns 0); the output is a label per element, with no open alert,
peak or close; and the model is a cloudpickled object in Beam state, which the batch
reconciliation (DuckDB, no pipeline) could not use to recompute the same alerts.

Caller notes: window starts must be timezone-aware and aligned to the width (as Beam's
FixedWindows are). Slots are UTC: a DST change shifts local traffic by a window for a few
weeks (absorbed by the tolerance). The state keeps ``seasonal_weeks`` weeks of learned
volumes: 673 numbers at 1 h, about 3 KB of JSON.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from itertools import islice
from statistics import NormalDist
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from voc.transforms.derived.settings import EventTimeSettings

Method = Literal["seasonal", "recent"]
EventKind = Literal["opened", "updated", "closed"]

STATE_VERSION = 1
_DAY = 86_400
_WEEK = 7 * _DAY
_NORMAL = NormalDist()


@dataclass(frozen=True)
class AlertRule:
    """When a window's volume is a spike. ``from_settings`` takes the pipeline's knobs."""

    threshold: float = 4.0  # score at which an alert opens
    min_count: int = 5  # and only on at least this many events
    window: timedelta = timedelta(hours=1)
    close_threshold: float = 1.5  # an open alert closes in the first window scoring below
    learn_cap: float = 2.5  # outside an alert, a window is learned at most this many sd up
    warmup: timedelta = timedelta(days=7)  # no alert before this much history
    seasonal_weeks: int = 4  # weeks of history kept per hour-of-week slot
    seasonal_min_weeks: int = 2  # weeks needed before the seasonal expectation is used
    recent_days: int = 7  # days the recent (hour-of-day) expectation looks back
    slot_spread: int = 1  # neighbouring windows pooled on each side of a slot
    trim: float = 0.1  # fraction of the pooled values dropped at each end
    floor_events: float = 0.5  # the expectation is at least this many events over the pool
    seasonal_tolerance: float = 0.1  # relative model error of each expectation
    recent_tolerance: float = 0.3
    level_windows: int = 24  # the recent level is measured over this many windows
    level_prior: float = 10.0  # events of shrinkage of the level ratio toward 1
    max_level_ratio: float = 4.0
    dispersion_windows: int = 168  # memory of the over-dispersion EWMAs
    dispersion_prior_windows: int = 72  # weight of the prior over a method's own estimate

    def __post_init__(self) -> None:
        width = self.window.total_seconds()
        if width <= 0 or width != int(width) or _DAY % int(width):
            raise ValueError(f"alert window {self.window} must be whole seconds dividing a day")
        if self.threshold <= 0 or self.min_count < 1:
            raise ValueError("alert threshold must be positive and its minimum count >= 1")
        if not 0 <= self.close_threshold < self.threshold:
            raise ValueError("close threshold must be in [0, threshold)")
        if not 1 <= self.seasonal_min_weeks <= self.seasonal_weeks:
            raise ValueError("need 1 <= seasonal_min_weeks <= seasonal_weeks")
        if self.recent_days < 1 or self.level_windows < 1:
            raise ValueError("recent_days and level_windows must be >= 1")
        if not 0 <= 2 * self.slot_spread < self.windows_per_day:
            raise ValueError("slot spread must be >= 0 and stay within a day's slots")
        if not 0 <= self.trim < 0.5:
            raise ValueError("trim must be in [0, 0.5)")
        if self.floor_events <= 0 or self.seasonal_tolerance < 0 or self.recent_tolerance < 0:
            raise ValueError("floor events must be positive and tolerances >= 0")
        if self.level_prior <= 0 or self.max_level_ratio < 1:
            raise ValueError("level prior must be positive and max level ratio >= 1")
        if self.dispersion_windows < 1 or self.dispersion_prior_windows < 0:
            raise ValueError("dispersion windows must be >= 1 and its prior >= 0")
        if self.warmup < timedelta(days=1):
            raise ValueError("warm-up must be at least a day: the recent expectation needs one")

    @classmethod
    def from_settings(cls, settings: EventTimeSettings, **overrides: object) -> AlertRule:
        """The rule the pipeline's event-time settings ask for (and any other knob given)."""
        knobs: dict[str, object] = {
            "threshold": settings.alert_threshold,
            "min_count": settings.alert_min_count,
            "window": settings.rollup_window,
        }
        return cls(**{**knobs, **overrides})  # type: ignore[arg-type]

    # Derived once per rule (cached_property writes the instance's __dict__, which a
    # frozen dataclass allows): the step runs per window, per cause.
    @cached_property
    def width_seconds(self) -> int:
        return int(self.window.total_seconds())

    @cached_property
    def windows_per_day(self) -> int:
        return _DAY // self.width_seconds

    @cached_property
    def windows_per_week(self) -> int:
        return _WEEK // self.width_seconds

    @cached_property
    def warmup_windows(self) -> int:
        return math.ceil(self.warmup / self.window)

    @cached_property
    def history_length(self) -> int:
        return self.seasonal_weeks * self.windows_per_week + self.slot_spread

    @cached_property
    def seasonal_lags(self) -> tuple[int, ...]:
        """How many windows back the same hour of week (and its neighbours) lie."""
        return self._lags(self.windows_per_week, self.seasonal_weeks)

    @cached_property
    def recent_lags(self) -> tuple[int, ...]:
        """How many windows back the same hour of day (and its neighbours) lie."""
        return self._lags(self.windows_per_day, self.recent_days)

    def _lags(self, period: int, periods: int) -> tuple[int, ...]:
        spread = self.slot_spread
        return tuple(
            lag
            for centre in range(period, period * periods + 1, period)
            for lag in range(centre - spread, centre + spread + 1)
        )


@dataclass(frozen=True)
class OpenAlert:
    """The alert a cause has open: its opening window's numbers and its peak so far."""

    opened_start: int  # epoch seconds
    observed: int
    expected: float
    score: float
    method: Method
    peak_observed: int
    peak_score: float


@dataclass(frozen=True)
class BaselineState:
    """All a cause's alerting needs between windows; plain values, so pickle and JSON work.

    ``history`` is the learned volume of the last windows, oldest first, newest being
    the window at ``last_start`` (learned: as observed, or capped inside an alert).
    ``bases`` is the un-scaled expectation of the same last windows (for the level ratio).
    """

    width_seconds: int
    last_start: int  # epoch seconds of the last window observed
    windows: int  # windows observed since the first, gaps included
    history: tuple[float, ...]
    bases: tuple[float, ...]
    # Per method: EWMAs of the squared residual beyond the model's variance and of the
    # squared expectation (their ratio is the over-dispersion), and windows learned.
    spread_seasonal: tuple[float, float, int] = (0.0, 0.0, 0)
    spread_recent: tuple[float, float, int] = (0.0, 0.0, 0)
    open_alert: OpenAlert | None = None


@dataclass(frozen=True)
class AlertEvent:
    """One change to a cause's alert row, shaped like the ``alerts`` table.

    ``observed`` / ``expected`` / ``score`` / ``method`` are the opening window's;
    ``window_*`` are the window just evaluated (``last_window_start``).
    """

    kind: EventKind
    opened_window_start: datetime
    last_window_start: datetime
    closed_window_start: datetime | None
    observed: int
    expected: float
    score: float
    method: Method
    peak_observed: int
    peak_score: float
    window_observed: int
    window_expected: float
    window_score: float
    window_method: Method

    @property
    def status(self) -> str:
        return "closed" if self.kind == "closed" else "open"


class _Work:
    """The mutable copy of a state that a run of windows works on."""

    __slots__ = ("bases", "history", "last_start", "open_alert", "spread", "windows")

    def __init__(self, state: BaselineState, rule: AlertRule) -> None:
        self.last_start = state.last_start
        self.windows = state.windows
        self.history: deque[float] = deque(state.history, maxlen=rule.history_length)
        self.bases: deque[float] = deque(state.bases, maxlen=rule.level_windows)
        self.spread = {"seasonal": state.spread_seasonal, "recent": state.spread_recent}
        self.open_alert = state.open_alert

    def freeze(self, width_seconds: int) -> BaselineState:
        return BaselineState(
            width_seconds=width_seconds,
            last_start=self.last_start,
            windows=self.windows,
            history=tuple(self.history),
            bases=tuple(self.bases),
            spread_seasonal=self.spread["seasonal"],
            spread_recent=self.spread["recent"],
            open_alert=self.open_alert,
        )


def _epoch(window_start: datetime, rule: AlertRule) -> int:
    if window_start.tzinfo is None or window_start.utcoffset() is None:
        raise ValueError(f"window start {window_start} has no time zone")
    seconds = window_start.timestamp()
    if seconds != int(seconds) or int(seconds) % rule.width_seconds:
        raise ValueError(f"window start {window_start} is not aligned to {rule.window}")
    return int(seconds)


def _datetime(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _trimmed_mean(values: list[float], trim: float) -> tuple[float, int]:
    """The mean of the values without the ``trim`` fraction at each end, and how many."""
    values.sort()
    cut = int(len(values) * trim)
    kept = values[cut : len(values) - cut] if cut else values
    return math.fsum(kept) / len(kept), len(kept)


def _base(history: deque[float], rule: AlertRule) -> tuple[Method, float, int] | None:
    """The un-scaled expectation for the window after ``history``: method, value, values.

    A slot counts only once its centre (the same hour that many weeks or days ago) is in
    the history; its neighbours then count if they are too.
    """
    length = len(history)
    if length >= rule.seasonal_min_weeks * rule.windows_per_week:
        method: Method = "seasonal"
        lags, period = rule.seasonal_lags, rule.windows_per_week
    elif length >= rule.windows_per_day:
        method = "recent"
        lags, period = rule.recent_lags, rule.windows_per_day
    else:
        return None
    if lags[-1] <= length:
        pooled = [history[-lag] for lag in lags]
    else:
        oldest_centre = length // period * period
        pooled = [
            history[-lag]
            for lag in lags
            if lag <= length and lag - rule.slot_spread <= oldest_centre
        ]
    mean, kept = _trimmed_mean(pooled, rule.trim)
    return method, mean, kept


def _level_ratio(work: _Work, rule: AlertRule) -> float:
    n = len(work.bases)
    if not n:
        return 1.0
    learned = math.fsum(islice(reversed(work.history), n))
    ratio = (learned + rule.level_prior) / (math.fsum(work.bases) + rule.level_prior)
    return min(max(ratio, 1.0), rule.max_level_ratio)


def _overdispersion(work: _Work, method: Method, rule: AlertRule) -> float:
    """The learned extra variance per squared expected event (a negative binomial's 1/r).

    A method's own estimate is noisy while it has learned few windows, so it is shrunk
    toward a prior worth ``dispersion_prior_windows`` windows: 0 for the recent method
    (which has the whole warm-up to learn), the recent method's estimate for the
    seasonal one (which takes over from it).
    """
    excess, scale, learned = work.spread[method]
    prior = 0.0 if method == "recent" else _overdispersion(work, "recent", rule)
    own = excess / scale if scale > 0 else 0.0
    weight = rule.dispersion_prior_windows
    return max(0.0, (learned * own + weight * prior) / (learned + weight or 1))


def _learn_spread(work: _Work, volume: int, expectation: Expectation, rule: AlertRule) -> None:
    """Learn how much more the volume varies than the model says, from an ordinary window.

    The ratio of two EWMAs, (squared residual - model variance) over squared expectation,
    weights busy windows most, where over-dispersion matters; the residual is winsorised
    at the threshold so one odd window cannot teach the baseline to ignore the next.
    """
    excess, scale, learned = work.spread[expectation.method]
    weight = 1.0 / min(learned + 1, rule.dispersion_windows)
    expected = expectation.expected
    squared = min((volume - expected) ** 2, rule.threshold**2 * expectation.variance)
    excess += weight * (squared - expectation.model_variance - excess)
    scale += weight * (expected * expected - scale)
    work.spread[expectation.method] = (excess, scale, learned + 1)


def tail_score(observed: int, mean: float, variance: float) -> float:
    """How surprising ``observed`` events are, as a normal z: the mid-p tail probability of
    a negative binomial with this mean and variance (Poisson if variance <= mean).

    Exact for small counts, where a normal approximation would call 6 events where 0.5
    were expected a 7.8-sigma event (it is a 4.2-sigma one). Positive above the mean.
    """
    if mean <= 0 or variance <= 0:
        raise ValueError("the mean and variance must be positive")
    if mean > 10_000:  # the loops below would be long, and the normal is close enough
        return (observed - mean) / math.sqrt(variance)
    poisson = variance <= mean * (1 + 1e-9)
    r = 0.0 if poisson else mean * mean / (variance - mean)
    keep = mean / (r + mean)  # the negative binomial's "failure" probability

    def up(k: int) -> float:  # pmf(k + 1) / pmf(k)
        return mean / (k + 1) if poisson else (k + r) * keep / (k + 1)

    if poisson:
        log_pmf = observed * math.log(mean) - mean - math.lgamma(observed + 1)
    else:
        log_pmf = math.lgamma(observed + r) - math.lgamma(r) - math.lgamma(observed + 1)
        log_pmf += r * math.log1p(-keep) + observed * math.log(keep)
    upper = observed >= mean
    total, term, k = 0.5, 1.0, observed
    if upper:
        while True:
            term *= up(k)
            k += 1
            total += term
            if term < 1e-17 * total and up(k) < 1:
                break
    else:
        while k > 0 and term > 1e-17 * total:
            k -= 1
            term /= up(k)
            total += term
    log_p = log_pmf + math.log(total)
    if log_p > -700:  # mid-p is below 1, but may round to it
        z = _NORMAL.inv_cdf(min(math.exp(log_p), 1 - 1e-16))
    else:  # beyond floats: Q(z) ~ pdf(z) / z, solved for z
        z = math.sqrt(-2 * log_p)
        for _ in range(3):
            z = math.sqrt(-2 * log_p - 2 * math.log(z) - math.log(2 * math.pi))
        z = -z
    return -z if upper else z


class Expectation(NamedTuple):
    """What the baseline expects of a window: a negative binomial's mean and variance."""

    method: Method
    base: float  # before the recent level's ratio
    expected: float
    model_variance: float  # Poisson, the estimate's own uncertainty and the tolerance
    variance: float  # plus the learned over-dispersion


def _expect(work: _Work, rule: AlertRule) -> Expectation | None:
    found = _base(work.history, rule)
    if found is None:
        return None
    method, base, pooled = found
    expected = max(base * _level_ratio(work, rule), rule.floor_events / pooled)
    tolerance = rule.seasonal_tolerance if method == "seasonal" else rule.recent_tolerance
    model_variance = expected * (1 + 1 / pooled) + (tolerance * expected) ** 2
    variance = model_variance + _overdispersion(work, method, rule) * expected * expected
    return Expectation(method, base, expected, model_variance, variance)


def _step(work: _Work, start: int, volume: int, rule: AlertRule) -> AlertEvent | None:
    """Evaluate, then learn, one window; the only place the baseline changes."""
    expectation = _expect(work, rule)
    event: AlertEvent | None = None
    learned: float = volume
    if expectation is not None:
        method, _, expected, _, variance = expectation
        pearson = (volume - expected) / math.sqrt(variance)
        alert = work.open_alert
        # The exact tail costs a loop: it is needed only while an alert is open, or where
        # the window could open one. Above the mean, the tail score of a Poisson or
        # negative binomial is never more than 1 above the normal approximation's
        # (and below it from 2 on: the right tail is heavy), which a test checks.
        candidate = (
            work.windows >= rule.warmup_windows
            and volume >= rule.min_count
            and pearson >= rule.threshold - 1
        )
        score = tail_score(volume, expected, variance) if alert or candidate else pearson
        cap = expected + rule.close_threshold * math.sqrt(variance)
        if alert is not None:
            if score < rule.close_threshold:
                work.open_alert = None
                event = _event("closed", alert, start, volume, expected, score, method)
            else:
                if volume > alert.peak_observed or score > alert.peak_score:
                    alert = replace(
                        alert,
                        peak_observed=max(alert.peak_observed, volume),
                        peak_score=max(alert.peak_score, score),
                    )
                    work.open_alert = alert
                event = _event("updated", alert, start, volume, expected, score, method)
            learned = min(volume, cap)
        elif candidate and score >= rule.threshold:
            alert = OpenAlert(start, volume, expected, score, method, volume, score)
            work.open_alert = alert
            event = _event("opened", alert, start, volume, expected, score, method)
            learned = min(volume, cap)
        else:
            # Winsorised: the first hours of a surge score under the threshold, and
            # learned whole they raise the level and the spread enough that the surge
            # never scores over it (measured on the demo's planted surge).
            learned = min(volume, expected + rule.learn_cap * math.sqrt(variance))
            _learn_spread(work, learned, expectation, rule)
    work.history.append(learned if learned == volume else round(learned, 6))
    work.bases.append(volume if expectation is None else expectation.base)
    work.last_start = start
    work.windows += 1
    return event


def _event(
    kind: EventKind,
    alert: OpenAlert,
    start: int,
    volume: int,
    expected: float,
    score: float,
    method: Method,
) -> AlertEvent:
    return AlertEvent(
        kind=kind,
        opened_window_start=_datetime(alert.opened_start),
        last_window_start=_datetime(start),
        closed_window_start=_datetime(start) if kind == "closed" else None,
        observed=alert.observed,
        expected=alert.expected,
        score=alert.score,
        method=alert.method,
        peak_observed=alert.peak_observed,
        peak_score=alert.peak_score,
        window_observed=volume,
        window_expected=expected,
        window_score=score,
        window_method=method,
    )


def _advance(
    work: _Work, start: int, volume: int, rule: AlertRule, events: list[AlertEvent]
) -> None:
    """The skipped windows (volume 0) up to ``start``, then the window at ``start``."""
    if volume < 0:
        raise ValueError(f"volume {volume} is negative")
    if start <= work.last_start:
        raise ValueError(
            f"window {_datetime(start)} is not after the last one, {_datetime(work.last_start)}"
        )
    for window in range(work.last_start + rule.width_seconds, start + 1, rule.width_seconds):
        event = _step(work, window, volume if window == start else 0, rule)
        if event is not None:
            events.append(event)


def observe(
    state: BaselineState | None, window_start: datetime, volume: int, rule: AlertRule
) -> tuple[BaselineState | None, tuple[AlertEvent, ...]]:
    """Evaluate and learn the window at ``window_start`` (and any skipped before it).

    Returns the new state (the given one is not changed) and the alert events, oldest
    first: usually none or one; two when a skipped window closed an alert and this one
    opened another. Windows must come in increasing order. A cause's history begins with
    its first window with events: before it, a window of volume 0 leaves the state None,
    so a stream that first hears of a cause at its first event and a batch that feeds
    every window from an earlier date agree.
    """
    state, events = replay([(window_start, volume)], rule, state)
    return state, tuple(events)


def replay(
    series: Iterable[tuple[datetime, int]],
    rule: AlertRule,
    state: BaselineState | None = None,
) -> tuple[BaselineState | None, list[AlertEvent]]:
    """Every alert event of a series of (window_start, volume), and the state after it.

    The same steps as calling :func:`observe` per window (windows may be skipped,
    leading windows of volume 0 are no history), without copying the state between
    windows. The state is None while no window had events.
    """
    work: _Work | None = None
    if state is not None:
        if state.width_seconds != rule.width_seconds:
            raise ValueError("the state was built with another window width")
        work = _Work(state, rule)
    events: list[AlertEvent] = []
    for window_start, volume in series:
        start = _epoch(window_start, rule)
        if work is None:  # nothing is known (not even zeros) before the first event
            if not volume:
                continue
            empty = BaselineState(rule.width_seconds, start - rule.width_seconds, 0, (), ())
            work = _Work(empty, rule)
        _advance(work, start, volume, rule, events)
    return (None if work is None else work.freeze(rule.width_seconds)), events


def alerts_over(series: Iterable[tuple[datetime, int]], rule: AlertRule) -> list[AlertEvent]:
    """Each alert of a series as its row ends up: its latest event, in opening order."""
    latest: dict[datetime, AlertEvent] = {}
    for event in replay(series, rule)[1]:
        latest[event.opened_window_start] = event
    return list(latest.values())


def next_expectation(state: BaselineState, rule: AlertRule) -> Expectation | None:
    """What the baseline expects of the window after ``state.last_start`` (None: too
    little history), e.g. to show expected volumes next to the rollups."""
    return _expect(_Work(state, rule), rule)


def state_to_json(state: BaselineState) -> str:
    """The state as compact JSON; floats round-trip exactly, so a replay continues the same."""
    return json.dumps({"version": STATE_VERSION, **asdict(state)}, separators=(",", ":"))


def state_from_json(text: str) -> BaselineState:
    data = json.loads(text)
    if data.pop("version", None) != STATE_VERSION:
        raise ValueError("alert state of an unknown version: rebuild it by replaying history")
    alert = data.pop("open_alert")
    return BaselineState(
        **{key: tuple(value) if isinstance(value, list) else value for key, value in data.items()},
        open_alert=None if alert is None else OpenAlert(**alert),
    )
