"""``voc learn``: train the sentiment and cause models from the stream's own labels.

Every survey carries a score next to its comment (CSAT, NPS, CES) and every rule tag
a confidence. Those are labels no lexicon has, and this module learns two small
linear models from them over :func:`voc.transforms.text_features.features_of`,
written as a JSON model file (:mod:`voc.transforms.learned_model`, which also scores
with it, in pure Python).

**Why scikit-learn's SGDClassifier (log loss) and not NLTK's classifiers.** Training
must handle a million texts in minutes on two cores, in bounded memory.
``SGDClassifier(loss="log_loss").partial_fit`` learns logistic regression one chunk
of rows at a time from scipy sparse matrices, in compiled code: memory is one chunk
plus the weights, and an epoch over 1M texts takes seconds. NLTK's NaiveBayes and
MaxEnt are pure Python, hold every feature set in memory, and MaxEnt's iterative
scaling is far slower; Naive Bayes's probabilities are also badly calibrated, and
the cause model needs a probability it can hold to a threshold. scikit-learn is used
for training only: the model file holds plain weights, and scoring is dict lookups.

**Sentiment labels** (stored in the file as ``label_mapping``), from the survey
answering the comment:

- CSAT 1-2 negative, 3 neutral, 4-5 positive;
- NPS 0-6 negative (detractor), 7-8 neutral (passive), 9-10 positive (promoter);
- CES 1-3 positive (easy), 4 neutral, 5-7 negative (effort);
- several scores: CSAT wins, then NPS, then CES. CSAT rates this very contact, which
  the comment is about; NPS rates the relationship and CES the effort, one step
  further from what the comment says;
- a history record's own ``label`` (negative / neutral / positive) wins over scores.

Classes are weighted to balance (scikit-learn's "balanced" weights, counted before
training): a survey population's mix of moods is not what a text says, and the
model also scores agent notes, whose mix is another. Every tenth scored comment (at
most 5,000) is held back from sentiment training to choose the model's
``blend_weight``, how much the tagger mixes it into the lexicon's sentiment
(:func:`voc.pipelines.ops.blend_weight.choose_blend_weight`).

**Cause labels** are weak: the rule tags of :mod:`voc.transforms.match_root_causes`.
A cause is a positive example for a text when the rules that fired *on its words*
reach :data:`CAUSE_LABEL_CONFIDENCE` (0.8) together - combined as the tag's own
confidence is, 1 - the product of (1 - each), over the rules with a span in the
text. That is ``feedback_tags.confidence`` whenever no numeric signal fired: a note's
hold time or transfer count is not in its words, so a signal rule teaches the text
model nothing. 0.8 admits every phrase (0.9), near (0.8) and number (0.8) rule at its
default, and leaves out the regex escape hatch (0.75) and rules whose authors
lowered their confidence. One binary model per cause with at least ``min_per_cause``
(20) positive texts, and one for ``none``: texts whose only tag is ``unclassified``
(no rule fired) are its positives, so the model can answer "no cause" instead of
forcing one. A tag below the confidence, a signal-only tag, or a cause the training
taxonomy does not have, is neither positive nor negative for that cause (nor for
``none``): the text may say it, or not.

**Bounded memory, two passes.** Pass 1 reads the texts in chunks of
:data:`CHUNK_ROWS` (DuckDB streams its result as Arrow batches; a history iterable
is read once), tokenizes them with the taxonomy's vocabulary, counts each feature's
texts, and spools the chunk as integer arrays to a temporary directory (about 200
bytes a text on disk). The counting table holds at most
:data:`MAX_CANDIDATE_FEATURES` (2M) distinct features: past that, the rarest so far
(in one text, then two, ...) are forgotten until it is three quarters full (lossy
counting: a feature that turns frequent later is counted from then on). The
vocabulary is then the :data:`DEFAULT_MAX_FEATURES` (50,000) features found in the
most texts, each in at least ``min_count`` (2). Pass 2 runs the epochs over the
spooled chunks, chunks and their rows in a new random order each epoch
(ceil(10^6 / examples) epochs, 3 to 20). Memory in Python is therefore one chunk of
texts and their features, the counting table (~250 MB at its bound; a few MB for
feedback's usual vocabulary), the held-back comments (at most 5,000) and the
weights; DuckDB is held to :data:`DUCKDB_MEMORY_LIMIT` (its join spills to disk past
that) and its connection is closed before training starts.

Measured on the 2-core machine (2026-12-02), 1,000,000 generated survey comments
(948,908 non-empty) with their rule tags in a DuckDB file: 2 min 8 s end to end
(73 s reading and tokenizing, 49 s for 3 epochs, 6 s choosing the blend weight),
peak RSS 619 MB. One Python process does the work (105% CPU: DuckDB's threads add
the rest while it reads).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from voc.pipelines.ops.fit_model import (
    CAUSE_LABEL_CONFIDENCE,
    CHUNK_ROWS,
    DEFAULT_MAX_FEATURES,
    DUCKDB_MEMORY_LIMIT,
    LABEL_MAPPING,
    SCORE_PRIORITY,
    SCORES,
    LearnError,
    LearnSettings,
    TrainingExample,
    learn_examples,
)
from voc.pipelines.ops.text_files import TextFileError, read_rows
from voc.transforms.learned_model import (
    SENTIMENT_CLASSES,
    LearnedModel,
)
from voc.transforms.taxonomy import UNCLASSIFIED, Taxonomy, load_taxonomy_reference

__all__ = [
    "CAUSE_LABEL_CONFIDENCE",
    "DEFAULT_MAX_FEATURES",
    "LABEL_MAPPING",
    "LearnError",
    "LearnSettings",
    "learn_from_duckdb",
    "learn_from_history",
    "read_history",
    "save_model",
    "sentiment_label",
    "text_confidence",
]


_SENTIMENT_INDEX = {label: index for index, label in enumerate(SENTIMENT_CLASSES)}
HISTORY_SCORES = ("csat", "nps", "ces")
_WHOLE_NUMBER = re.compile(r"[+-]?\d+")


def sentiment_label(
    csat: int | None = None, nps: int | None = None, ces: int | None = None
) -> str | None:
    """The label a survey's scores give its comment (see the module docstring), or
    None when it has no score. A score outside its scale raises LearnError."""
    for name, value in zip(SCORE_PRIORITY, (csat, nps, ces), strict=True):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise LearnError(f"{name} {value!r} is not a whole number")
        for label, values in SCORES[name]:
            if value in values:
                return label
        low = min(values.start for _, values in SCORES[name])
        high = max(values.stop - 1 for _, values in SCORES[name])
        raise LearnError(f"{name} {value} is outside its scale {low}-{high}")
    return None


def text_confidence(spans: Iterable[Mapping[str, Any]] | Iterable[Any]) -> float:
    """The combined confidence of the rules that fired on a text's words (a span at
    or after 0), as the tagger combines them; numeric signals (start -1) left out."""
    remaining = 1.0
    for span in spans:
        if isinstance(span, Mapping):
            start, confidence = span.get("start", -1), span.get("confidence", 0.0)
        else:
            start, confidence = span.start, span.confidence
        if isinstance(start, int) and start >= 0 and isinstance(confidence, int | float):
            remaining *= 1.0 - min(max(float(confidence), 0.0), 1.0)
    return min(0.99, 1.0 - remaining)


# ----------------------------------------------------------------- sources


def training_taxonomy(reference: str | None) -> Taxonomy:
    """The taxonomy a model is trained with: a path, ``pack:NAME`` or None (the
    generic pack), compiled exactly as ``tag_feedback.shared_taxonomy`` compiles it
    for the pipeline (the same function, without importing Beam), so training and
    scoring tokenize alike; the model file records its release and content hash."""
    return load_taxonomy_reference(reference)


# Every text with its rule tags; an event with only "unclassified" has an empty list
# (tagged, no cause), an event never tagged a NULL one. Read in table order: the
# chunks are shuffled for training, so no sort (which would hold every row) is needed.
_TEXTS_SQL = """
with tags as (
    select event_id,
           coalesce(
               list({'cause': cause_id, 'confidence': confidence, 'spans': evidence_spans})
                   filter (where cause_id <> 'unclassified'),
               []
           ) as tags
    from feedback_tags
    group by event_id
)
select text, csat, nps, ces, tags
from (
    select s.event_id, s.comment as text, s.csat, s.nps, s.ces
    from surveys as s
    union all
    select n.event_id, n.note, null, null, null
    from agent_notes as n
) as texts
left join tags using (event_id)
where length(trim(text)) > 0
"""


def learn_from_duckdb(
    path: str | Path,
    taxonomy_reference: str | None = None,
    settings: LearnSettings | None = None,
    log: Callable[[str], None] | None = None,
) -> LearnedModel:
    """Train on a DuckDB file the pipeline wrote (``surveys``, ``agent_notes``,
    ``feedback_tags``), read in Arrow batches of :data:`CHUNK_ROWS` rows; Python never
    holds more than one batch of its rows (see the module docstring)."""
    import duckdb

    from voc.transforms.error_text import first_line

    path = Path(path)
    if not path.is_file():
        raise LearnError(f"{path}: no such file")
    taxonomy = training_taxonomy(taxonomy_reference)
    settings = settings or LearnSettings()
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise LearnError(f"{path}: {first_line(error)}") from None
    try:
        con.execute(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        missing = _missing_tables(con)
        if missing:
            raise LearnError(f"{path}: not a voc DuckDB file (no table {', '.join(missing)})")
        known = frozenset(taxonomy.cause_ids)

        def examples() -> Iterator[TrainingExample]:
            # the connection closes as soon as the texts are read: DuckDB's buffers
            # (up to DUCKDB_MEMORY_LIMIT) are not kept through training
            try:
                reader = con.sql(_TEXTS_SQL).to_arrow_reader(batch_size=CHUNK_ROWS)
                for batch in reader:
                    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
                    for text, csat, nps, ces, tags in zip(*columns, strict=True):
                        label = sentiment_label(csat, nps, ces)
                        confident, uncertain = _weak_labels_from_tags(tags, known, settings)
                        yield TrainingExample(
                            text,
                            _SENTIMENT_INDEX[label] if label else -1,
                            confident,
                            uncertain,
                        )
            except duckdb.Error as error:
                raise LearnError(f"{path}: {first_line(error)}") from None
            except LearnError as error:
                raise LearnError(f"{path}: {error}") from None
            finally:
                con.close()

        return learn_examples(examples(), taxonomy, settings, f"duckdb {path.name}", log)
    finally:
        con.close()


def _missing_tables(con) -> list[str]:
    rows = con.execute("select table_name from information_schema.tables").fetchall()
    names = {row[0] for row in rows}
    return [name for name in ("surveys", "agent_notes", "feedback_tags") if name not in names]


def _weak_labels_from_tags(
    tags: Sequence[Mapping[str, Any]] | None, known: frozenset[str], settings: LearnSettings
) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    if tags is None:
        return None, ()  # never tagged: nothing to learn about its causes
    confident: list[str] = []
    uncertain: list[str] = []
    for tag in tags:
        cause = tag["cause"]
        if cause == UNCLASSIFIED:
            continue
        if cause not in known or tag["confidence"] is None or not tag["spans"]:
            uncertain.append(cause)  # another taxonomy's cause, or a tag from before 007
            continue
        try:
            spans = json.loads(tag["spans"])
        except ValueError:
            uncertain.append(cause)
            continue
        if text_confidence(spans) >= settings.label_confidence:
            confident.append(cause)
        else:
            uncertain.append(cause)
    return tuple(confident), tuple(uncertain)


def learn_from_history(
    records: Iterable[Mapping[str, Any]],
    taxonomy_reference: str | None = None,
    settings: LearnSettings | None = None,
    log: Callable[[str], None] | None = None,
) -> LearnedModel:
    """Train on records ``{"text": ..., "csat"|"nps"|"ces"|"label": ...}`` (a JSONL
    history export, or a simulated history), read once, in order.

    The texts are redacted first (as the pipeline stores them, so no personal data
    can become a feature in the file), and the taxonomy's rules tag each one for the
    cause model, as the pipeline would have. A record without a usable text is
    skipped; a score or label that is not one of its scale's values raises
    LearnError naming the record (1-based).
    """
    taxonomy = training_taxonomy(taxonomy_reference)
    settings = settings or LearnSettings()
    return learn_examples(
        _history_examples(records, taxonomy, settings), taxonomy, settings, "history", log
    )


def _history_examples(
    records: Iterable[Mapping[str, Any]], taxonomy: Taxonomy, settings: LearnSettings
) -> Iterator[TrainingExample]:
    from voc.transforms.match_root_causes import match_root_causes
    from voc.transforms.normalize_text import strip_invisible_controls
    from voc.transforms.redact_pii import redact_counts

    known = frozenset(taxonomy.cause_ids)
    for number, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            raise LearnError(f"record {number}: expected an object with a 'text'")
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        try:
            label = _record_label(record)
        except LearnError as error:
            where = record.get("_where") or f"record {number}"
            raise LearnError(f"{where}: {error}") from None
        redacted, _ = redact_counts(strip_invisible_controls(text))
        confident: list[str] = []
        uncertain: list[str] = []
        for match in match_root_causes(redacted, taxonomy):
            if match.cause_id == UNCLASSIFIED:
                continue
            if match.cause_id in known and (
                text_confidence(match.spans) >= settings.label_confidence
            ):
                confident.append(match.cause_id)
            else:
                uncertain.append(match.cause_id)
        yield TrainingExample(
            redacted,
            _SENTIMENT_INDEX[label] if label else -1,
            tuple(confident),
            tuple(uncertain),
        )


def read_history(path: str | Path) -> Iterator[dict[str, Any]]:
    """The records of a history export (JSONL, CSV or TSV with a ``text`` column and
    any of ``csat``, ``nps``, ``ces``, ``label``), read lazily. Empty cells are left
    out and whole-number cells of a CSV become numbers, so every format gives the
    same records; each gets ``_where`` ("FILE:LINE") for errors. A file that cannot
    be read as texts raises LearnError naming the line."""
    try:
        for row in read_rows(path):
            record: dict[str, Any] = {"text": row["text"], "_where": f"{path}:{row['_line']}"}
            for name in (*HISTORY_SCORES, "label"):
                value = row.get(name)
                if isinstance(value, str):
                    value = value.strip()
                    if name != "label" and _WHOLE_NUMBER.fullmatch(value):
                        value = int(value)
                if value is None or value == "":
                    continue
                record[name] = value
            yield record
    except TextFileError as error:
        raise LearnError(str(error)) from None


def _record_label(record: Mapping[str, Any]) -> str | None:
    label = record.get("label")
    if label is not None:
        if not isinstance(label, str) or label.strip().lower() not in _SENTIMENT_INDEX:
            raise LearnError(f"label {label!r} is not one of {', '.join(SENTIMENT_CLASSES)}")
        return label.strip().lower()
    return sentiment_label(record.get("csat"), record.get("nps"), record.get("ces"))


# ---------------------------------------------------------------- training


def save_model(model: LearnedModel, path: str | Path) -> Path:
    """Write the model as JSON (gzip when the name ends .gz), atomically: a reader
    sees the old file or the new one, never half of one."""
    import gzip
    import os

    path = Path(path)
    data = model.to_json().encode("utf-8")
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return path
