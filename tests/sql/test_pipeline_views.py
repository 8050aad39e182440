"""What the pipeline views' fixtures cannot show with a handful of exact rows.

pipeline_status: its fixture pins the clock with voc_now so the expected row is
exact; unpinned, checked_at is the wall clock and every age counts from it, so
a stalled pipeline's ages keep growing.

pipeline_health: it covers exactly the 168 hours ending with the newest hour
anything was stored in; a fixture spanning a week would list 168 rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.sql.helpers import fetch_rows, insert_rows, prepared


def test_unpinned_the_ages_count_from_the_wall_clock():
    con = prepared()
    stored = datetime.now(UTC) - timedelta(hours=2)
    insert_rows(
        con, "surveys", [{"event_id": "s-1", "submitted_at": stored, "ingested_at": stored}]
    )
    insert_rows(
        con,
        "pipeline_progress",
        [{"branch": "rollups", "watermark": stored, "observed_at": stored}],
    )

    before = datetime.now(UTC)
    [row] = fetch_rows(con, "select * from pipeline_status")
    after = datetime.now(UTC)

    assert before - timedelta(seconds=1) <= row["checked_at"] <= after
    age = (row["checked_at"] - stored).total_seconds()
    assert age > 7_000
    for column in ("watermark_lag_seconds", "event_age_seconds", "ingestion_age_seconds"):
        assert row[column] == pytest.approx(age, abs=1e-3), column


def test_health_covers_the_168_hours_ending_with_the_newest_hour():
    newest = datetime(2026, 1, 12, 9, 30, tzinfo=UTC)
    first_hour = datetime(2026, 1, 5, 10, tzinfo=UTC)  # 167 hours before 09:00 on the 12th
    con = prepared()
    insert_rows(
        con,
        "surveys",
        [
            {"event_id": "s-before", "ingested_at": first_hour - timedelta(seconds=1)},
            {"event_id": "s-first", "ingested_at": first_hour},
            {"event_id": "s-newest", "ingested_at": newest},
        ],
    )
    insert_rows(
        con,
        "dead_letters",
        [{"dead_letter_id": "msg:1", "received_at": first_hour - timedelta(minutes=5)}],
    )

    rows = fetch_rows(con, "select * from pipeline_health order by hour")

    assert len(rows) == 168
    assert (rows[0]["hour"], rows[-1]["hour"]) == (first_hour, datetime(2026, 1, 12, 9, tzinfo=UTC))
    assert [r["hour"] for r in rows if r["feedback_stored"]] == [rows[0]["hour"], rows[-1]["hour"]]
    assert sum(r["dead_letters"] for r in rows) == 0
