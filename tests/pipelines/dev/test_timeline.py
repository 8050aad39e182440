"""Generated data with time in it (--days): cycles, surge, repeats, late arrivals, truth."""

from __future__ import annotations

import itertools
import json
import random
import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.pipelines.cli_results import assert_one_line_error, run_in_process
from voc.pipelines.cli import build_parser
from voc.pipelines.cli.dev import MAX_EVENT_AGE, MAX_FUTURE_SKEW
from voc.pipelines.dev.generate import (
    DEFAULT_SURGE_CAUSE,
    DEPARTMENTS,
    NO_CAUSE,
    PRIMARY_WEIGHTS,
    GeneratedMessage,
    default_start,
    generate_events,
    generate_with_truth,
    read_jsonl,
    truth_path,
)
from voc.pipelines.dev.generate import timeline as timeline_module
from voc.pipelines.dev.generate.timeline import Timeline
from voc.transforms.derived.settings import DEFAULT_SETTINGS

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
DAYS = 21
HOUR = 3600
DAY = 24 * HOUR


@pytest.fixture(scope="module")
def run() -> tuple[list[GeneratedMessage], object, dict]:
    return generate_with_truth(10_000, seed=11, start=START, days=DAYS)


def epoch(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339).timestamp()


def valid(messages: list[GeneratedMessage]) -> list[GeneratedMessage]:
    return [message for message in messages if message.kind == "valid"]


def window_of(event_time: str) -> str:
    return event_time[:13] + ":00:00Z"


# --------------------------------------------------------------------------- determinism


def test_same_seed_and_start_give_the_same_bytes_and_truth() -> None:
    first = generate_with_truth(1500, seed=5, start=START, days=10)
    second = generate_with_truth(1500, seed=5, start=START, days=10)
    assert first[0] == second[0]
    assert first[1] == second[1]
    dump = [json.dumps(result[2], sort_keys=True) for result in (first, second)]
    assert dump[0] == dump[1]
    other = generate_with_truth(1500, seed=6, start=START, days=10)
    assert [m.data for m in other[0]] != [m.data for m in first[0]]
    assert other[2]["hourly"] != first[2]["hourly"]


def test_generate_events_is_generate_with_truth_without_the_truth() -> None:
    for kwargs in ({}, {"start": START, "days": 3}):
        messages, report = generate_events(700, seed=3, **kwargs)
        with_truth = generate_with_truth(700, seed=3, **kwargs)
        assert (messages, report) == with_truth[:2]


def test_without_days_the_four_hour_stream_is_unchanged() -> None:
    """--days is opt-in: the old span, arrival model and report stay as they were."""
    messages, _, truth = generate_with_truth(800, seed=42)
    assert (messages, _) == generate_events(800, seed=42)
    times = [epoch(m.attributes["event_time"]) for m in valid(messages)]
    first = datetime(2026, 1, 5, 9, tzinfo=UTC).timestamp()
    assert first <= min(times) and max(times) < first + 9 * HOUR
    assert truth["parameters"]["days"] is None and truth["surge"] is None
    assert truth["late_event_ids"] == []
    assert sum(w["message_total"] for w in truth["hourly"].values()) == len(times)


@pytest.mark.parametrize(
    "kwargs",
    [{"days": 0}, {"days": -2}, {"days": 1.5}, {"days": True}, {"days": 2, "surge_cause": "x"}],
)
def test_bad_time_arguments_are_rejected(kwargs) -> None:
    with pytest.raises(ValueError):
        generate_events(10, start=START, **kwargs)


# --------------------------------------------------------------------------- the span


def test_event_times_stay_inside_the_span(run) -> None:
    messages, report, truth = run
    times = [epoch(m.attributes["event_time"]) for m in messages if m.kind != "malformed"]
    assert min(times) >= START.timestamp()
    assert max(times) < (START + timedelta(days=DAYS)).timestamp()
    assert len(messages) == report.messages == 10_000
    assert truth["parameters"]["start"] == "2026-03-02T00:00:00Z"
    assert truth["parameters"]["end"] == "2026-03-23T00:00:00Z"
    assert len(truth["hourly"]) == DAYS * 24 and len(truth["daily"]) == DAYS


def test_default_start_ends_the_span_at_the_current_hour() -> None:
    before = datetime.now(UTC)
    messages, _, truth = generate_with_truth(300, seed=2, days=2)
    after = datetime.now(UTC)
    assert truth["parameters"]["start"] in {
        f"{default_start(2, moment):%Y-%m-%dT%H:%M:%SZ}" for moment in (before, after)
    }
    latest = max(epoch(m.attributes["event_time"]) for m in valid(messages))
    assert latest <= after.timestamp()  # nothing in the future, late surveys included
    now = datetime(2026, 5, 17, 14, 42, 10, tzinfo=UTC)
    assert default_start(3, now) == datetime(2026, 5, 14, 14, tzinfo=UTC)


@pytest.mark.parametrize("hour", range(0, 24, 5))
@pytest.mark.parametrize("minute", [0, 30])
def test_a_day_always_has_room_for_the_surge(hour: int, minute: int) -> None:
    start = datetime(2026, 3, 6, hour, minute, tzinfo=UTC).timestamp()  # a Friday
    line = Timeline(random.Random(hour), start, 1, DEFAULT_SURGE_CAUSE)
    assert line.surge is not None
    assert start <= line.surge.start and line.surge.end <= start + DAY
    assert line.surge.start % HOUR == 0


# --------------------------------------------------------------------------- cycles


def test_business_hours_are_busier_than_nights(run) -> None:
    _, _, truth = run
    business, night = [], []
    for window, counts in truth["hourly"].items():
        moment = datetime.fromisoformat(window)
        if moment.weekday() < 5 and 9 <= moment.hour < 17:
            business.append(counts["interaction_total"])
        elif moment.hour < 6:
            night.append(counts["interaction_total"])
    assert statistics.mean(business) > 4 * statistics.mean(night)


def test_weekends_are_quieter_than_weekdays(run) -> None:
    _, _, truth = run
    by_kind = defaultdict(list)
    for day, counts in truth["daily"].items():
        weekend = datetime.fromisoformat(day).weekday() >= 5
        by_kind[weekend].append(counts["messages"])
    assert statistics.mean(by_kind[True]) < 0.7 * statistics.mean(by_kind[False])


# --------------------------------------------------------------------------- truth vs messages


def test_hourly_and_daily_truth_match_a_recount(run) -> None:
    messages, report, truth = run
    totals, by_cause, daily = Counter(), defaultdict(Counter), defaultdict(Counter)
    starts: dict[str, str] = {}
    for message in valid(messages):
        event_time = message.attributes["event_time"]
        window = window_of(event_time)
        totals[window] += 1
        by_cause[window].update(message.cause_ids or (NO_CAUSE,))
        daily[event_time[:10]]["surveys" if message.event_type == "survey" else "notes"] += 1
        interaction = json.loads(message.data)["interaction_id"]
        starts[interaction] = min(starts.get(interaction, "~"), event_time)
    interactions = Counter(window_of(start) for start in starts.values())
    for window, counts in truth["hourly"].items():
        assert counts["message_total"] == totals[window], window
        assert counts["messages"] == dict(by_cause[window]), window
        assert counts["interaction_total"] == interactions[window], window
        assert sum(counts["interactions"].values()) == interactions[window]
    per_cause = Counter()
    for counts in truth["hourly"].values():
        per_cause.update(counts["interactions"])
    assert per_cause == Counter(report.causes)
    for day, counts in truth["daily"].items():
        assert counts["surveys"] == daily[day]["surveys"]
        assert counts["notes"] == daily[day]["notes"]
        assert counts["messages"] == counts["surveys"] + counts["notes"]
    assert sum(c["interactions"] for c in truth["daily"].values()) == report.interactions
    assert truth["counts"] == report.to_dict()


def _contacts(messages: list[GeneratedMessage]) -> dict[str, dict]:
    """Per interaction, what the messages say: start, customer, primary cause if known.

    A note always carries the primary cause first (none for a happy customer). A
    survey's comment may name only the second cause, or none, so an interaction
    without a note has no known primary.
    """
    contacts: dict[str, dict] = defaultdict(lambda: {"start": "~", "customer": None})
    for message in valid(messages):
        body = json.loads(message.data)
        contact = contacts[body["interaction_id"]]
        contact["start"] = min(contact["start"], message.attributes["event_time"])
        if message.event_type == "survey":
            contact["customer"] = body["customer_id"]
        else:
            contact["primary"] = message.cause_ids[0] if message.cause_ids else NO_CAUSE
    return contacts


def test_repeat_pairs_match_a_recomputation_from_the_messages(run) -> None:
    messages, report, truth = run
    contacts = _contacts(messages)
    recomputed = set()
    by_customer = defaultdict(list)
    for interaction, contact in contacts.items():
        if contact["customer"] is not None and "primary" in contact:
            by_customer[contact["customer"]].append((epoch(contact["start"]), interaction))
    for history in by_customer.values():
        history.sort()
        for i, (began, earlier) in enumerate(history):
            for later_began, later in history[i + 1 :]:
                cause = contacts[earlier]["primary"]
                same = cause == contacts[later]["primary"] != NO_CAUSE
                if later_began - began <= 7 * DAY and same:
                    recomputed.add((earlier, later, cause))

    pairs = truth["repeat_contacts"]
    listed = {
        (p["earlier_interaction_id"], p["later_interaction_id"], p["cause_id"]) for p in pairs
    }
    known = {pair for pair in listed if all("primary" in contacts[i] for i in pair[:2])}
    assert recomputed == known
    assert len(known) > 0.8 * len(listed)  # about 95% of interactions have a note
    for pair in pairs:
        earlier = contacts[pair["earlier_interaction_id"]]
        later = contacts[pair["later_interaction_id"]]
        assert earlier["customer"] == later["customer"] == pair["customer_id"]
        assert (earlier["start"], later["start"]) == (pair["earlier_at"], pair["later_at"])
        assert 0 <= epoch(later["start"]) - epoch(earlier["start"]) <= 7 * DAY
        assert earlier.get("primary", pair["cause_id"]) == pair["cause_id"]
        assert later.get("primary", pair["cause_id"]) == pair["cause_id"]
        assert pair["department"] == DEPARTMENTS[pair["cause_id"]]
    # planted follow-ups, and repeats nobody planted (customers drawn again at random)
    planted = [pair for pair in pairs if pair["planted"]]
    assert len(planted) > 0.03 * report.interactions
    assert len(pairs) - len(planted) > 10
    for pair in planted:
        gap = epoch(pair["later_at"]) - epoch(pair["earlier_at"])
        assert DAY - 6 * HOUR < gap < 6 * DAY + 6 * HOUR


def test_returns_after_the_repeat_window_are_no_repeats(run) -> None:
    messages, _, truth = run
    contacts = _contacts(messages)
    returns = truth["planted_returns"]
    assert len(returns) >= 10
    listed = {
        (p["earlier_interaction_id"], p["later_interaction_id"]) for p in truth["repeat_contacts"]
    }
    for item in returns:
        earlier, later = item["earlier_interaction_id"], item["later_interaction_id"]
        assert (earlier, later) not in listed
        assert contacts[earlier]["customer"] == contacts[later]["customer"] == item["customer_id"]
        gap = epoch(contacts[later]["start"]) - epoch(contacts[earlier]["start"])
        assert gap > 7 * DAY
        assert item["gap_hours"] == round(gap / HOUR, 3)


# --------------------------------------------------------------------------- arrivals


def _watermark_replay(messages: list[GeneratedMessage]) -> dict[str, tuple[float, float]]:
    """Each valid message's event time and the watermark when it arrived (arrival order).

    The watermark is the newest event time read so far minus the 10 minute bound,
    the way the job's source holds it.
    """
    bound = DEFAULT_SETTINGS.max_out_of_orderness.total_seconds()
    watermark = float("-inf")
    seen = {}
    for message in messages:
        if message.kind == "malformed":
            continue
        event_time = epoch(message.attributes["event_time"])
        if message.kind == "valid":
            seen[message.event_id] = (event_time, watermark)
        watermark = max(watermark, event_time - bound)
    return seen


def test_late_events_are_exactly_those_beyond_the_allowed_lateness(run) -> None:
    messages, _, truth = run
    lateness = DEFAULT_SETTINGS.allowed_lateness.total_seconds()
    seen = _watermark_replay(messages)
    beyond = {
        event_id
        for event_id, (event_time, watermark) in seen.items()
        if watermark > event_time - event_time % HOUR + HOUR + lateness
    }
    late = truth["late_event_ids"]
    assert late == sorted(beyond)
    assert 0.0015 < len(late) / len(seen) < 0.0045  # about 0.3%
    position = {m.event_id: i for i, m in enumerate(messages) if m.kind == "valid"}
    for event_id in late:
        event_time, watermark = seen[event_id]
        # arrives a day or more after its event time: newer events came first
        assert watermark >= event_time + DAY - 4 * HOUR
        later_first = [
            m
            for m in messages[: position[event_id]]
            if m.kind == "valid" and epoch(m.attributes["event_time"]) > event_time
        ]
        assert len(later_first) > 20


def test_arrival_classes_and_their_rates(run) -> None:
    messages, _, truth = run
    arrivals = truth["arrivals"]
    total = sum(arrivals.values())
    assert total == len(valid(messages))
    assert 0.015 < arrivals["out_of_order"] / total < 0.025  # ~2%, 1-5 minutes
    assert 0.006 < arrivals["beyond_bound"] / total < 0.014  # ~1%, 20-60 minutes
    assert arrivals["late"] == len(truth["late_event_ids"])
    # within the bound the watermark never passes an event; beyond it, nearly always
    seen = _watermark_replay(messages)
    behind = sum(watermark > event_time for event_time, watermark in seen.values())
    delayed = arrivals["beyond_bound"] + arrivals["late"]
    assert 0.9 * delayed <= behind <= delayed
    times = [m.attributes["event_time"] for m in valid(messages)]
    inversions = sum(b < a for a, b in itertools.pairwise(times))
    assert arrivals["out_of_order"] <= inversions < len(times) // 3


def test_timeline_constants_agree_with_the_job_settings() -> None:
    settings = DEFAULT_SETTINGS
    assert settings.max_out_of_orderness.total_seconds() == timeline_module.WATERMARK_BOUND
    assert settings.allowed_lateness.total_seconds() == timeline_module.ALLOWED_LATENESS
    assert settings.repeat_window.total_seconds() == timeline_module.REPEAT_WINDOW
    assert settings.rollup_window.total_seconds() == HOUR


# --------------------------------------------------------------------------- surge


def test_the_surge_is_several_times_the_usual_volume(run) -> None:
    messages, _, truth = run
    surge = truth["surge"]
    assert surge["cause_id"] == DEFAULT_SURGE_CAUSE == "billing_error"
    assert surge["department"] == "billing" and surge["multiplier"] >= 4
    start, end = epoch(surge["start"]), epoch(surge["end"])
    assert 3 <= surge["hours"] == (end - start) / HOUR <= 4
    day = datetime.fromisoformat(surge["start"])
    assert day.weekday() < 5
    middle = START + timedelta(days=DAYS / 2)
    assert abs(day - middle) < timedelta(days=2)
    cause = surge["cause_id"]
    hourly = {w: c["interactions"].get(cause, 0) for w, c in truth["hourly"].items()}
    recount = Counter(
        window_of(m.attributes["event_time"]) for m in valid(messages) if cause in m.cause_ids
    )
    usual = statistics.median(hourly.values())
    usual_messages = statistics.median(recount[w] for w in hourly)
    surge_windows = [w for w in hourly if start <= epoch(w) < end]
    assert len(surge_windows) == surge["hours"]
    for window in surge_windows:
        assert hourly[window] >= 3 * max(usual, 1), window
        assert recount[window] >= 3 * max(usual_messages, 1), window
    # against the same hours of other weekdays, too
    same_hours = [
        count
        for window, count in hourly.items()
        if window[11:13] in {w[11:13] for w in surge_windows}
        and window[:10] != surge["start"][:10]
        and datetime.fromisoformat(window).weekday() < 5
    ]
    in_surge = sum(hourly[w] for w in surge_windows) / len(surge_windows)
    assert in_surge >= 2.5 * statistics.mean(same_hours)
    assert surge["planted_interactions"] > 0


def test_surge_cause_can_be_chosen_or_left_out() -> None:
    _, _, chosen = generate_with_truth(600, seed=4, start=START, days=5, surge_cause="refund_delay")
    assert chosen["surge"]["cause_id"] == "refund_delay"
    assert chosen["surge"]["department"] == DEPARTMENTS["refund_delay"]
    _, _, none = generate_with_truth(600, seed=4, start=START, days=5, surge_cause=None)
    assert none["surge"] is None and none["parameters"]["surge_cause"] is None


def test_every_planted_cause_has_a_department() -> None:
    assert set(DEPARTMENTS) == set(PRIMARY_WEIGHTS)


def test_thirty_days_generate_about_as_fast_as_four_hours() -> None:
    started = time.process_time()
    generate_events(5000, seed=1, start=START, days=30)
    assert time.process_time() - started < 1.0


# --------------------------------------------------------------------------- CLI


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--days", "0"], "--days: must be a positive whole number"),
        (["--days", "abc"], "--days: expected a whole number"),
        (["--days", "366"], "at most 365"),
        (["--start", "2026-13-01", "--days", "2"], "--start: expected a date"),
        (["--start", "yesterday"], "--start: expected a date"),
        (["--days", "2", "--surge-cause", "nope"], "--surge-cause 'nope': expected one of"),
        (["--surge-cause", "billing_error"], "--surge-cause needs --days"),
        (["--no-surge"], "--no-surge needs --days"),
        (["--days", "2", "--no-surge", "--surge-cause", "refund_delay"], "not allowed with"),
        (["--start", "2019-01-01", "--days", "2"], "the job rejects events that old"),
        (["--start", "2099-01-01"], "more than a day from now"),
    ],
)
def test_bad_time_flags_are_one_line_errors(capsys, argv, fragment) -> None:
    result = run_in_process(capsys, "generate", "-n", "20", "--out", "-", *argv)
    assert_one_line_error(result, fragment)
    assert result.stdout == ""


def test_start_accepts_dates_and_rfc3339_date_times(capsys, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    for start, expected in (
        ("2026-03-02", "2026-03-02T00:00:00Z"),
        ("2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z"),
        ("2026-03-02T12:00:00+02:00", "2026-03-02T10:00:00Z"),
        ("2026-03-02T10:00", "2026-03-02T10:00:00Z"),
    ):
        result = run_in_process(
            capsys, "generate", "-n", "50", "--days", "1", "--start", start, "--out", str(out)
        )
        assert result.returncode == 0, result.stderr
        truth = json.loads(truth_path(out).read_text(encoding="utf-8"))
        assert truth["parameters"]["start"] == expected


def test_days_without_start_ends_at_the_current_hour(capsys, tmp_path: Path) -> None:
    out = tmp_path / "recent.jsonl"
    before = datetime.now(UTC)
    result = run_in_process(capsys, "generate", "-n", "40", "--days", "1", "--out", str(out))
    after = datetime.now(UTC)
    assert result.returncode == 0, result.stderr
    truth = json.loads((tmp_path / "recent.truth.json").read_text(encoding="utf-8"))
    assert truth["parameters"]["start"] in {
        f"{default_start(1, moment):%Y-%m-%dT%H:%M:%SZ}" for moment in (before, after)
    }


def test_out_writes_the_truth_beside_the_events(capsys, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    argv = ["generate", "-n", "900", "--seed", "3", "--start", "2026-03-02", "--days", "4"]
    result = run_in_process(capsys, *argv, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert truth_path(out) == tmp_path / "events.truth.json"
    messages, report, truth = generate_with_truth(900, seed=3, start=START, days=4)
    assert read_jsonl(out) == messages
    text = (tmp_path / "events.truth.json").read_text(encoding="utf-8")
    assert json.loads(text) == truth
    assert text == json.dumps(truth, sort_keys=True, indent=2) + "\n"
    assert json.loads(result.stderr) == report.to_dict()


def test_truth_flag_with_stdout_and_without_days(capsys, tmp_path: Path) -> None:
    truth_file = tmp_path / "t.json"
    result = run_in_process(
        capsys, "generate", "-n", "60", "--out", "-", "--truth", str(truth_file)
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 60
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    assert truth["parameters"]["days"] is None
    assert truth["counts"] == generate_events(60, seed=7)[1].to_dict()
    result = run_in_process(capsys, "generate", "-n", "5", "--out", "-")
    assert result.returncode == 0 and not list(tmp_path.glob("*.truth.json"))
    bad = run_in_process(
        capsys, "generate", "-n", "5", "--publish", "--truth", str(tmp_path / "no" / "t.json")
    )
    assert_one_line_error(bad, "--truth", "does not exist")


def test_generate_help_states_the_time_defaults() -> None:
    parser, _ = build_parser()
    generate = parser._subparsers._group_actions[0].choices["generate"]
    text = " ".join(generate.format_help().split())
    assert DEFAULT_SURGE_CAUSE in text
    assert f"surges {timeline_module.SURGE_MULTIPLIER:g}x" in text
    assert f"for {timeline_module.SURGE_HOURS} hours" in text
    assert "1-365" in text and "--truth FILE" in text


def test_cli_limits_are_the_parsers() -> None:
    from voc.transforms.parse_event import ParseLimits

    assert ParseLimits().max_age == MAX_EVENT_AGE
    assert ParseLimits().future_skew == MAX_FUTURE_SKEW


# Demo spans that ended at these hours planted a x5 surge the alert code missed (the
# span ends at "now", so the surge's weekday and history move with the clock).
@pytest.mark.parametrize(
    "now", ["2026-12-02T07:00:00+00:00", "2026-12-04T15:00:00+00:00", "2026-12-06T16:00:00+00:00"]
)
def test_the_demo_surge_opens_one_alert_whatever_hour_the_demo_ends(now: str) -> None:
    from voc.pipelines.dev import DEMO_DAYS, DEMO_EVENTS
    from voc.pipelines.dev.generate.timeline import default_start
    from voc.transforms.derived.spike_alerts import AlertRule, alerts_over

    start = default_start(DEMO_DAYS, datetime.fromisoformat(now))
    _, _, truth = generate_with_truth(DEMO_EVENTS, seed=7, start=start, days=DEMO_DAYS)
    surge = truth["surge"]
    cause = surge["cause_id"]
    series = [
        (datetime.fromisoformat(window), counts["messages"].get(cause, 0))
        for window, counts in sorted(truth["hourly"].items())
    ]
    opened = [event.opened_window_start for event in alerts_over(series, AlertRule())]
    inside = [
        at
        for at in opened
        if datetime.fromisoformat(surge["start"]) <= at < datetime.fromisoformat(surge["end"])
    ]
    assert len(inside) == 1, (surge, opened)
