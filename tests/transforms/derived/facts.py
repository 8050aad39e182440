"""StoredFact builders for the derived branches' tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voc.transforms.records import StoredCause, StoredFact

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def at(hours: float = 0.0, minutes: float = 0.0) -> datetime:
    return T0 + timedelta(hours=hours, minutes=minutes)


def cause(
    cause_id: str = "billing_error",
    department: str = "billing",
    sub: str = "",
    evidence: str = "charged twice",
) -> StoredCause:
    return StoredCause(cause_id, sub, department, evidence)


def survey(
    event_id: str,
    interaction_id: str,
    when: datetime,
    *causes: StoredCause,
    customer: str = "cus-1",
    csat: int | None = 2,
    nps: int | None = 3,
    ces: int | None = 6,
    score: float | None = -0.6,
    channel: str = "phone",
) -> StoredFact:
    return StoredFact(
        event_id=event_id,
        event_type="survey",
        interaction_id=interaction_id,
        channel=channel,
        event_time=when,
        sentiment_score=score,
        sentiment_label="negative" if (score or 0) <= -0.05 else "positive",
        causes=tuple(causes),
        text=f"comment of {event_id}",
        customer_id=customer,
        csat=csat,
        nps=nps,
        ces=ces,
        resolved=False,
    )


def note(
    event_id: str,
    interaction_id: str,
    when: datetime,
    *causes: StoredCause,
    hold: int = 600,
    transfers: int = 1,
    score: float | None = -0.2,
    channel: str = "phone",
) -> StoredFact:
    return StoredFact(
        event_id=event_id,
        event_type="agent_note",
        interaction_id=interaction_id,
        channel=channel,
        event_time=when,
        sentiment_score=score,
        sentiment_label="negative" if (score or 0) <= -0.05 else "neutral",
        causes=tuple(causes),
        text=f"note {event_id}",
        handle_seconds=900,
        hold_seconds=hold,
        transfers=transfers,
    )
