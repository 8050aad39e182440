"""The learned-model file (JSON, checked on load) and scoring with it; the text features.

Models here are written by hand, so every number a test expects can be worked out
from the weights; training is tested in tests/pipelines/ops/test_learn_model.py.
"""

from __future__ import annotations

import copy
import gzip
import json
import math
import pickle
from pathlib import Path

import pytest

from voc.pipelines.ops.explain_model import explain
from voc.transforms.feedback_tokens import tokenize
from voc.transforms.learned_model import (
    FORMAT,
    FORMAT_VERSION,
    MAX_MODEL_CONFIDENCE,
    NO_CAUSE,
    ModelCause,
    ModelError,
    content_version,
    load_model,
    model_from_document,
)
from voc.transforms.taxonomy import load_taxonomy
from voc.transforms.text_features import NUMBER_FEATURE, features_of

VOCABULARY = load_taxonomy().vocabulary


def features(text: str) -> list[str]:
    return features_of(tokenize(text, VOCABULARY))


# ------------------------------------------------------------------- features


def test_roots_bigrams_within_a_clause_and_negation() -> None:
    found = features("I didn't get my refund, but thanks")
    for feature in ("i", "i did", "did not", "not", "not get", "not:get", "my", "not:refund"):
        assert feature in found
    assert "get" not in found and "refund" not in found  # negated words are marked instead
    assert "refund but" not in found  # no bigram across the comma
    assert "thank" in found and "but thank" in found and "not:thank" not in found


def test_negation_scope_is_three_content_words_and_ends_at_a_new_clause() -> None:
    found = features("it does not work with the new app today")
    assert {"not:work", "not:with", "not:new"} <= set(found)
    assert "the" in found and "not:the" not in found  # small words are not marked
    assert "app" in found and "not:app" not in found
    found = features("Not happy because the app crashed")
    assert "not:happi" in found and "crash" in found and "not:crash" not in found
    found = features("never again. Works fine now")
    assert "work" in found and "not:work" not in found
    found = features("nobody called me back")
    assert "not:call" in found and "not:back" in found


def test_numbers_are_one_feature() -> None:
    found = features("waited 45 minutes, my 3rd call about the 10.50 charge")
    assert NUMBER_FEATURE in found
    assert "wait <num>" in found and "<num> minut" in found and "the <num>" in found
    assert not any(feature[0].isdigit() for feature in found)


def test_features_are_unique_and_use_the_taxonomys_vocabulary() -> None:
    found = features("very very good, very good")
    assert len(found) == len(set(found))
    assert found == ["veri", "veri veri", "veri good", "good"]  # Snowball roots
    assert "packag" in features("pkg never came")  # the taxonomy's abbreviation
    assert features("") == [] and features("...!") == []


# --------------------------------------------------------------------- models

FEATURES = ["refund", "thank", "charg", "twice", "great", "not:work", "hold", "wait", "the"]


def document(**changes) -> dict:
    """A small valid model: sentiment over FEATURES, causes billing_error and
    long_hold, then "none"."""
    width = len(FEATURES)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": "2026-12-01T00:00:00+00:00",
        "taxonomy": {"name": "generic", "release": "1", "hash": "abc"},
        "training": {"source": "hand", "texts": 900},
        "features": list(FEATURES),
        "scaling": "l2-binary",
        "sentiment": {
            "classes": ["negative", "neutral", "positive"],
            "counts": {"negative": 300, "neutral": 300, "positive": 300},
            "min_per_class": 50,
            "label_mapping": {"csat": {"negative": [1, 2]}},
            "blend_weight": 0.4,
            "intercepts": [0.0, 0.0, 0.0],
            "weights": [
                [2.0, -1.0, 2.0, 1.0, -2.0, 2.0, 1.0, 1.0, 0.0],
                [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                [-2.0, 2.0, -2.0, -1.0, 3.0, -2.0, -1.0, -1.0, 0.0],
            ],
        },
        "causes": {
            "classes": ["billing_error", "long_hold", NO_CAUSE],
            "counts": {"billing_error": 40, "long_hold": 30, NO_CAUSE: 100},
            "min_per_class": 20,
            "label_confidence": 0.8,
            "threshold": 0.5,
            "intercepts": [-2.0, -2.0, 0.0],
            "weights": {
                "billing_error": [[0, 3.0], [2, 6.0], [3, 4.0]],
                "long_hold": [[6, 8.0], [7, 4.0]],
                NO_CAUSE: [[1, 3.0], [4, 3.0]],
            },
        },
    }
    assert len(doc["sentiment"]["weights"][0]) == width
    for path, value in changes.items():
        target = doc
        *parents, last = path.split("__")
        for parent in parents:
            target = target[parent]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    doc["version"] = content_version(doc)
    return doc


_DELETE = object()


def test_sentiment_probabilities_sum_to_one_and_follow_the_weights() -> None:
    model = model_from_document(document())
    complaint = model.sentiment_probabilities(["charg", "twice", "unknown word"])
    assert set(complaint) == {"negative", "neutral", "positive"}
    assert sum(complaint.values()) == pytest.approx(1.0)
    # two known features, each worth 1/sqrt(2): negative logit 3/sqrt(2)
    negative = 1 / (1 + math.exp(-3 / math.sqrt(2)))
    positive = 1 / (1 + math.exp(3 / math.sqrt(2)))
    neutral = 0.5
    whole = negative + neutral + positive
    assert complaint["negative"] == pytest.approx(negative / whole)
    assert complaint["positive"] == pytest.approx(positive / whole)
    praise = model.sentiment_probabilities(["thank", "great", "thank"])
    assert max(praise, key=praise.get) == "positive"
    nothing = model.sentiment_probabilities(["zzz"])  # no known feature: the intercepts
    assert nothing == pytest.approx({"negative": 1 / 3, "neutral": 1 / 3, "positive": 1 / 3})


def test_cause_predictions_name_the_cause_and_its_words() -> None:
    model = model_from_document(document())
    found = model.cause_predictions(["charg", "twice", "the", "refund"], top_words=2)
    assert [cause.cause_id for cause in found] == ["billing_error"]
    (cause,) = found
    # 4 known features: logit -2 + (3 + 6 + 4) / 2 = 4.5
    assert cause.probability == pytest.approx(1 / (1 + math.exp(-4.5)), abs=1e-4)
    assert cause.words == ("charg", "twice")
    assert cause.confidence == round(cause.probability * MAX_MODEL_CONFIDENCE, 3) < 0.75
    assert isinstance(cause, ModelCause)
    both = model.cause_predictions(["charg", "hold"])
    assert [c.cause_id for c in both] == ["long_hold", "billing_error"]  # most probable first


def test_no_cause_when_none_wins_or_below_the_threshold() -> None:
    model = model_from_document(document())
    assert model.cause_predictions(["thank", "great"]) == []  # "none" wins
    assert model.cause_predictions(["the"]) == []  # every cause below 0.5
    assert model.cause_predictions([]) == []
    strict = model_from_document(document(causes__threshold=0.999))
    assert strict.cause_predictions(["charg", "twice", "the", "refund"]) == []


def test_a_rule_cause_means_no_model_cause() -> None:
    model = model_from_document(document())
    text = ["charg", "twice"]
    assert model.cause_predictions(text, rule_causes=["long_hold"]) == []
    assert model.cause_predictions(text, rule_causes=["billing_error"]) == []
    assert model.cause_predictions(text, rule_causes=["refund_delay", "unclassified"]) == []
    # "unclassified" is what the rules say when they found nothing
    assert model.cause_predictions(text, rule_causes=["unclassified"])[0].cause_id == (
        "billing_error"
    )


def test_the_blend_weight_is_the_files() -> None:
    model = model_from_document(document())
    assert model.blend_weight == 0.4
    assert "tagging mixes 0.6 x lexicon + 0.4 x this model" in explain(model)


def test_a_model_without_causes_scores_sentiment_only() -> None:
    model = model_from_document(document(causes=_DELETE))
    assert not model.has_causes and model.cause_ids == ()
    assert model.cause_predictions(["charg", "twice"]) == []
    assert sum(model.sentiment_probabilities(["charg"]).values()) == pytest.approx(1.0)
    assert "causes: none learned" in explain(model)


def test_explain_names_the_top_features_per_class() -> None:
    text = explain(model_from_document(document()), top=2)
    assert "negative (300): charg (2.00), not:work (2.00)" in text
    assert "positive (300): great (3.00), thank (2.00)" in text
    assert "billing_error (40): charg (6.00), twice (4.00)" in text
    assert "none (100): great (3.00), thank (3.00)" in text
    assert "neutral (300): (no feature raises it)" in text


# ---------------------------------------------------------------------- files


def test_load_round_trip_plain_and_gzip(tmp_path: Path) -> None:
    doc = document()
    plain = tmp_path / "model.json"
    plain.write_text(json.dumps(doc), encoding="utf-8")
    packed = tmp_path / "model.json.gz"
    packed.write_bytes(gzip.compress(json.dumps(doc).encode()))
    for path in (plain, packed):
        model = load_model(path)
        assert model.version == doc["version"]
        assert model.version.startswith("lm-") and len(model.version) == 11
        assert json.loads(model.to_json()) == doc


def refused(tmp_path: Path, content: bytes | dict, *fragments: str) -> str:
    path = tmp_path / "model.json"
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    with pytest.raises(ModelError) as raised:
        load_model(path)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_files_that_are_not_models_are_refused_in_one_line(tmp_path: Path) -> None:
    refused(tmp_path, b"not json at all", "not a voc model: not JSON")
    refused(tmp_path, pickle.dumps(document()), "is a pickle, not JSON")
    refused(tmp_path, pickle.dumps(document(), protocol=0), "is a pickle, not JSON")
    refused(tmp_path, b"\xff\xfe\x00", "not JSON")
    refused(tmp_path, b"[1, 2]", "the JSON is not an object")
    refused(tmp_path, {"format": "something-else"}, "format is 'something-else'")
    refused(tmp_path, b'{"a": NaN}', "not JSON")
    refused(tmp_path, b"\x1f\x8b\x08\x00garbage", "damaged gzip")
    with pytest.raises(ModelError, match="no such file"):
        load_model(tmp_path / "missing.json")


def test_tampered_models_are_refused_naming_the_problem(tmp_path: Path) -> None:
    refused(tmp_path, document(format_version=99), "format_version 99 is not supported")
    refused(tmp_path, document(features=_DELETE), "missing field 'features'")
    refused(tmp_path, document(sentiment__weights=_DELETE), "missing field 'sentiment.weights'")
    short_row = document()
    short_row["sentiment"]["weights"][1] = [0.0] * 3
    short_row["version"] = content_version(short_row)
    refused(tmp_path, short_row, "sentiment.weights.neutral: 3 weights for 9 features")
    refused(
        tmp_path,
        document(sentiment__intercepts=[0.0, 0.0]),
        "sentiment.intercepts: 2 numbers for 3 classes",
    )
    refused(
        tmp_path,
        document(causes__weights={"billing_error": [[99, 1.0]], "long_hold": [], NO_CAUSE: []}),
        "causes.weights.billing_error: feature index 99 is out of range",
    )
    refused(tmp_path, document(features=[*FEATURES[:-1], "refund"]), "listed twice")
    refused(tmp_path, document(causes__classes=["a", "b", "c"]), "causes.counts")
    refused(tmp_path, document(causes__threshold=1.5), "causes.threshold")
    refused(tmp_path, document(sentiment__blend_weight=0.95), "sentiment.blend_weight")
    refused(tmp_path, document(sentiment__blend_weight=_DELETE), "sentiment.blend_weight")
    # a weight edited by hand no longer matches the version
    edited = document()
    edited["sentiment"]["weights"][0][0] = 9.0
    refused(tmp_path, edited, "does not match the content", "edited or damaged")


def test_too_few_examples_per_class_are_refused(tmp_path: Path) -> None:
    few = {"negative": 300, "neutral": 12, "positive": 300}
    refused(
        tmp_path,
        document(sentiment__counts=few),
        "too few sentiment examples: neutral 12 (at least 50 per class needed)",
    )
    refused(
        tmp_path,
        document(sentiment__min_per_class=3),
        "sentiment.min_per_class: 3 is below the floor of 10",
    )
    few_causes = {"billing_error": 40, "long_hold": 5, NO_CAUSE: 100}
    refused(
        tmp_path,
        document(causes__counts=few_causes),
        "too few causes examples: long_hold 5 (at least 20 per class needed)",
    )
    # a caller may ask more than the file's minimum
    path = tmp_path / "model.json"
    path.write_text(json.dumps(document()), encoding="utf-8")
    assert load_model(path, min_per_class=300).version
    with pytest.raises(ModelError, match="at least 301 per class"):
        load_model(path, min_per_class=301)


def test_documents_are_not_changed_by_scoring() -> None:
    doc = document()
    before = copy.deepcopy(doc)
    model = model_from_document(doc)
    model.sentiment_probabilities(["charg"])
    model.cause_predictions(["charg"])
    assert doc == before and json.loads(model.to_json()) == before
