"""A small voc DuckDB file with known numbers, for the digest tests.

Built with the real migrations, macros and views (``prepare``), then rows
inserted as the sink would store them. The period the tests use is
PERIOD_START .. PERIOD_END (7 days), compared with the 7 days before:

- billing: ``double_charge`` 6 contacts in the period (3 with sub-cause
  ``card_twice``), 2 before; ``refund_delay`` 3 in the period, 4 before, a fix
  shipped on 2026-11-20; one open alert; two overdue recovery items.
  One survey comment carries markup, a table pipe and a right-to-left override.
- docs: feedback only in the previous period: its digest is the empty one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from tests.sql.helpers import insert_rows
from voc.transforms.sinks.duckdb_schema import prepare

PERIOD_START = datetime(2026, 11, 23, tzinfo=UTC)
PERIOD_END = datetime(2026, 11, 30, tzinfo=UTC)
HOSTILE = "Charged twice <script>alert(1)</script> | see [x](http://evil) \u202eevil\u202c ok"
CHANNELS = ("chat", "phone", "email")


def _sentiment(n: int) -> float:
    """The hostile comment (n == 1) is the most negative: the digest must show it."""
    return -0.9 if n == 1 else -0.2 - 0.05 * (n % 10)


def _survey(n: int, at: datetime, cause: str, sub: str, csat: int, nps: int, text: str) -> dict:
    return {
        "survey": {
            "event_id": f"s{n}",
            "interaction_id": f"i{n}",
            "customer_id": f"cust_{n:04x}",
            "channel": CHANNELS[n % 3],
            "submitted_at": at,
            "csat": csat,
            "nps": nps,
            "ces": 2 + n % 5,
            "resolved": n % 2 == 0,
            "comment": text,
            "language": "en",
            "sentiment_score": _sentiment(n),
            "sentiment_label": "negative",
            "schema_version": 1,
            "ingested_at": at + timedelta(minutes=1),
        },
        "tag": {
            "event_id": f"s{n}",
            "source": "survey",
            "interaction_id": f"i{n}",
            "event_time": at,
            "cause_id": cause,
            "sub_cause_id": sub or None,
            "department": "billing" if cause != "missing_manual" else "docs",
            "evidence": "charged twice" if cause == "double_charge" else "refund",
            "sentiment_score": _sentiment(n),
            "sentiment_label": "negative",
            "taxonomy_version": 1,
            "tagged_at": at + timedelta(minutes=1),
            "first_for_department": True,
            "csat": csat,
        },
    }


def build(path: Path) -> Path:
    surveys, tags = [], []
    rows = []
    # In the period: double_charge 6 (3 card_twice), refund_delay 3.
    for n in range(1, 7):
        at = PERIOD_START + timedelta(days=n - 1, hours=10)
        text = HOSTILE if n == 1 else f"I was charged twice for order {n}, please fix"
        rows.append(
            _survey(n, at, "double_charge", "card_twice" if n <= 3 else "", 1 + n % 3, n % 7, text)
        )
    for n in range(7, 10):
        at = PERIOD_START + timedelta(days=n - 5, hours=14)
        rows.append(_survey(n, at, "refund_delay", "", 2, 5, f"Refund still not here ({n})"))
    # The previous period: double_charge 2, refund_delay 4; docs 2 (docs' only feedback).
    for n in range(20, 22):
        rows.append(
            _survey(
                n,
                PERIOD_START - timedelta(days=n - 18),
                "double_charge",
                "",
                2,
                4,
                "charged twice again",
            )
        )
    for n in range(22, 26):
        rows.append(
            _survey(
                n,
                PERIOD_START - timedelta(days=n - 21, hours=3),
                "refund_delay",
                "",
                3,
                6,
                "refund is slow",
            )
        )
    for n in range(30, 32):
        rows.append(
            _survey(
                n,
                PERIOD_START - timedelta(days=2),
                "missing_manual",
                "",
                3,
                7,
                "no manual in the box",
            )
        )
    surveys = [r["survey"] for r in rows]
    tags = [r["tag"] for r in rows]
    # An agent note on interaction i1: the same contact, counted once.
    note_at = PERIOD_START + timedelta(hours=11)
    notes = [{
        "event_id": "n1", "interaction_id": "i1", "agent_id": "a7", "team": "billing",
        "channel": "chat", "created_at": note_at, "handle_seconds": 300, "hold_seconds": 20,
        "transfers": 0, "note": "Customer charged twice, refund issued",
        "sentiment_score": -0.4, "sentiment_label": "negative", "schema_version": 1,
        "ingested_at": note_at,
    }]  # fmt: skip
    tags.append(
        {
            **tags[0],
            "event_id": "n1",
            "source": "agent_note",
            "event_time": note_at,
            "evidence": "charged twice",
            "csat": None,
            "sentiment_score": -0.4,
            "first_for_department": True,
        }
    )
    alerts = [{
        "alert_id": "billing:double_charge:2026-11-27T10", "department": "billing",
        "cause_id": "double_charge", "status": "open",
        "opened_window_start": PERIOD_START + timedelta(days=4, hours=10),
        "last_window_start": PERIOD_START + timedelta(days=5),
        "observed": 5, "expected": 1.2, "score": 4.1, "peak_observed": 6, "peak_score": 4.5,
        "method": "seasonal", "examples": json.dumps([{"event_id": "s5", "text": "charged"}]),
        "updated_at": PERIOD_END,
    }]  # fmt: skip
    actions = [{
        "action_id": "fix-1", "department": "billing", "cause_id": "refund_delay",
        "kind": "fix_shipped", "effective_date": datetime(2026, 11, 20).date(),
        "note": "Refunds now batch hourly", "recorded_by": "ana",
        "recorded_at": datetime(2026, 11, 20, tzinfo=UTC),
    }]  # fmt: skip
    recovery = [
        {
            "item_id": f"recovery:i{n}", "interaction_id": f"i{n}", "survey_event_id": f"s{n}",
            "customer_id": f"cust_{n:04x}", "channel": CHANNELS[n % 3], "department": "billing",
            "cause_id": "double_charge", "reason": "low_csat", "nps": n % 7, "csat": 1,
            "sentiment_score": -0.5, "survey_at": PERIOD_START + timedelta(days=n),
            "due_at": PERIOD_START + timedelta(days=n, hours=24),
            "created_at": PERIOD_START + timedelta(days=n),
        }
        for n in (2, 3)
    ]  # fmt: skip
    departments = [
        {"department": "billing", "description": "Billing and payments", "owner": "Ana",
         "contact": "billing-owner@example.com",
         "digest_schedule": json.dumps({"cron": "0 7 * * 1", "timezone": "Europe/Berlin"}),
         "delivery": json.dumps({"kind": "email", "to": ["billing-owner@example.com"]}),
         "updated_at": PERIOD_END},
        {"department": "docs", "description": "Documentation", "owner": None, "contact": None,
         "digest_schedule": json.dumps({"cron": "30 6 * * *", "timezone": "UTC"}),
         "delivery": json.dumps({"kind": "file"}), "updated_at": PERIOD_END},
    ]  # fmt: skip
    with duckdb.connect(str(path)) as con:
        prepare(con)
        for table, table_rows in (
            ("surveys", surveys),
            ("agent_notes", notes),
            ("feedback_tags", tags),
            ("alerts", alerts),
            ("cause_actions", actions),
            ("recovery_items", recovery),
            ("departments", departments),
        ):
            insert_rows(con, table, table_rows)
        prepare(con)  # the department schemas, now that departments are known
    return path
