"""A small voc file for the owner-loop tests: two recovery items and tagged feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from tests.sql.helpers import insert_rows
from voc.transforms.sinks.duckdb_schema import prepare

# Two days ago, due yesterday: in the working queue (the last 28 days), open and overdue.
SURVEY_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
DUE_AT = SURVEY_AT + timedelta(days=1)


def fill(con: duckdb.DuckDBPyConnection) -> None:
    """Items i-1 (billing) and i-2 (product), and the tags that name their causes."""
    prepare(con)
    insert_rows(
        con,
        "recovery_items",
        [
            {
                "item_id": f"recovery:{interaction}",
                "interaction_id": interaction,
                "survey_event_id": f"s-{interaction}",
                "customer_id": "c-1",
                "channel": "chat",
                "department": department,
                "cause_id": cause,
                "reason": "nps_detractor",
                "nps": 2,
                "survey_at": SURVEY_AT,
                "due_at": DUE_AT,
                "created_at": SURVEY_AT,
            }
            for interaction, department, cause in [
                ("i-1", "billing", "billing_error"),
                ("i-2", "product", "product_defect"),
            ]
        ],
    )
    insert_rows(
        con,
        "feedback_tags",
        [
            {
                "event_id": f"s-{interaction}",
                "source": "survey",
                "interaction_id": interaction,
                "event_time": SURVEY_AT,
                "cause_id": cause,
                "department": department,
                "sentiment_score": -0.5,
            }
            for interaction, department, cause in [
                ("i-1", "billing", "billing_error"),
                ("i-2", "product", "product_defect"),
            ]
        ],
    )


def make_file(path: Path) -> str:
    with duckdb.connect(str(path)) as con:
        fill(con)
    return str(path)
