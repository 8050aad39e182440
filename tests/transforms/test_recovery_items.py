"""The recovery rule: which surveys get a follow-up, and which department owns it."""

from __future__ import annotations

import pytest

from voc.transforms.recovery_items import (
    LOW_CSAT,
    NPS_DETRACTOR,
    STRONGLY_NEGATIVE,
    Owner,
    item_id,
    primary_cause,
    recovery_reason,
)


@pytest.mark.parametrize(
    ("nps", "csat", "score", "reason"),
    [
        (6, None, None, NPS_DETRACTOR),  # the top of the detractor band
        (0, 5, 0.9, NPS_DETRACTOR),  # the score decides, whatever the words
        (7, None, None, None),  # a passive
        (None, 2, None, LOW_CSAT),
        (9, 1, None, LOW_CSAT),  # a promoter with a low CSAT is still unhappy
        (None, 3, None, None),
        (None, None, -0.6, STRONGLY_NEGATIVE),  # the boundary counts
        (8, 4, -0.95, STRONGLY_NEGATIVE),
        (None, None, -0.59, None),
        (None, None, None, None),  # nothing to go on (unscored text, no scores)
        (3, 1, -0.9, NPS_DETRACTOR),  # every reason applies: the first one is named
    ],
)
def test_reason(nps, csat, score, reason):
    assert recovery_reason(nps, csat, score) == reason


def test_the_primary_cause_is_the_first_real_one():
    causes = [("unclassified", "support_ops"), ("billing_error", "billing"), ("long_hold", "ops")]
    assert primary_cause(causes) == Owner("billing", "billing_error")


@pytest.mark.parametrize("causes", [[], [("unclassified", "support_ops")]])
def test_feedback_no_cause_matched_goes_to_triage(causes):
    assert primary_cause(causes) == Owner("support_ops", "unclassified")


def test_one_item_per_interaction():
    assert item_id("i-42") == "recovery:i-42"
