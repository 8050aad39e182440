"""A model ``voc learn`` trained, as a plain JSON file, and scoring with it in pure Python.

Every survey carries a score next to its comment, and every rule tag a confidence:
labels no lexicon has. ``voc learn`` (:mod:`voc.pipelines.ops.learn_model`) turns them
into two small linear models over the features of
:func:`voc.transforms.text_features.features_of`:

- **sentiment**: negative / neutral / positive, learned from comments labelled by
  their own survey scores (the mapping is stored in the file, ``label_mapping``);
- **causes** (optional): one binary model per root cause and one for ``none``
  (no cause), learned from high-confidence rule tags, for texts no rule matched.

Scoring needs no scikit-learn and no numpy: a text's features are looked up in dicts
of weights, which costs a few microseconds (the tagging budget is ~100 us a text).

**The file** is JSON (gzip-compressed when its name ends ``.gz``), never a pickle:
loading a model must not be able to run code. It holds, with their shapes checked on
load (:func:`load_model` names the first problem in one line, as :class:`ModelError`):

``format``, ``format_version``
    ``"voc-learned-model"`` and :data:`FORMAT_VERSION`.
``version``
    ``"lm-"`` + the first 8 hex digits of the SHA-256 of the rest of the file (the
    creation time is part of it, so two trainings never share a version). A file
    whose content does not match its version was edited or damaged, and is refused.
``created_at``, ``taxonomy`` (``name``, ``release``, ``hash``), ``training``
    when, with which taxonomy (the texts were tokenized with its vocabulary, and the
    cause ids are its causes), and what the training saw (counts, settings).
``features``
    the vocabulary: feature names, unique; weights refer to them by position.
``scaling``
    ``"l2-binary"``: a text is the set of its features found in ``features``, each
    worth 1/sqrt(how many there are). Features the model does not know are ignored.
``sentiment``
    ``classes`` (negative, neutral, positive), ``counts`` (training examples per
    class), ``min_per_class``, ``label_mapping``, ``intercepts`` (one per class),
    ``weights`` (one list per class, one number per feature) and ``blend_weight``
    (0 .. :data:`MAX_BLEND_WEIGHT`: how much the tagger mixes the model into the
    lexicon's sentiment, chosen on comments held back from training). The classes
    are one-vs-rest logistic models; probabilities are their sigmoids normalised to
    sum to 1 (as scikit-learn's ``SGDClassifier.predict_proba`` computes them).
``causes`` (absent when there were too few weak labels)
    ``classes`` (cause ids, then ``"none"``), ``counts``, ``min_per_class``,
    ``label_confidence`` (the rule-tag confidence a weak label needed),
    ``threshold``, ``intercepts`` and ``weights``: per class a list of
    ``[feature index, weight]`` pairs, weights too small to matter left out.

**Too few examples.** A sentiment class needs at least ``min_per_class`` examples
(default :data:`MIN_PER_CLASS`, 50; never below :data:`MIN_PER_CLASS_FLOOR`, 10),
and each cause class its own ``min_per_class`` (default :data:`MIN_PER_CAUSE`, 20):
a model learned from a handful of texts is noise with a confident face, so
:func:`load_model` refuses such a file, whoever wrote it.

**Causes never override rules.** :meth:`LearnedModel.cause_predictions` is only for
texts where the rules found nothing: given the causes the rules found, it returns no
cause at all when there is any (``unclassified`` is not a cause). A model cause
carries :attr:`ModelCause.confidence`, at most :data:`MAX_MODEL_CONFIDENCE` (0.7),
below every rule kind's default (the lowest, regex, is 0.75), so a model tag always
reads as weaker evidence than a rule tag.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from voc.transforms.records import SENTIMENT_LABELS

__all__ = [
    "DEFAULT_BLEND_WEIGHT",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_BLEND_WEIGHT",
    "MAX_MODEL_CONFIDENCE",
    "MIN_PER_CAUSE",
    "MIN_PER_CLASS",
    "MIN_PER_CLASS_FLOOR",
    "NO_CAUSE",
    "SENTIMENT_CLASSES",
    "LearnedModel",
    "ModelCause",
    "ModelError",
    "content_version",
    "load_model",
    "model_from_document",
]

FORMAT = "voc-learned-model"
FORMAT_VERSION = 1
SCALING = "l2-binary"
SENTIMENT_CLASSES = SENTIMENT_LABELS
NO_CAUSE = "none"
UNCLASSIFIED = "unclassified"  # what the rule matcher reports when nothing fired
MIN_PER_CLASS = 50
MIN_PER_CLASS_FLOOR = 10
MIN_PER_CAUSE = 20
MAX_MODEL_CONFIDENCE = 0.7
# How much the tagger's sentiment mixes in the model (chosen at training time on
# held-back comments, see voc.pipelines.ops.learn_model); at most this much, and
# this much when there were too few comments held back to choose.
MAX_BLEND_WEIGHT = 0.8
DEFAULT_BLEND_WEIGHT = 0.3
VERSION_PREFIX = "lm-"
# A model file larger than this (uncompressed) is refused before it is parsed:
# 50,000 features and 50 causes take about 5 MB.
MAX_MODEL_BYTES = 256 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_REQUIRED = ("format", "format_version", "version", "created_at", "taxonomy", "training")
_LOGIT_LIMIT = 35.0  # sigmoid(35) is 1 to 15 digits; math.exp overflows past ~709


class ModelError(ValueError):
    """A model file or training result that cannot be used; one line naming why."""


class ModelCause(NamedTuple):
    """A cause the model reads in a text no rule matched."""

    cause_id: str
    probability: float  # the cause's one-vs-rest probability, threshold .. 1
    words: tuple[str, ...]  # the features that pushed hardest toward it

    @property
    def confidence(self) -> float:
        """What to store as the tag's confidence: below any rule's default."""
        return round(self.probability * MAX_MODEL_CONFIDENCE, 3)


class LearnedModel:
    """A validated model; build it with :func:`load_model` or :func:`model_from_document`."""

    def __init__(self, document: dict[str, Any]) -> None:
        _validate(document)
        self._document = document
        self.features: tuple[str, ...] = tuple(document["features"])
        sentiment = document["sentiment"]
        self.sentiment_classes: tuple[str, ...] = tuple(sentiment["classes"])
        self._sentiment_intercepts = tuple(float(b) for b in sentiment["intercepts"])
        # feature -> its weight in each class; holds every feature the model knows,
        # so it is also the vocabulary the causes' scaling counts against
        self._sentiment: dict[str, tuple[float, ...]] = dict(
            zip(self.features, zip(*sentiment["weights"], strict=True), strict=True)
        )
        causes = document.get("causes")
        self.cause_classes: tuple[str, ...] = tuple(causes["classes"]) if causes else ()
        self.threshold: float = float(causes["threshold"]) if causes else 1.0
        self._cause_intercepts = tuple(float(b) for b in causes["intercepts"]) if causes else ()
        by_feature: dict[str, list[tuple[int, float]]] = {}
        for position, cause in enumerate(self.cause_classes):
            for index, weight in causes["weights"][cause]:
                by_feature.setdefault(self.features[index], []).append((position, float(weight)))
        self._causes: dict[str, tuple[tuple[int, float], ...]] = {
            name: tuple(pairs) for name, pairs in by_feature.items()
        }
        # the same weights by (feature, class), for the words behind a prediction
        self._cause_weight: dict[tuple[str, int], float] = {
            (name, position): weight
            for name, pairs in by_feature.items()
            for position, weight in pairs
        }
        self._none = len(self.cause_classes) - 1
        self._threshold_logit = (
            math.log(self.threshold / (1.0 - self.threshold)) if causes else math.inf
        )

    # ------------------------------------------------------------- metadata

    @property
    def version(self) -> str:
        return self._document["version"]

    @property
    def created_at(self) -> str:
        return self._document["created_at"]

    @property
    def taxonomy(self) -> Mapping[str, str]:
        return dict(self._document["taxonomy"])

    @property
    def blend_weight(self) -> float:
        """How much the tagger's sentiment mixes in this model: (1 - w) * lexicon +
        w * model, chosen when the model was trained."""
        return float(self._document["sentiment"]["blend_weight"])

    @property
    def has_causes(self) -> bool:
        return bool(self.cause_classes)

    @property
    def cause_ids(self) -> tuple[str, ...]:
        """The causes the model can name (``none`` left out)."""
        return self.cause_classes[:-1]

    @property
    def sentiment_counts(self) -> dict[str, int]:
        return dict(self._document["sentiment"]["counts"])

    @property
    def cause_counts(self) -> dict[str, int]:
        causes = self._document.get("causes")
        return dict(causes["counts"]) if causes else {}

    @property
    def label_mapping(self) -> dict[str, Any]:
        return json.loads(json.dumps(self._document["sentiment"]["label_mapping"]))

    @property
    def training(self) -> dict[str, Any]:
        return json.loads(json.dumps(self._document["training"]))

    def to_json(self) -> str:
        """The file's text: canonical JSON (sorted keys, no spaces)."""
        return _canonical(self._document)

    # -------------------------------------------------------------- scoring

    def sentiment_probabilities(self, features: Iterable[str]) -> dict[str, float]:
        """negative / neutral / positive probabilities of a text, summing to 1."""
        weights = self._sentiment
        sums = [0.0, 0.0, 0.0]
        known = 0
        for feature in set(features):
            row = weights.get(feature)
            if row is not None:
                known += 1
                sums[0] += row[0]
                sums[1] += row[1]
                sums[2] += row[2]
        scale = 1.0 / math.sqrt(known) if known else 0.0
        probabilities = [
            _sigmoid(intercept + total * scale)
            for intercept, total in zip(self._sentiment_intercepts, sums, strict=True)
        ]
        whole = sum(probabilities)
        if whole <= 0.0:
            return dict.fromkeys(self.sentiment_classes, 1.0 / len(self.sentiment_classes))
        return {
            label: probability / whole
            for label, probability in zip(self.sentiment_classes, probabilities, strict=True)
        }

    def cause_predictions(
        self, features: Iterable[str], top_words: int = 3, rule_causes: Collection[str] = ()
    ) -> list[ModelCause]:
        """The causes the model reads in a text the rules found nothing in.

        ``rule_causes`` are the causes the rules found in the text; if there is any
        (``unclassified`` does not count) the answer is empty: a model cause never
        sits beside or overrides a rule's. Otherwise every cause whose probability
        reaches the threshold and beats ``none``, most probable first, each with the
        ``top_words`` features that contributed most to it. Empty when the model
        has no cause part, or when ``none`` wins.
        """
        if not self.cause_classes or any(cause != UNCLASSIFIED for cause in rule_causes):
            return []
        vocabulary = self._sentiment
        weights = self._causes
        sums = [0.0] * len(self.cause_classes)
        present: list[str] = []
        for feature in set(features):
            if feature in vocabulary:
                present.append(feature)
                for position, weight in weights.get(feature, ()):
                    sums[position] += weight
        scale = 1.0 / math.sqrt(len(present)) if present else 0.0
        # compared as logits: p >= threshold and p > p(none) without a sigmoid for
        # every class (the sigmoid is monotonic); only the causes named get one
        logits = [
            intercept + total * scale
            for intercept, total in zip(self._cause_intercepts, sums, strict=True)
        ]
        none = logits[self._none]
        floor = self._threshold_logit
        found = [
            (logit, position)
            for position, logit in enumerate(logits[: self._none])
            if logit >= floor and logit > none
        ]
        if not found:
            return []
        found.sort(key=lambda item: (-item[0], self.cause_classes[item[1]]))
        return [
            ModelCause(
                self.cause_classes[position],
                round(_sigmoid(logit), 4),
                self._top_words(present, position, top_words),
            )
            for logit, position in found
        ]

    def _top_words(self, present: list[str], position: int, top: int) -> tuple[str, ...]:
        if top <= 0:
            return ()
        weight_of = self._cause_weight.get
        contributions = [
            (weight, feature)
            for feature in present
            if (weight := weight_of((feature, position), 0.0)) > 0
        ]
        contributions.sort(key=lambda item: (-item[0], item[1]))
        return tuple(feature for _, feature in contributions[:top])

    # ----------------------------------------------------------- explaining

    def top_features(self, part: str, label: str, top: int = 15) -> list[tuple[str, float]]:
        """The ``top`` features with the largest positive weights for one class of
        ``part`` ("sentiment" or "causes"), largest first."""
        if part == "sentiment":
            column = self.sentiment_classes.index(label)
            weighted = [(row[column], name) for name, row in self._sentiment.items()]
        elif part == "causes":
            position = self.cause_classes.index(label)
            weighted = [
                (weight, name)
                for name, pairs in self._causes.items()
                for where, weight in pairs
                if where == position
            ]
        else:
            raise ValueError(f"part must be 'sentiment' or 'causes', not {part!r}")
        best = sorted((item for item in weighted if item[0] > 0), key=lambda i: (-i[0], i[1]))
        return [(name, weight) for weight, name in best[:top]]


def _sigmoid(logit: float) -> float:
    logit = max(-_LOGIT_LIMIT, min(_LOGIT_LIMIT, logit))
    return 1.0 / (1.0 + math.exp(-logit))


# ----------------------------------------------------------------- files


def load_model(path: str | Path, min_per_class: int | None = None) -> LearnedModel:
    """Read and check a model file. ``min_per_class`` asks more examples per sentiment
    class than the file's own minimum (never less: see the module docstring)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_MODEL_BYTES + 1)
    except FileNotFoundError:
        raise ModelError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ModelError(f"{path}: is a directory, expected a model file") from None
    except OSError as error:
        raise ModelError(f"{path}: cannot read: {error.strerror or error}") from None
    if raw.startswith(_GZIP_MAGIC):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unzipped:
                raw = unzipped.read(MAX_MODEL_BYTES + 1)
        except (OSError, EOFError) as error:
            raise ModelError(f"{path}: not a voc model: damaged gzip ({error})") from None
    if len(raw) > MAX_MODEL_BYTES:
        raise ModelError(f"{path}: not a voc model: larger than {MAX_MODEL_BYTES:,} bytes")
    if raw[:1] == b"\x80" or raw[:2] in (b"(d", b"(l", b"}q", b"]q"):
        raise ModelError(
            f"{path}: is a pickle, not JSON: voc never loads pickles (loading one can run code)"
        )
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelError(f"{path}: not a voc model: not JSON ({reason})") from None
    try:
        model = model_from_document(document)
    except ModelError as error:
        raise ModelError(f"{path}: {error}") from None
    if min_per_class is not None:
        _check_counts(document["sentiment"], "sentiment", max(min_per_class, 0))
    return model


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def model_from_document(document: Any) -> LearnedModel:
    """A model from a parsed file (or from training); ModelError names the first problem."""
    return LearnedModel(document)


def content_version(document: Mapping[str, Any]) -> str:
    """``lm-`` + 8 hex digits of the SHA-256 of the document without its version."""
    rest = {key: value for key, value in document.items() if key != "version"}
    return VERSION_PREFIX + hashlib.sha256(_canonical(rest).encode("utf-8")).hexdigest()[:8]


def _canonical(document: Mapping[str, Any]) -> str:
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


# ------------------------------------------------------------ validation


def _validate(document: Any) -> None:
    if not isinstance(document, dict):
        raise ModelError("not a voc model: the JSON is not an object")
    if document.get("format") != FORMAT:
        raise ModelError(f"not a voc model: format is {document.get('format')!r}, not {FORMAT!r}")
    if document.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"format_version {document.get('format_version')!r} is not supported "
            f"(this voc reads version {FORMAT_VERSION}; train the model again)"
        )
    for name in (*_REQUIRED, "features", "scaling", "sentiment"):
        if name not in document:
            raise ModelError(f"missing field {name!r}")
    if document["scaling"] != SCALING:
        raise ModelError(f"scaling: {document['scaling']!r} is not supported (only {SCALING!r})")
    _require(document, "taxonomy", dict)
    _require(document, "training", dict)
    for name in ("version", "created_at"):
        _require(document, name, str)
    features = _require(document, "features", list)
    if not features:
        raise ModelError("features: empty")
    if not all(isinstance(name, str) and name for name in features):
        raise ModelError("features: every feature must be a non-empty string")
    if len(set(features)) != len(features):
        raise ModelError("features: a feature is listed twice")
    sentiment = _require(document, "sentiment", dict)
    _check_part(sentiment, "sentiment", len(features), sparse=False)
    if tuple(sentiment["classes"]) != SENTIMENT_CLASSES:
        raise ModelError(f"sentiment.classes: must be {list(SENTIMENT_CLASSES)}")
    _require(sentiment, "label_mapping", dict, "sentiment.")
    weight = sentiment.get("blend_weight")
    if not _is_number(weight) or not 0.0 <= weight <= MAX_BLEND_WEIGHT:
        raise ModelError(f"sentiment.blend_weight: must be a number from 0 to {MAX_BLEND_WEIGHT}")
    _check_counts(sentiment, "sentiment", MIN_PER_CLASS_FLOOR)
    causes = document.get("causes")
    if causes is not None:
        if not isinstance(causes, dict):
            raise ModelError("causes: must be an object (or absent)")
        _check_part(causes, "causes", len(features), sparse=True)
        classes = causes["classes"]
        if len(classes) < 2 or classes[-1] != NO_CAUSE or NO_CAUSE in classes[:-1]:
            raise ModelError(f"causes.classes: cause ids, then {NO_CAUSE!r} last")
        threshold = causes.get("threshold")
        if not _is_number(threshold) or not 0.0 < threshold < 1.0:
            raise ModelError("causes.threshold: must be a number between 0 and 1")
        confidence = causes.get("label_confidence")
        if not _is_number(confidence) or not 0.0 < confidence <= 1.0:
            raise ModelError("causes.label_confidence: must be a number in (0, 1]")
        _check_counts(causes, "causes", MIN_PER_CLASS_FLOOR)
    expected = content_version(document)
    if document["version"] != expected:
        raise ModelError(
            f"version {document['version']!r} does not match the content ({expected}): "
            "the file was edited or damaged; train the model again"
        )


def _require(document: Mapping[str, Any], name: str, kind: type, prefix: str = "") -> Any:
    if name not in document:
        raise ModelError(f"missing field {prefix + name!r}")
    value = document[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ModelError(f"{prefix}{name}: expected {_KIND_NAMES[kind]}")
    return value


_KIND_NAMES = {dict: "an object", list: "a list", str: "a string", int: "a whole number"}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_part(part: dict[str, Any], name: str, width: int, sparse: bool) -> None:
    for field in ("classes", "counts", "min_per_class", "intercepts", "weights"):
        if field not in part:
            raise ModelError(f"missing field '{name}.{field}'")
    classes = _require(part, "classes", list, f"{name}.")
    if not all(isinstance(label, str) and label for label in classes):
        raise ModelError(f"{name}.classes: every class must be a non-empty string")
    if len(set(classes)) != len(classes):
        raise ModelError(f"{name}.classes: a class is listed twice")
    intercepts = _require(part, "intercepts", list, f"{name}.")
    if len(intercepts) != len(classes):
        raise ModelError(f"{name}.intercepts: {len(intercepts)} numbers for {len(classes)} classes")
    if not all(_is_number(value) for value in intercepts):
        raise ModelError(f"{name}.intercepts: every intercept must be a finite number")
    counts = _require(part, "counts", dict, f"{name}.")
    if set(counts) != set(classes):
        raise ModelError(f"{name}.counts: must give a count for every class and no other")
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in counts.values()):
        raise ModelError(f"{name}.counts: every count must be a whole number")
    minimum = _require(part, "min_per_class", int, f"{name}.")
    if minimum < MIN_PER_CLASS_FLOOR:
        raise ModelError(
            f"{name}.min_per_class: {minimum} is below the floor of {MIN_PER_CLASS_FLOOR}"
        )
    if sparse:
        weights = _require(part, "weights", dict, f"{name}.")
        if set(weights) != set(classes):
            raise ModelError(f"{name}.weights: must give weights for every class and no other")
        for label in classes:
            pairs = weights[label]
            if not isinstance(pairs, list):
                raise ModelError(f"{name}.weights.{label}: expected a list of [index, weight]")
            seen: set[int] = set()
            for pair in pairs:
                if (
                    not isinstance(pair, list)
                    or len(pair) != 2
                    or not isinstance(pair[0], int)
                    or isinstance(pair[0], bool)
                    or not _is_number(pair[1])
                ):
                    raise ModelError(
                        f"{name}.weights.{label}: expected [feature index, weight] pairs"
                    )
                if not 0 <= pair[0] < width or pair[0] in seen:
                    raise ModelError(
                        f"{name}.weights.{label}: feature index {pair[0]} is out of range "
                        f"(0..{width - 1}) or repeated"
                    )
                seen.add(pair[0])
        return
    weights = _require(part, "weights", list, f"{name}.")
    if len(weights) != len(classes):
        raise ModelError(f"{name}.weights: {len(weights)} rows for {len(classes)} classes")
    for label, row in zip(classes, weights, strict=True):
        if not isinstance(row, list) or len(row) != width:
            size = len(row) if isinstance(row, list) else "no"
            raise ModelError(f"{name}.weights.{label}: {size} weights for {width} features")
        if not all(_is_number(value) for value in row):
            raise ModelError(f"{name}.weights.{label}: every weight must be a finite number")


def _check_counts(part: dict[str, Any], name: str, floor: int) -> None:
    """Refuse a part trained on too few examples of any class."""
    minimum = max(part["min_per_class"], floor)
    short = [(label, part["counts"][label]) for label in part["classes"]]
    short = [(label, count) for label, count in short if count < minimum]
    if short:
        listed = ", ".join(f"{label} {count:,}" for label, count in short)
        raise ModelError(
            f"too few {name} examples: {listed} (at least {minimum:,} per class needed)"
        )
