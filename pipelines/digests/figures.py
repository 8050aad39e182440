"""Numbers as a digest prints them, the same in Markdown and HTML."""

from __future__ import annotations

from datetime import date, datetime

from voc.pipelines.digests.content import CauseLine, Health, Verbatim

DASH = "\u2013"  # an en dash: no value


def count(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def pct(value: float | None, digits: int = 0) -> str:
    """A 0..1 share as a percentage."""
    return DASH if value is None else f"{value * 100:.{digits}f}%"


def signed_pct(value: float | None) -> str:
    """A change in percent as the macros give it (``change_pct``: +25.0 means +25%)."""
    return DASH if value is None else f"{value:+.0f}%"


def score(value: float | None, digits: int = 2) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def day(value: date | datetime | None) -> str:
    if value is None:
        return DASH
    if isinstance(value, datetime) and value.time() != datetime.min.time():
        return f"{value:%Y-%m-%d %H:%M}"
    return f"{value:%Y-%m-%d}"


def change(line: CauseLine) -> str:
    """``+12 (+40%)``, ``+5 (new)`` when the previous period had none."""
    relative = "new" if line.change_pct is None and line.contacts else signed_pct(line.change_pct)
    return f"{line.change:+,} ({relative})"


def status(line: CauseLine) -> str:
    return f"fix shipped {day(line.fix_date)}" if line.fix_date is not None else line.status


def age(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def health_lines(health: Health | None) -> list[str]:
    """The pipeline's health as short plain sentences (escaped by the renderer)."""
    if health is None:
        return ["Pipeline health is not available."]
    lines = [
        f"{health.feedback_stored:,} feedback events stored in the period (processing time); "
        f"{pct(health.share_no_cause, 1)} of them found no cause.",
        f"{health.dead_letters:,} dead letters and {health.late_events:,} late events "
        "in the period.",
    ]
    if health.event_age_seconds is not None or health.unresolved_dead_letters is not None:
        lines.append(
            f"Now: newest feedback {age(health.event_age_seconds)} old; "
            f"{count(health.unresolved_dead_letters)} dead letters unresolved."
        )
    return lines


def verbatim_scores(verbatim: Verbatim) -> list[str]:
    """The scores shown under a quote: those the customer gave, and its sentiment."""
    return [
        part
        for part in (
            f"CSAT {verbatim.csat}" if verbatim.csat is not None else "",
            f"NPS {verbatim.nps}" if verbatim.nps is not None else "",
            f"sentiment {score(verbatim.sentiment_score)}",
        )
        if part
    ]
