"""The event-time branches under TestStream: arrival order, lateness, watermarks, GC.

Each test drives DeriveFromFacts with StoredFact elements at their event times and
explicit watermark moves, and checks the rows it would write.
"""

from __future__ import annotations

from datetime import timedelta

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that

from tests.transforms.derived.facts import at, cause, note, survey
from voc.transforms.derived.cause_alerts import CauseHistory
from voc.transforms.derived.derive_from_facts import DeriveFromFacts
from voc.transforms.derived.settings import EventTimeSettings

SETTINGS = EventTimeSettings(state_shards=4, allowed_lateness=timedelta(hours=2))


def _stream(*steps) -> TestStream:
    """Steps: a StoredFact (or list of them) to add, or a datetime to move the watermark to."""
    stream = TestStream()
    for step in steps:
        if isinstance(step, list | tuple):
            stream = stream.add_elements(
                [beam.window.TimestampedValue(f, f.event_time.timestamp()) for f in step]
            )
        elif hasattr(step, "event_id"):
            stream = stream.add_elements(
                [beam.window.TimestampedValue(step, step.event_time.timestamp())]
            )
        elif isinstance(step, beam.window.TimestampedValue):
            stream = stream.add_elements([step])
        else:
            stream = stream.advance_watermark_to(step.timestamp())
    # Past every deadline while still finite: on the legacy DirectRunner, timers that
    # fire only at +inf emit after assert_that's final pane (their output does not
    # hold its watermark), so the test would not see them.
    return stream.advance_watermark_to(at(24 * 60).timestamp()).advance_watermark_to_infinity()


def _run(stream: TestStream, check, settings: EventTimeSettings = SETTINGS) -> None:
    options = PipelineOptions(runner="BundleBasedDirectRunner")
    options.view_as(StandardOptions).streaming = True
    with beam.Pipeline(options=options) as p:
        rows = (p | stream | DeriveFromFacts(settings))["rows"]
        assert_that(rows, check)


def _rows(rows, table: str) -> list[dict]:
    return [r.row for r in rows if r.table == table]


def _last_interaction(rows, interaction_id: str) -> dict:
    found = [r for r in _rows(rows, "interactions") if r["interaction_id"] == interaction_id]
    assert found, f"no interactions row for {interaction_id}"
    return max(found, key=lambda r: len(r["note_event_ids"]) + (r["survey_event_id"] is not None))


def _final_rollups(rows) -> dict[tuple, int]:
    return {
        (r["window_start"], r["cause_id"], r["sub_cause_id"], r["channel"]): r["volume"]
        for r in _rows(rows, "issue_rollups")
        if r["final"]
    }


def _joined_flags(rows) -> dict[str, bool]:
    return {r["event_id"]: r["joined"] for r in _rows(rows, "part_joined")}


def test_note_before_survey_makes_one_complete_interaction():
    def check(rows):
        row = _last_interaction(rows, "i1")
        assert row["survey_event_id"] == "s1" and row["note_event_ids"] == ["n1"]
        assert row["complete"] and row["hold_seconds"] == 600 and row["csat"] == 2
        assert row["causes"] == ["billing_error"] and row["departments"] == ["billing"]
        sources = row["cause_sources"]
        assert '"sources":["agent_note","survey"]' in sources
        # The first part created the row; the second updated it.
        first = _rows(rows, "interactions")[0]
        assert first["survey_event_id"] is None and first["note_event_ids"] == ["n1"]

    _run(
        _stream(
            note("n1", "i1", at(0, 5), cause()), at(0, 20), survey("s1", "i1", at(0, 40), cause())
        ),
        check,
    )


def test_survey_before_note_gives_the_same_row():
    def check(rows):
        row = _last_interaction(rows, "i1")
        assert row["survey_event_id"] == "s1" and row["note_event_ids"] == ["n1"]
        assert row["complete"] and row["first_event_at"] == at(0, 5)
        assert row["last_event_at"] == at(0, 40)

    _run(
        _stream(survey("s1", "i1", at(0, 40), cause()), at(1), note("n1", "i1", at(0, 5), cause())),
        check,
    )


def test_parts_days_apart_join_within_the_horizon_and_not_after_it():
    horizon = EventTimeSettings(state_shards=2, join_horizon=timedelta(days=2))

    def check(rows):
        flags = _joined_flags(rows)
        assert flags == {"s1": True, "n1": True, "n2": False}
        row = _last_interaction(rows, "i1")
        assert row["note_event_ids"] == ["n1"], "a part after the horizon is not merged"

    _run(
        _stream(
            survey("s1", "i1", at(0), cause()),
            at(30),
            note("n1", "i1", at(30), cause()),  # 30 h later: joined
            at(90),  # state collected 2 days after the latest part, tombstone kept
            note("n2", "i1", at(90), cause()),
        ),
        check,
        horizon,
    )


def test_late_within_lateness_updates_the_same_rollup_row():
    def check(rows):
        final = _final_rollups(rows)
        assert final == {(at(0), "billing_error", "", "phone"): 3}
        provisional = [r["volume"] for r in _rows(rows, "issue_rollups") if not r["final"]]
        assert provisional == [1, 2, 3], "each arrival rewrites one row, accumulating"
        assert not _rows(rows, "late_events")

    _run(
        _stream(
            survey("s1", "i1", at(0, 10), cause()),
            at(1, 30),  # the window ended; within its 2 h lateness
            survey("s2", "i2", at(0, 20), cause(), customer="c2"),
            at(2, 30),
            note("n3", "i3", at(0, 50), cause()),
        ),
        check,
    )


def test_beyond_lateness_lands_in_late_events_not_in_the_rollup():
    def check(rows):
        late = _rows(rows, "late_events")
        assert [r["event_id"] for r in late] == ["s-late"]
        assert late[0]["reason"] == "beyond_allowed_lateness"
        assert late[0]["window_start"] == at(0) and late[0]["lateness_seconds"] > 0
        assert _final_rollups(rows)[(at(0), "billing_error", "", "phone")] == 1
        assert (at(5), "billing_error", "", "phone") in _final_rollups(rows)

    _run(
        _stream(
            survey("s1", "i1", at(0, 10), cause()),
            at(3, 30),  # window 0-1 h closed at 3 h (1 h + 2 h lateness)
            survey("s2", "i2", at(5, 10), cause(), customer="c2"),
            survey("s-late", "i9", at(0, 15), cause(), customer="c9"),
        ),
        check,
    )


def test_watermark_past_a_window_makes_its_row_final_once():
    def check(rows):
        finals = [r for r in _rows(rows, "issue_rollups") if r["final"]]
        assert len(finals) == 2  # cause level and sub-cause level
        assert {r["level"] for r in finals} == {"cause", "sub_cause"}
        cause_row = next(r for r in finals if r["level"] == "cause")
        assert cause_row["mean_csat"] == 2.0 and cause_row["nps"] == -100.0
        assert cause_row["share_negative"] == 1.0 and cause_row["mean_effort"] == 6.0
        assert '"phrase":"charged twice"' in cause_row["top_phrases"]

    _run(
        _stream(survey("s1", "i1", at(0, 10), cause(sub="double_charge")), at(3, 1)),
        check,
    )


def test_a_customer_back_about_the_same_cause_is_a_repeat_contact():
    def check(rows):
        repeats = _rows(rows, "repeat_contacts")
        assert [(r["earlier_interaction_id"], r["later_interaction_id"]) for r in repeats] == [
            ("i1", "i2")
        ]
        assert repeats[0]["cause_id"] == "billing_error" and repeats[0]["gap_hours"] == 72.0

    _run(
        _stream(
            survey("s1", "i1", at(0), cause()),
            survey("s2", "i2", at(72), cause()),  # 3 days later, same customer and cause
            survey("s3", "i3", at(80), cause("late_delivery", "logistics")),  # other cause
            survey("s4", "i4", at(24 * 9), cause()),  # 9 days after i1, 6 after i2: repeat of i2
        ),
        lambda rows: (
            check(
                [r for r in rows if r.table != "repeat_contacts"]
                + [
                    r
                    for r in rows
                    if r.table == "repeat_contacts" and r.row["later_interaction_id"] != "i4"
                ]
            )
            or _check_i4(rows)
        ),
    )


def _check_i4(rows):
    pairs = {
        (r["earlier_interaction_id"], r["later_interaction_id"])
        for r in _rows(rows, "repeat_contacts")
    }
    assert ("i2", "i4") in pairs and ("i1", "i4") not in pairs


def test_redelivered_fact_counts_once_in_the_join():
    def check(rows):
        row = _last_interaction(rows, "i1")
        assert row["note_event_ids"] == ["n1"]

    fact = note("n1", "i1", at(0), cause())
    _run(_stream(fact, at(0, 30), fact, at(2)), check)


HISTORY_DAYS = 8  # the detector's week of warm-up, and a day


def _usual(hour: int) -> int:
    return 4 if 8 <= hour % 24 < 20 else 1


def _history() -> CauseHistory:
    """Eight days of a cause's closed windows before the facts: a restarted job's
    stored past, which is how a baseline gets weeks of history in a short test."""
    import random

    rng = random.Random(3)
    series = tuple(
        ((at(hour) - timedelta(days=HISTORY_DAYS)).timestamp(), _usual(hour) + rng.randint(-1, 1))
        for hour in range(24 * HISTORY_DAYS)
    )
    return CauseHistory("billing", "billing_error", series, "")


def _hourly_traffic(days: int, surge_hour: int | None, seed: int = 5) -> list:
    """A cause's feedback over ``days`` after the history: the same daily cycle with
    noise, optionally six times the usual volume for three hours from ``surge_hour``."""
    import random

    rng = random.Random(seed)
    facts = []
    for hour in range(24 * days):
        count = max(0, _usual(hour) + rng.randint(-1, 1))
        if surge_hour is not None and surge_hour <= hour < surge_hour + 3:
            count = _usual(hour) * 6
        for n in range(count):
            facts.append(
                survey(
                    f"s{hour}-{n}",
                    f"i{hour}-{n}",
                    at(hour, n * 7 % 60),
                    cause(),
                    customer=f"c{hour}-{n}",
                )
            )
    return facts


def _with_history(facts: list) -> list:
    """TestStream steps: the history, then each day's facts and the watermark at its end."""
    history = _history()
    steps = [beam.window.TimestampedValue(history, history.series[0][0])]
    days = 1 + max(int((f.event_time - at(0)).total_seconds() // 86400) for f in facts)
    for day in range(days):
        steps.append(
            [f for f in facts if int((f.event_time - at(0)).total_seconds() // 86400) == day]
        )
        steps.append(at(24 * (day + 1)))
    return steps


def test_a_planted_surge_opens_one_alert_and_closes_it_once():
    def check(rows):
        alerts = _rows(rows, "alerts")
        assert {r["alert_id"] for r in alerts} == {"billing:billing_error:2026-03-02T19:00Z"}
        opened = [r for r in alerts if r["status"] == "open"]
        closed = [r for r in alerts if r["status"] == "closed"]
        assert opened and closed, "it opened, then closed itself"
        assert opened[0]["opened_window_start"] == at(10)
        assert at(13) <= closed[-1]["closed_window_start"] <= at(15)
        assert opened[0]["observed"] >= 3 * opened[0]["expected"]
        assert opened[0]["examples"].count("event_id") == 3

    _run(_stream(*_with_history(_hourly_traffic(2, surge_hour=10))), check)


def test_steady_traffic_opens_no_alert():
    def check(rows):
        assert _rows(rows, "alerts") == []
        finals = {r["window_start"] for r in _rows(rows, "issue_rollups") if r["final"]}
        assert finals == hours, "every hour with traffic closed"

    traffic = _hourly_traffic(2, surge_hour=None)
    hours = {f.event_time.replace(minute=0) for f in traffic}
    _run(_stream(*_with_history(traffic)), check)


def test_a_late_fact_without_a_cause_is_recorded_late_too():
    def check(rows):
        assert [r["event_id"] for r in _rows(rows, "late_events")] == ["n-late"]

    no_cause = cause("unclassified", "triage")
    _run(
        _stream(
            note("n1", "i1", at(0, 10), no_cause),
            at(6),
            note("n-late", "i9", at(0, 15), no_cause),
        ),
        check,
    )


def test_a_shards_tick_waits_for_its_time_instead_of_chasing_event_time():
    """With no window open, the timer waits at the newest deadline seen when it was
    armed: moved on with every batch, it would never fire while the stream flows."""
    from voc.transforms.derived.rollup_windows import RollupShard

    shard = RollupShard(newest_deadline=100.0)
    assert shard.next_deadline(3600, 7200) == 100.0
    shard.newest_deadline = 500.0  # event time came further elsewhere
    assert shard.next_deadline(3600, 7200) == 100.0
    shard.observe(100.0)  # it fired
    assert shard.watermark == 100.0 and shard.next_deadline(3600, 7200) == 500.0
