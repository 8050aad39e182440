"""Scores and words fused into one experience score, and the flag where they disagree."""

from __future__ import annotations

import pytest

from voc.transforms.experience_score import fuse_experience, survey_scale
from voc.transforms.records import SentimentScore

ANGRY = SentimentScore(-0.8, "negative", 0.95)
HAPPY = SentimentScore(0.7, "positive", 0.9)
UNSURE = SentimentScore(-0.4, "negative", 0.45)
UNSCORED = SentimentScore(0.0, "unscored", 0.0, "es")


@pytest.mark.parametrize(
    ("csat", "nps", "ces", "scale"),
    [
        (5, None, None, 1.0),
        (1, None, None, -1.0),
        (3, None, None, 0.0),
        (None, 10, None, 1.0),
        (None, 0, None, -1.0),
        (None, None, 1, 1.0),  # effort 1: very easy
        (None, None, 7, -1.0),
        (5, 0, None, 0.0),
        (None, None, None, None),
        (True, None, None, None),  # a boolean is not a score
    ],
)
def test_each_scale_maps_linearly_onto_minus_one_to_one(csat, nps, ces, scale):
    assert survey_scale(csat, nps, ces) == scale


def test_scores_weigh_more_than_words_and_either_stands_alone():
    fused = fuse_experience(5, None, None, HAPPY, has_text=True)
    assert fused is not None and fused.score == pytest.approx(0.6 * 1.0 + 0.4 * 0.7)
    assert fuse_experience(None, None, None, ANGRY, True).score == -0.8
    assert fuse_experience(1, None, None, UNSCORED, True).score == -1.0
    assert fuse_experience(None, None, None, UNSCORED, True) is None


def test_a_five_star_score_over_an_angry_comment_is_a_contradiction():
    assert fuse_experience(5, None, None, ANGRY, True).contradiction is True
    assert fuse_experience(1, None, None, HAPPY, True).contradiction is True
    assert fuse_experience(1, None, None, ANGRY, True).contradiction is False
    # not sure enough of the words, or no words at all: no contradiction claimed
    assert fuse_experience(5, None, None, UNSURE, True).contradiction is False
    assert fuse_experience(5, None, None, ANGRY, has_text=False).contradiction is False
