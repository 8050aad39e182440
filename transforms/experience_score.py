"""One experience score per survey from its scores and its words, and a flag where they disagree.

A survey says the same thing twice: once as numbers (CSAT, NPS, effort) and once
in the comment. Owners want one figure to rank by, and they want to see the
surveys where the two halves contradict each other: a 5-star CSAT over "still not
fixed, third call" is usually the agent being rated instead of the product, or a
misread scale, and either way the score alone would hide a complaint.

Scales, each mapped onto -1 .. 1 (linear; the middle of each scale is 0):

* CSAT 1..5 (5 best): (csat - 3) / 2
* NPS 0..10 (10 best): (nps - 5) / 5, so a detractor's 6 is slightly positive
  here and negative in ``learn``'s label mapping; this figure is a scale, that
  one a class
* CES 1..7 (1 = very easy): (4 - ces) / 3

``experience_score`` = SCORE_WEIGHT x (mean of the survey's scales) + the rest x
the text's sentiment compound; without any score it is the text's sentiment,
without scored text (unscored language, empty comment) it is the scores' mean.
Scores weigh more because the customer chose them deliberately; the words are
what explains them.
"""

from __future__ import annotations

from dataclasses import dataclass

from voc.transforms.records import SENTIMENT_LABELS, SentimentScore

__all__ = ["Experience", "fuse_experience", "survey_scale"]

SCORE_WEIGHT = 0.6
# A contradiction: the scores sit at one end of their scale and the text, read with
# at least this confidence, at the other.
CLEAR_SCORE = 0.5
CLEAR_TEXT = 0.3
CONFIDENT_TEXT = 0.6


@dataclass(frozen=True)
class Experience:
    score: float  # -1 .. 1
    contradiction: bool


def survey_scale(csat: object, nps: object, ces: object) -> float | None:
    """The mean of the survey's scores on -1 .. 1, or None when it has none."""
    values = []
    if _is_number(csat):
        values.append((float(csat) - 3.0) / 2.0)  # type: ignore[arg-type]
    if _is_number(nps):
        values.append((float(nps) - 5.0) / 5.0)  # type: ignore[arg-type]
    if _is_number(ces):
        values.append((4.0 - float(ces)) / 3.0)  # type: ignore[arg-type]
    if not values:
        return None
    return max(-1.0, min(1.0, sum(values) / len(values)))


def fuse_experience(
    csat: object, nps: object, ces: object, sentiment: SentimentScore, has_text: bool
) -> Experience | None:
    """The survey's experience score and contradiction flag (module docstring);
    None when there is neither a score nor scored text."""
    scale = survey_scale(csat, nps, ces)
    text_scored = has_text and sentiment.label in SENTIMENT_LABELS
    if scale is None and not text_scored:
        return None
    if scale is None:
        return Experience(round(sentiment.compound, 4), False)
    if not text_scored:
        return Experience(round(scale, 4), False)
    score = SCORE_WEIGHT * scale + (1 - SCORE_WEIGHT) * sentiment.compound
    confident = sentiment.confidence >= CONFIDENT_TEXT
    contradiction = confident and (
        (
            scale >= CLEAR_SCORE
            and sentiment.label == "negative"
            and sentiment.compound <= -CLEAR_TEXT
        )
        or (
            scale <= -CLEAR_SCORE
            and sentiment.label == "positive"
            and sentiment.compound >= CLEAR_TEXT
        )
    )
    return Experience(round(score, 4), contradiction)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
