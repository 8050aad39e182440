"""How much tagging should trust a learned model beside the lexicon: voc learn's blend weight.

The lexicon knows words no history used; the model knows a company's own
vocabulary. Which to trust more is measured, not guessed: on comments held back
from training, each weight's mix is scored against the customers' own scores, with
exactly the mix tagging will use (:func:`voc.transforms.score_sentiment.mix_probabilities`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from voc.transforms.feedback_tokens import tokenize
from voc.transforms.learned_model import DEFAULT_BLEND_WEIGHT, MAX_BLEND_WEIGHT, LearnedModel
from voc.transforms.score_sentiment import mix_probabilities, read_text_sentiment
from voc.transforms.support_sentiment import LABELS, label_of
from voc.transforms.taxonomy import Taxonomy
from voc.transforms.text_features import features_of

__all__ = ["BLEND_STEPS", "MIN_VALIDATION_PER_CLASS", "choose_blend_weight"]

MIN_VALIDATION_PER_CLASS = 10
BLEND_STEPS = 20  # weights tried: 0, 0.05, ..., MAX_BLEND_WEIGHT


def choose_blend_weight(
    model: LearnedModel, validation: list[tuple[str, int]], taxonomy: Taxonomy
) -> tuple[float, dict[str, Any]]:
    """How much the tagger's sentiment should trust this model beside the lexicon.

    The comments held back from training are scored by the lexicon scorer
    (:func:`voc.transforms.score_sentiment.read_text_sentiment`, as tagging scores
    them) and by the model; the weight w in 0, 0.05, ..., :data:`MAX_BLEND_WEIGHT`
    whose mix (1 - w) * lexicon + w * model agrees best with the customers' own
    scores (balanced accuracy: each class counts alike) is the model's weight, the
    smallest on a tie. Never above MAX_BLEND_WEIGHT: the lexicon knows words no
    history used. Too few held-back comments (fewer than
    :data:`MIN_VALIDATION_PER_CLASS` of a class) leave :data:`DEFAULT_BLEND_WEIGHT`.
    """
    per_class = [0, 0, 0]
    for _, label in validation:
        per_class[label] += 1
    if min(per_class) < MIN_VALIDATION_PER_CLASS:
        return DEFAULT_BLEND_WEIGHT, {
            "reason": f"too few held-back comments to choose ({sum(per_class)}); the default",
            "validation_texts": sum(per_class),
        }
    pairs: list[tuple[Sequence[float], Mapping[str, float], int]] = []
    for text, label in validation:
        tokens = tokenize(text, taxonomy.vocabulary)
        _, reading = read_text_sentiment(text, tokens)
        if reading is None:
            continue  # a language the lexicon does not read: nothing to weigh against
        learned = model.sentiment_probabilities(features_of(tokens))
        pairs.append((reading.probabilities, learned, label))
    steps = [round(MAX_BLEND_WEIGHT * step / BLEND_STEPS, 4) for step in range(BLEND_STEPS + 1)]
    scores = {weight: _balanced_accuracy(pairs, weight) for weight in steps}
    best = max(steps, key=lambda weight: (round(scores[weight], 4), -weight))
    return best, {
        "reason": f"best of {len(steps)} weights on {len(pairs):,} held-back comments",
        "validation_texts": len(pairs),
        "balanced_accuracy": {
            "lexicon": round(scores[0.0], 4),
            "blend": round(scores[best], 4),
            "model_alone": round(_balanced_accuracy(pairs, 1.0), 4),
        },
    }


def _balanced_accuracy(
    pairs: list[tuple[Sequence[float], Mapping[str, float], int]], weight: float
) -> float:
    """The labels tagging would give at this weight (the same mix), scored against the
    customers' own, each class counting alike."""
    hits = [0, 0, 0]
    totals = [0, 0, 0]
    for lexical, learned, label in pairs:
        totals[label] += 1
        hits[label] += label_of(mix_probabilities(lexical, learned, weight)) == LABELS[label]
    return sum(hit / total for hit, total in zip(hits, totals, strict=True) if total) / 3
