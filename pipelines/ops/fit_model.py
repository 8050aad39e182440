"""Fitting voc learn's models: the training examples in, a model document out.

:mod:`voc.pipelines.ops.learn_model` reads the examples (from a DuckDB file or a
history export) and says what the labels mean; this module spools them to disk in
chunks, counts the vocabulary in bounded memory, fits scikit-learn's SGD logistic
regression over the chunks, chooses the lexicon/model blend weight on held-back
comments and writes the model document (:mod:`voc.transforms.learned_model`).
The reasons for each choice are in learn_model's docstring.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from voc.pipelines.ops.blend_weight import choose_blend_weight
from voc.transforms.feedback_tokens import tokenize
from voc.transforms.learned_model import (
    DEFAULT_BLEND_WEIGHT,
    FORMAT,
    FORMAT_VERSION,
    MIN_PER_CAUSE,
    MIN_PER_CLASS,
    MIN_PER_CLASS_FLOOR,
    NO_CAUSE,
    SCALING,
    SENTIMENT_CLASSES,
    LearnedModel,
    ModelError,
    content_version,
    model_from_document,
)
from voc.transforms.taxonomy import Taxonomy
from voc.transforms.text_features import features_of

CAUSE_LABEL_CONFIDENCE = 0.8  # text evidence a rule tag needs to be a weak label
DEFAULT_MAX_FEATURES = 50_000  # the vocabulary cap
DEFAULT_MIN_COUNT = 2  # texts a feature must occur in to be kept
DEFAULT_THRESHOLD = 0.5  # cause probability a model cause needs (and to beat "none")
CHUNK_ROWS = 10_000  # texts read, spooled and trained on at a time
MAX_CANDIDATE_FEATURES = 2_000_000  # distinct features counted before the rarest go
DUCKDB_MEMORY_LIMIT = "256MB"
# Cause weights smaller than this are left out of the file: at 1/sqrt(40) a feature,
# such a weight moves a logit by less than 0.002.
CAUSE_WEIGHT_FLOOR = 0.01
WEIGHT_DECIMALS = 4
# scikit-learn's SGD guide: SGD converges after seeing about 10^6 examples, so
# epochs = ceil(10^6 / examples), here kept within these bounds.
TARGET_UPDATES = 1_000_000
MIN_EPOCHS = 3
MAX_EPOCHS = 20
# Regularisation (see _alpha): C = 1 for sentiment, C = 10 for the causes' L1 models,
# whose labels are rules (consistent, so less to distrust) and which L1 at C = 1
# starves on a small history (on 5,000 generated events it agreed with the rules on
# 91% of held-out texts; at C = 10, on 99.8%).
CAUSE_C = 10
# Never below 1e-6: SGD's "optimal" step size is 1 / (alpha * t), and below it the
# first steps are so large that weights swing to hundreds and L1 zeroes nothing (a
# million generated texts at 1e-7: ~15 cause weights per feature, at 1e-6: ~5).
MIN_ALPHA = 1e-6
MAX_ALPHA = 1e-2
# The blend weight (see blend_weight.choose_blend_weight): every VALIDATION_EVERY-th comment with
# a score is held back from sentiment training, at most VALIDATION_MAX of them.
VALIDATION_EVERY = 10
VALIDATION_MAX = 5_000


SCORES: dict[str, tuple[tuple[str, range], ...]] = {
    "csat": (("negative", range(1, 3)), ("neutral", range(3, 4)), ("positive", range(4, 6))),
    "nps": (("negative", range(0, 7)), ("neutral", range(7, 9)), ("positive", range(9, 11))),
    "ces": (("positive", range(1, 4)), ("neutral", range(4, 5)), ("negative", range(5, 8))),
}
SCORE_PRIORITY = ("csat", "nps", "ces")
LABEL_MAPPING: dict[str, Any] = {
    **{
        score: {label: [values.start, values.stop - 1] for label, values in bands}
        for score, bands in SCORES.items()
    },
    "priority": list(SCORE_PRIORITY),
    "label": "a record's own label (negative, neutral, positive) wins over its scores",
}


class LearnError(ValueError):
    """The training data cannot be read or used; one line naming why."""


@dataclass(frozen=True)
class LearnSettings:
    """How a model is trained; every field is recorded in the model file."""

    min_per_class: int = MIN_PER_CLASS  # sentiment examples each class needs
    min_per_cause: int = MIN_PER_CAUSE  # weak labels a cause (and "none") needs
    max_features: int = DEFAULT_MAX_FEATURES
    min_count: int = DEFAULT_MIN_COUNT  # texts a feature must occur in
    label_confidence: float = CAUSE_LABEL_CONFIDENCE
    threshold: float = DEFAULT_THRESHOLD  # cause probability a prediction needs
    epochs: int | None = None  # None: ceil(10^6 / examples), 3 .. 20
    alpha: float | None = None  # SGD's regularisation; None: 1 / the rows a model learns from
    seed: int = 0

    def __post_init__(self) -> None:
        if self.min_per_class < MIN_PER_CLASS_FLOOR or self.min_per_cause < MIN_PER_CLASS_FLOOR:
            raise LearnError(
                f"the minimum examples per class is at least {MIN_PER_CLASS_FLOOR}: "
                "fewer teach a model nothing it can be trusted with"
            )
        if self.max_features < 1 or self.min_count < 1:
            raise LearnError("max_features and min_count must be at least 1")
        if not 0.0 < self.label_confidence <= 1.0 or not 0.0 < self.threshold < 1.0:
            raise LearnError("label_confidence must be in (0, 1] and threshold in (0, 1)")
        if self.epochs is not None and not 1 <= self.epochs <= 1000:
            raise LearnError("epochs must be between 1 and 1000")
        if self.alpha is not None and not 0.0 < self.alpha < 1.0:
            raise LearnError("alpha must be between 0 and 1")


@dataclass
class TrainingExample:
    text: str
    sentiment: int  # index into SENTIMENT_CLASSES, -1 without a label
    confident: tuple[str, ...] | None  # weak cause labels; None: untagged, skip for causes
    uncertain: tuple[str, ...] = ()  # causes tagged without enough text evidence


@dataclass
class _Spool:
    """Pass 1's output: chunk files of feature ids and labels, and what was counted."""

    directory: Path
    chunks: list[Path] = field(default_factory=list)
    texts: int = 0
    empty: int = 0  # texts without a single feature
    sentiment_counts: list[int] = field(default_factory=lambda: [0, 0, 0])
    cause_counts: list[int] = field(default_factory=list)  # positives per cause class
    cause_rows: np.ndarray | None = None  # examples (positive or negative) per cause class
    uncertain: int = 0  # texts with a cause tag too weak (or foreign) to learn from
    # comments with a score held back from sentiment training: (text, class index)
    validation: list[tuple[str, int]] = field(default_factory=list)


class _FeatureTable:
    """Feature -> id and the number of texts each was in, with a bounded size."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.ids: dict[str, int] = {}
        self.counts = np.zeros(1 << 16, dtype=np.int64)
        self.next_id = 0
        self.forgotten = 0

    def encode(self, features: list[str]) -> list[int]:
        ids = self.ids
        encoded = []
        for feature in features:
            found = ids.get(feature)
            if found is None:
                found = ids[feature] = self.next_id
                self.next_id += 1
            encoded.append(found)
        return encoded

    def count(self, chunk_ids: np.ndarray) -> None:
        if self.next_id > len(self.counts):
            grown = np.zeros(max(self.next_id, 2 * len(self.counts)), dtype=np.int64)
            grown[: len(self.counts)] = self.counts
            self.counts = grown
        self.counts[: self.next_id] += np.bincount(chunk_ids, minlength=self.next_id)
        if len(self.ids) > self.limit:
            self._forget()

    def _forget(self) -> None:
        """Drop the rarest features until the table is back to 3/4 of its limit."""
        floor = 2
        while len(self.ids) > self.limit * 3 // 4:
            counts = self.counts
            before = len(self.ids)
            self.ids = {name: i for name, i in self.ids.items() if counts[i] >= floor}
            self.forgotten += before - len(self.ids)
            floor += 1

    def vocabulary(self, max_features: int, min_count: int) -> tuple[list[str], np.ndarray]:
        """The kept features (most texts first, then by name) and id -> position (-1)."""
        counts = self.counts
        kept = [(int(counts[i]), name, i) for name, i in self.ids.items() if counts[i] >= min_count]
        kept.sort(key=lambda item: (-item[0], item[1]))
        kept = kept[:max_features]
        remap = np.full(self.next_id, -1, dtype=np.int32)
        for position, (_, _, i) in enumerate(kept):
            remap[i] = position
        return [name for _, name, _ in kept], remap


def learn_examples(
    examples: Iterable[TrainingExample],
    taxonomy: Taxonomy,
    settings: LearnSettings,
    source: str,
    log: Callable[[str], None] | None,
) -> LearnedModel:
    say = log or (lambda _message: None)
    started = time.perf_counter()
    causes = list(taxonomy.cause_ids)
    with tempfile.TemporaryDirectory(prefix="voc-learn-") as directory:
        table = _FeatureTable(MAX_CANDIDATE_FEATURES)
        spool = _spool(examples, taxonomy, causes, table, Path(directory), say)
        read_seconds = time.perf_counter() - started
        say(f"read {spool.texts:,} texts in {read_seconds:.0f} s")
        sentiment_counts = dict(zip(SENTIMENT_CLASSES, spool.sentiment_counts, strict=True))
        _refuse_too_few(sentiment_counts, settings.min_per_class)
        cause_classes, skipped_reason = _cause_classes(causes, spool, settings)
        features, remap = table.vocabulary(settings.max_features, settings.min_count)
        if not features:
            raise ModelError(
                f"no feature occurs in {settings.min_count} texts or more: too few texts"
            )
        examples_seen = sum(spool.sentiment_counts)
        epochs = settings.epochs or min(
            MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(TARGET_UPDATES / max(examples_seen, 1)))
        )
        say(f"vocabulary {len(features):,} features; training {epochs} epochs")
        sentiment_model, cause_models = _fit(
            spool, remap, len(features), cause_classes, causes, sentiment_counts, settings, epochs
        )
    seconds = time.perf_counter() - started
    say(f"trained in {seconds:.0f} s")
    document = _document(
        taxonomy=taxonomy,
        settings=settings,
        source=source,
        features=features,
        spool=spool,
        sentiment_counts=sentiment_counts,
        sentiment_model=sentiment_model,
        cause_classes=cause_classes,
        cause_models=cause_models,
        causes=causes,
        skipped_reason=skipped_reason,
        epochs=epochs,
        forgotten=table.forgotten,
        seconds=(round(read_seconds, 1), round(seconds, 1)),
    )
    weight, blend = choose_blend_weight(model_from_document(document), spool.validation, taxonomy)
    document["sentiment"]["blend_weight"] = weight
    document["training"]["blend"] = blend
    say(f"blend weight {weight:g} ({blend['reason']})")
    document["version"] = content_version(document)
    return model_from_document(document)


def _spool(
    examples: Iterable[TrainingExample],
    taxonomy: Taxonomy,
    causes: list[str],
    table: _FeatureTable,
    directory: Path,
    say: Callable[[str], None],
) -> _Spool:
    spool = _Spool(directory, cause_counts=[0] * (len(causes) + 1))
    column = {cause: position for position, cause in enumerate(causes)}
    none = len(causes)
    vocabulary = taxonomy.vocabulary
    ids: list[int] = []
    lengths: list[int] = []
    sentiments: list[int] = []
    labels: list[list[int]] = []
    labelled = 0
    for example in examples:
        features = features_of(tokenize(example.text, vocabulary))
        if not features:
            spool.empty += 1
            continue
        encoded = table.encode(features)
        ids.extend(encoded)
        lengths.append(len(encoded))
        sentiment = example.sentiment
        if sentiment >= 0:
            labelled += 1
            if labelled % VALIDATION_EVERY == 0 and len(spool.validation) < VALIDATION_MAX:
                spool.validation.append((example.text, sentiment))
                sentiment = -1  # still a text for the causes
            else:
                spool.sentiment_counts[sentiment] += 1
        sentiments.append(sentiment)
        labels.append(_label_row(example, column, none, spool))
        spool.texts += 1
        if len(lengths) == CHUNK_ROWS:
            _write_chunk(spool, table, ids, lengths, sentiments, labels)
            ids, lengths, sentiments, labels = [], [], [], []
            if len(spool.chunks) % 20 == 0:
                say(f"read {spool.texts:,} texts")
    if lengths:
        _write_chunk(spool, table, ids, lengths, sentiments, labels)
    return spool


def _label_row(
    example: TrainingExample, column: dict[str, int], none: int, spool: _Spool
) -> list[int]:
    """1 positive, 0 negative, -1 not an example, for each cause and then ``none``."""
    if example.confident is None:
        return [-1] * (none + 1)
    row = [0] * (none + 1)
    for cause in example.uncertain:
        if cause in column:
            row[column[cause]] = -1
    for cause in example.confident:
        row[column[cause]] = 1
        spool.cause_counts[column[cause]] += 1
    if example.confident:
        return row
    if example.uncertain:
        spool.uncertain += 1
        row[none] = -1  # a rule fired, not strongly: not "no cause" either
    else:
        row[none] = 1
        spool.cause_counts[none] += 1
    return row


def _write_chunk(
    spool: _Spool,
    table: _FeatureTable,
    ids: list[int],
    lengths: list[int],
    sentiments: list[int],
    labels: list[list[int]],
) -> None:
    chunk_ids = np.asarray(ids, dtype=np.int32)
    table.count(chunk_ids)
    causes = np.asarray(labels, dtype=np.int8)
    rows = (causes >= 0).sum(axis=0)
    spool.cause_rows = rows if spool.cause_rows is None else spool.cause_rows + rows
    path = spool.directory / f"chunk-{len(spool.chunks):06d}.npz"
    np.savez(
        path,
        ids=chunk_ids,
        lengths=np.asarray(lengths, dtype=np.int32),
        sentiment=np.asarray(sentiments, dtype=np.int8),
        causes=causes,
    )
    spool.chunks.append(path)


def _refuse_too_few(counts: Mapping[str, int], minimum: int) -> None:
    short = [(label, count) for label, count in counts.items() if count < minimum]
    if short:
        listed = ", ".join(f"{label} {count:,}" for label, count in short)
        raise ModelError(
            f"too few sentiment examples: {listed} (at least {minimum:,} per class needed; "
            "surveys with a score and a comment)"
        )


def _cause_classes(
    causes: list[str], spool: _Spool, settings: LearnSettings
) -> tuple[list[str], str]:
    """The causes with enough weak labels, then ``none``; or [] and why not."""
    counts = spool.cause_counts
    chosen = [
        cause
        for cause, count in zip(causes, counts, strict=False)
        if count >= settings.min_per_cause
    ]
    if counts[-1] < settings.min_per_cause:
        return [], (f"{counts[-1]:,} texts without a cause, {settings.min_per_cause:,} needed")
    if not chosen:
        return [], (
            f"no cause has {settings.min_per_cause:,} confident rule tags "
            f"(confidence >= {settings.label_confidence:g})"
        )
    return [*chosen, NO_CAUSE], ""


def _matrix(chunk, remap: np.ndarray, width: int):
    """The chunk's rows as a CSR matrix: the known features, each 1/sqrt(how many are
    known in the row), and a last column of 1 for every row (see :func:`_fit`)."""
    from scipy.sparse import csr_matrix

    positions = remap[chunk["ids"]]
    known = positions >= 0
    lengths = chunk["lengths"]
    rows = len(lengths)
    row_of = np.repeat(np.arange(rows), lengths)[known]
    kept_per_row = np.bincount(row_of, minlength=rows)
    scale = 1.0 / np.sqrt(np.maximum(kept_per_row, 1))
    # each row's entries, then its bias entry: row r's block starts at its features'
    # start plus r (one bias entry before it per earlier row)
    indptr = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(kept_per_row + 1, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int32)
    data = np.empty(indptr[-1], dtype=np.float64)
    bias_at = indptr[1:] - 1
    is_feature = np.ones(indptr[-1], dtype=bool)
    is_feature[bias_at] = False
    indices[is_feature] = positions[known]
    data[is_feature] = scale[row_of]
    indices[bias_at] = width
    data[bias_at] = 1.0
    matrix = csr_matrix((data, indices, indptr), shape=(rows, width + 1))
    return matrix, kept_per_row > 0


def _fit(
    spool: _Spool,
    remap: np.ndarray,
    width: int,
    cause_classes: list[str],
    causes: list[str],
    sentiment_counts: Mapping[str, int],
    settings: LearnSettings,
    epochs: int,
):
    """Sentiment: one multi-class (one-vs-rest) model, L2, averaged SGD. Causes: one
    binary model per class, L1, so most of a cause's weights are exactly zero and
    scoring a text touches two or three weights per feature instead of every
    class's. Every row carries a constant column: scikit-learn updates the
    intercept of sparse data a hundred times slower than the weights, which lets
    frequent words ("i", "the") stand in for it with weights in every class; the
    constant column's weight is folded into the intercept when the file is written.
    """
    from sklearn.linear_model import SGDClassifier

    total = sum(sentiment_counts.values())
    balanced = {
        index: total / (len(SENTIMENT_CLASSES) * sentiment_counts[label])
        for index, label in enumerate(SENTIMENT_CLASSES)
    }
    sentiment_model = SGDClassifier(
        loss="log_loss",
        alpha=_alpha(settings, total),
        average=True,
        class_weight=balanced,
        random_state=settings.seed,
    )
    columns = [len(causes) if cause == NO_CAUSE else causes.index(cause) for cause in cause_classes]
    assert spool.cause_rows is not None or not cause_classes
    cause_models = [
        SGDClassifier(
            loss="log_loss",
            penalty="l1",
            alpha=_alpha(settings, int(spool.cause_rows[column]) * CAUSE_C),
            random_state=settings.seed,
        )
        for column in columns
    ]
    rng = np.random.default_rng(settings.seed)
    sentiment_classes = np.arange(len(SENTIMENT_CLASSES))
    binary = np.array([0, 1])
    for _epoch in range(epochs):
        for chunk_number in rng.permutation(len(spool.chunks)):
            with np.load(spool.chunks[chunk_number]) as chunk:
                matrix, has_features = _matrix(chunk, remap, width)
                sentiment = chunk["sentiment"]
                labels = chunk["causes"]
            order = rng.permutation(np.flatnonzero(has_features))
            matrix = matrix[order]
            sentiment = sentiment[order]
            labels = labels[order]
            rows = sentiment >= 0
            if rows.any():
                sentiment_model.partial_fit(
                    matrix[rows], sentiment[rows], classes=sentiment_classes
                )
            for model, column in zip(cause_models, columns, strict=True):
                target = labels[:, column]
                rows = target >= 0
                if rows.any():
                    model.partial_fit(matrix[rows], target[rows], classes=binary)
    return sentiment_model, cause_models


def _alpha(settings: LearnSettings, rows: int) -> float:
    """The regularisation of a model learning from ``rows`` examples: the setting, or
    1 / rows. SGD minimises the mean loss + alpha * penalty, which is LIBLINEAR's
    C * summed loss + penalty at C = 1 / (alpha * rows); 1 / rows is C = 1, the usual
    default, so a small history is held back from memorising its texts and a large
    one is free to use them."""
    if settings.alpha is not None:
        return settings.alpha
    return min(MAX_ALPHA, max(MIN_ALPHA, 1.0 / max(rows, 1)))


def _document(
    *,
    taxonomy: Taxonomy,
    settings: LearnSettings,
    source: str,
    features: list[str],
    spool: _Spool,
    sentiment_counts: Mapping[str, int],
    sentiment_model,
    cause_classes: list[str],
    cause_models: list,
    causes: list[str],
    skipped_reason: str,
    epochs: int,
    forgotten: int,
    seconds: tuple[float, float],
) -> dict[str, Any]:
    all_cause_counts = dict(zip([*causes, NO_CAUSE], spool.cause_counts, strict=True))
    training = {
        "source": source,
        "texts": spool.texts,
        "texts_without_features": spool.empty,
        "texts_with_uncertain_causes": spool.uncertain,
        "epochs": epochs,
        "alpha": {
            "sentiment": sentiment_model.alpha,
            **{
                cause: model.alpha for cause, model in zip(cause_classes, cause_models, strict=True)
            },
        },
        "seed": settings.seed,
        "max_features": settings.max_features,
        "min_count": settings.min_count,
        "features_forgotten": forgotten,
        "cause_label_counts": {c: n for c, n in all_cause_counts.items() if n},
        "seconds_reading": seconds[0],
        "seconds_total": seconds[1],
        "trainer": f"scikit-learn {_sklearn_version()} SGDClassifier(log_loss): "
        "sentiment L2 averaged, causes L1",
    }
    if skipped_reason:
        training["causes_skipped"] = skipped_reason
    coefficients = sentiment_model.coef_[:, :-1]
    intercepts = sentiment_model.intercept_ + sentiment_model.coef_[:, -1]
    document: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "taxonomy": {
            "name": taxonomy.name,
            "release": taxonomy.release,
            "hash": taxonomy.content_hash,
        },
        "training": training,
        "features": features,
        "scaling": SCALING,
        "sentiment": {
            "classes": list(SENTIMENT_CLASSES),
            "counts": dict(sentiment_counts),
            "min_per_class": settings.min_per_class,
            "label_mapping": LABEL_MAPPING,
            "blend_weight": DEFAULT_BLEND_WEIGHT,  # until choose_blend_weight chooses
            "intercepts": [_rounded(b, 6) for b in intercepts],
            "weights": [
                [_rounded(w, WEIGHT_DECIMALS) for w in row.tolist()] for row in coefficients
            ],
        },
    }
    if cause_classes:
        weights = {}
        for cause, model in zip(cause_classes, cause_models, strict=True):
            row = model.coef_[0, :-1]
            kept = np.flatnonzero(np.abs(row) >= CAUSE_WEIGHT_FLOOR)
            weights[cause] = [[int(i), _rounded(row[i], WEIGHT_DECIMALS)] for i in kept]
        document["causes"] = {
            "classes": cause_classes,
            "counts": {cause: all_cause_counts[cause] for cause in cause_classes},
            "min_per_class": settings.min_per_cause,
            "label_confidence": settings.label_confidence,
            "threshold": settings.threshold,
            "intercepts": [
                _rounded(model.intercept_[0] + model.coef_[0, -1], 6) for model in cause_models
            ],
            "weights": weights,
        }
    document["version"] = content_version(document)
    return document


def _rounded(value: float, decimals: int) -> float:
    rounded = round(float(value), decimals)
    return 0.0 if rounded == 0 else rounded


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__
