"""DigestContent built directly, every section filled: the renderers' tests need no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from voc.pipelines.digests.content import (
    AlertLine,
    CauseLine,
    ChannelLine,
    DigestContent,
    FixLine,
    Health,
    Period,
    RecoveryLine,
    TrendPoint,
    Verbatim,
)

START = datetime(2026, 11, 23, tzinfo=UTC)
PERIOD = Period(START, START + timedelta(days=7))
HOSTILE = "It <b>failed</b> | twice [click](http://evil.example) \u202edesrever\u202c \x07 & done"
GENERATED = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def _cause(cause: str, contacts: int, previous: int, sub: str = "", **more) -> CauseLine:
    values = dict(
        cause_id=cause,
        sub_cause_id=sub,
        level="sub_cause" if sub else "cause",
        contacts=contacts,
        previous_contacts=previous,
        change=contacts - previous,
        change_pct=round(100 * (contacts - previous) / previous, 1) if previous else None,
        share=contacts / 100,
        negative_share=0.5,
        mean_csat=2.5,
        status="new",
        fix_date=None,
    )
    return CauseLine(**(values | more))


def full_content() -> DigestContent:
    causes = (
        _cause("double_charge", 60, 40),
        _cause("refund_delay", 30, 45, status="fix shipped", fix_date=date(2026, 11, 20)),
        _cause("late_fee", 10, 0),
    )
    subs = (_cause("double_charge", 35, 20, sub="card_twice"),)
    trend = tuple(
        TrendPoint(START.date() + timedelta(days=d), cause, 5 + d * k, 2, 2.0)
        for d in range(7)
        for k, cause in enumerate(("double_charge", "refund_delay", "late_fee"), 1)
    )
    channels = (
        ChannelLine("chat", 50, 40, 2.1, -35.0, 4.2, 0.6),
        ChannelLine("phone", 40, 30, 3.4, 10.0, 3.1, 0.3),
        ChannelLine("email", 10, 8, None, None, None, 0.2),
    )
    alerts = (
        AlertLine("billing:double_charge:x", "double_charge", "open", START + timedelta(days=3),
                  None, 14, 3.5, 4.2, 16),
    )  # fmt: skip
    fixes = (
        FixLine("fix-1", "refund_delay", date(2026, 11, 20), "Refunds batch hourly", 45, 30,
                -33.3, "Contacts fell 33% (45 -> 30 over 7 days); likely a real change."),
    )  # fmt: skip
    overdue = tuple(
        RecoveryLine(f"recovery:i{n}", f"cust_{n:04x}", "chat", "double_charge", "low_csat",
                     START + timedelta(hours=n), "open")
        for n in range(5)
    )  # fmt: skip
    verbatims = {
        "double_charge": (
            Verbatim(START + timedelta(days=1), "survey", "chat", "double_charge", "card_twice",
                     -0.9, "charged twice", HOSTILE, 1, 2),
            Verbatim(START + timedelta(days=2), "agent_note", "phone", "double_charge", "",
                     -0.6, "charged twice", "Customer was charged twice, refunded", None, None),
        ),
        "refund_delay": (
            Verbatim(START + timedelta(days=3), "survey", "email", "refund_delay", "", -0.5,
                     "refund", "Still waiting for my refund", 2, 3),
        ),
    }  # fmt: skip
    return DigestContent(
        department="billing",
        period=PERIOD,
        generated_at=GENERATED,
        description="Billing and payments",
        source="file voc.duckdb (read-only)",
        causes=causes,
        sub_causes=subs,
        trend=trend,
        channels=channels,
        alerts=alerts,
        fixes=fixes,
        overdue_count=12,
        overdue=overdue,
        verbatims=verbatims,
        health=Health(168, 1200, 60, 3, 2, event_age_seconds=95.0, unresolved_dead_letters=3),
    )


def empty_content() -> DigestContent:
    return DigestContent(
        department="docs",
        period=PERIOD,
        generated_at=GENERATED,
        causes=(_cause("missing_manual", 0, 4),),
        health=Health(168, 0, 0, 0, 0),
    )
