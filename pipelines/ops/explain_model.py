"""``voc learn --explain``: a learned model in words, for the people who review it.

Before a model tags anyone's feedback, someone should see what it learnt: which
words pull a text towards each sentiment class and each cause, how many examples
each class had, and how much tagging trusts it beside the lexicon.
"""

from __future__ import annotations

from typing import Any

from voc.transforms.learned_model import NO_CAUSE, LearnedModel

__all__ = ["explain"]


def explain(model: LearnedModel, top: int = 15) -> str:
    """The model in words: what it was trained on and its top features per class."""
    taxonomy = model.taxonomy
    training = model.training
    lines = [
        f"model {model.version}, created {model.created_at}, {len(model.features):,} features",
        f"taxonomy {taxonomy.get('name', '?')} release {taxonomy.get('release', '?')} "
        f"(hash {taxonomy.get('hash', '?')})",
        f"trained on {training.get('texts', 0):,} texts from {training.get('source', '?')}",
        "",
        f"sentiment blend weight {model.blend_weight:g}: tagging mixes "
        f"{1 - model.blend_weight:g} x lexicon + {model.blend_weight:g} x this model"
        + _blend_note(training.get("blend")),
        "sentiment (examples per class; features that raise the class most, with weights):",
    ]
    counts = model.sentiment_counts
    for label in model.sentiment_classes:
        lines.append(f"  {label} ({counts[label]:,}): {_listed(model, 'sentiment', label, top)}")
    if not model.has_causes:
        reason = training.get("causes_skipped", "too few weak labels")
        lines += ["", f"causes: none learned ({reason})"]
        return "\n".join(lines)
    counts = model.cause_counts
    lines += [
        "",
        f"causes (weak labels per class; a cause is named at probability >= "
        f"{model.threshold:g} and above '{NO_CAUSE}'):",
    ]
    for label in model.cause_classes:
        lines.append(f"  {label} ({counts[label]:,}): {_listed(model, 'causes', label, top)}")
    return "\n".join(lines)


def _blend_note(blend: Any) -> str:
    accuracy = blend.get("balanced_accuracy") if isinstance(blend, dict) else None
    if not isinstance(accuracy, dict):
        return ""
    return (
        f" (balanced accuracy on {blend.get('validation_texts', 0):,} held-back comments: "
        f"lexicon {accuracy.get('lexicon')}, model {accuracy.get('model_alone')}, "
        f"blend {accuracy.get('blend')})"
    )


def _listed(model: LearnedModel, part: str, label: str, top: int) -> str:
    found = model.top_features(part, label, top)
    if not found:
        return "(no feature raises it)"
    return ", ".join(f"{name} ({weight:.2f})" for name, weight in found)
