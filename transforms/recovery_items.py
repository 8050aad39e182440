"""Which surveys need a follow-up call, and who owns it: the rule behind recovery_items.

A customer who scores us as a detractor, or writes something strongly negative,
is worth a call back while it still matters; the item goes to the department
that owns the survey's primary cause, due a fixed time after the survey (the
job's ``--recovery-due``, 24 hours by default). Pure functions, so the rule is
testable without a sink, and the sink and any recomputation share it.

The item is keyed on the interaction (``recovery:<interaction_id>``): a
redelivered survey, or a second survey of the same contact, hits the same key
and the store ignores it, so one contact never makes two calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from voc.transforms.taxonomy import TRIAGE_DEPARTMENT, UNCLASSIFIED

# NPS 0-6 is a detractor (the standard NPS bands); CSAT is 1-5, so 1-2 is unhappy.
NPS_DETRACTOR_MAX = 6
LOW_CSAT_MAX = 2
# VADER compound, -1 .. 1: at or below this the words alone say the contact went badly,
# whatever the scores (or with no scores given at all).
STRONGLY_NEGATIVE_MAX = -0.6
DEFAULT_RECOVERY_DUE = timedelta(hours=24)
ITEM_PREFIX = "recovery:"

# Why an item was raised, first matching in this order (the scores say it more
# directly than the words do).
NPS_DETRACTOR = "nps_detractor"
LOW_CSAT = "low_csat"
STRONGLY_NEGATIVE = "strongly_negative"
REASONS = (NPS_DETRACTOR, LOW_CSAT, STRONGLY_NEGATIVE)


def recovery_reason(nps: int | None, csat: int | None, sentiment_score: float | None) -> str | None:
    """Why a survey needs a follow-up (one of :data:`REASONS`), or None when it does not.

    ``sentiment_score`` is None for text the scorer could not read (another
    language): such a survey is raised only on its scores.
    """
    if nps is not None and nps <= NPS_DETRACTOR_MAX:
        return NPS_DETRACTOR
    if csat is not None and csat <= LOW_CSAT_MAX:
        return LOW_CSAT
    if sentiment_score is not None and sentiment_score <= STRONGLY_NEGATIVE_MAX:
        return STRONGLY_NEGATIVE
    return None


@dataclass(frozen=True)
class Owner:
    department: str
    cause_id: str


def primary_cause(causes: Sequence[tuple[str, str]]) -> Owner:
    """The owner of a follow-up from the survey's (cause_id, department) tags in their
    order: the first real cause; feedback no cause matched goes to the triage team."""
    for cause_id, department in causes:
        if cause_id != UNCLASSIFIED:
            return Owner(department, cause_id)
    return Owner(TRIAGE_DEPARTMENT, UNCLASSIFIED)


def item_id(interaction_id: str) -> str:
    return f"{ITEM_PREFIX}{interaction_id}"
