"""How well voc's sentiment scorer agrees with people's labels: ``voc eval sentiment``.

Every run scores the same texts with plain NLTK VADER (the baseline voc extends), with
voc's rules (VADER plus the support-language lexicon), and, when a learned model is
given or learned from a history export, with voc's rules plus that model. Figures per
scorer: accuracy, macro-F1 over the gold classes (a class nobody labelled does not
count, a class never predicted counts with F1 0), per-class precision / recall / F1 /
support, the confusion matrix (gold x predicted), and the same accuracy and macro-F1
per ``kind`` (survey, agent_note, chat, ...) when the data has one.

Data: a JSONL/CSV/TSV file with ``text`` and ``label`` columns (and optionally
``kind``), read with :mod:`voc.pipelines.ops.text_files`, or a directory of
``*_labelled.txt`` files ("sentence<TAB>0|1", one file per source, e.g. the UCI
"Sentiment Labelled Sentences" set; the source name stands in for ``kind``).

Labels, case-insensitive: negative / neutral / positive, neg / neu / pos, or numbers.
Numbers are -1 / 0 / 1, except in a file labelled only with 0 and 1, which is a binary
sentence set as in the ``*_labelled.txt`` files (0 negative, 1 positive). Anything else
is an error naming file and line: a skipped row would change the figures unseen.

Mode: when the gold labels are exactly negative and positive the set is **binary**, and a
prediction is positive when compound > 0, anything else negative. A text with no
sentiment-bearing words scores exactly 0 (about a fifth of such sentence sets); counting
those as negative is the convention behind the commonly quoted VADER figures, so the
numbers stay comparable. Otherwise the set is **3-class** and a prediction is the
scorer's own label (VADER's +-0.05 neutral band for the baseline). In both modes
"unscored" (a language the scorer does not read) is a prediction of its own: it is
always wrong and has its own column in the confusion matrix.

This measures quality only; scoring speed belongs to ``make bench``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voc.pipelines.ops.cause_evaluation import precision_recall_f1
from voc.pipelines.ops.text_files import TextFileError, read_rows
from voc.transforms.records import SENTIMENT_LABELS
from voc.transforms.score_sentiment import label_for_compound, plain_vader_score, score_sentiment

__all__ = [
    "BINARY",
    "CLASSES",
    "LABELLED_SUFFIX",
    "THREE_CLASS",
    "UNSCORED",
    "LabelledSentiment",
    "confusion_matrix",
    "detect_mode",
    "evaluate_sentiment",
    "figures",
    "format_report",
    "parse_label",
    "predict",
    "read_sentiment_data",
]

CLASSES = SENTIMENT_LABELS
BINARY_CLASSES = ("negative", "positive")
UNSCORED = "unscored"
BINARY = "binary"
THREE_CLASS = "3-class"
LABELLED_SUFFIX = "_labelled.txt"
NO_KIND = "(no kind)"

# Report keys and the names the plain-text report shows, in column order.
SCORER_NAMES = {"baseline": "plain VADER", "voc": "voc", "model": "voc+model"}

_NAMED_LABELS = {
    "negative": "negative",
    "neg": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "positive": "positive",
    "pos": "positive",
}
_THREE_WAY_NUMBERS = {"-1": "negative", "0": "neutral", "1": "positive"}
_BINARY_NUMBERS = {"0": "negative", "1": "positive"}


@dataclass(frozen=True)
class LabelledSentiment:
    text: str
    label: str  # one of CLASSES
    kind: str = ""  # survey, agent_note, chat, ... or the sentence set's source; "" unknown
    where: str = ""  # file:line, to find the text again


# ----------------------------------------------------------------------------- reading


def parse_label(value: Any, where: str, *, binary_numbers: bool = False) -> str:
    """A gold label as one of CLASSES; anything else raises naming ``where``.

    ``binary_numbers``: 0 / 1 mean negative / positive (the sentence sets) instead of
    -1 / 0 / 1 meaning negative / neutral / positive.
    """
    numbers = _BINARY_NUMBERS if binary_numbers else _THREE_WAY_NUMBERS
    allowed = "negative, neutral, positive (neg/neu/pos, " + "/".join(numbers) + ")"
    if value is None:
        raise TextFileError(f"{where}: no label; expected {allowed}")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TextFileError(f"{where}: label {value!r} is not {allowed}")
    key = str(value).strip().lower()
    label = _NAMED_LABELS.get(key) or numbers.get(key)
    if label is None:
        raise TextFileError(f"{where}: label {value!r} is not {allowed}")
    return label


def read_sentiment_data(path: str | Path) -> list[LabelledSentiment]:
    """Labelled texts from a JSONL/CSV/TSV file or a directory of ``*_labelled.txt``."""
    path = Path(path)
    if path.is_dir():
        return read_labelled_dir(path)
    return read_labelled_file(path)


def read_labelled_file(path: str | Path) -> list[LabelledSentiment]:
    """A JSONL/CSV/TSV file with ``text`` and ``label`` (and optionally ``kind``)."""
    raw: list[tuple[str, Any, str, str]] = []
    for row in read_rows(path):
        where = f"{path}:{row['_line']}"
        raw.append((row["text"], row.get("label"), _kind_of(row.get("kind")), where))
    # A file of nothing but 0 and 1 is a binary sentence set, not neutral and positive.
    binary_numbers = bool(raw) and all(
        isinstance(label, str | int)
        and not isinstance(label, bool)
        and str(label).strip() in _BINARY_NUMBERS
        for _, label, _, _ in raw
    )
    return [
        LabelledSentiment(
            text, parse_label(label, where, binary_numbers=binary_numbers), kind, where
        )
        for text, label, kind, where in raw
    ]


def read_labelled_dir(data_dir: str | Path) -> list[LabelledSentiment]:
    """Every ``*_labelled.txt`` file in ``data_dir``; the source ("yelp") is the kind."""
    files = sorted(Path(data_dir).glob(f"*{LABELLED_SUFFIX}"))
    if not files:
        raise TextFileError(f"{data_dir}: no *{LABELLED_SUFFIX} files")
    examples: list[LabelledSentiment] = []
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as error:
            raise TextFileError(f"{path}: not valid UTF-8 ({error.reason})") from None
        except OSError as error:
            raise TextFileError(f"{path}: {error.strerror or error}") from None
        source = path.name.removesuffix(LABELLED_SUFFIX)
        examples += parse_labelled_lines(lines, str(path), source)
    return examples


def parse_labelled_lines(
    lines: Iterable[str], name: str, kind: str = ""
) -> list[LabelledSentiment]:
    """``sentence<TAB>label`` lines; blank lines are skipped.

    The label is taken after the last tab because sentences may contain tabs.
    """
    examples = []
    for number, line in enumerate(lines, start=1):
        stripped = line.rstrip("\r\n")
        if not stripped.strip():
            continue
        where = f"{name}:{number}"
        sentence, tab, label = stripped.rpartition("\t")
        if not tab:
            raise TextFileError(f"{where}: expected 'sentence<TAB>label', got {line!r}")
        examples.append(
            LabelledSentiment(
                sentence.strip(), parse_label(label, where, binary_numbers=True), kind, where
            )
        )
    return examples


def _kind_of(value: Any) -> str:
    return "" if value is None else str(value).strip()


# ----------------------------------------------------------------------------- figures


def detect_mode(labels: Iterable[str]) -> tuple[str, tuple[str, ...]]:
    """Binary when the gold labels are exactly negative and positive, else 3-class."""
    if set(labels) == set(BINARY_CLASSES):
        return BINARY, BINARY_CLASSES
    return THREE_CLASS, CLASSES


def predict(compound: float, label: str, mode: str) -> str:
    """A scorer's prediction: its label (3-class) or compound > 0 (binary); "unscored"
    stays "unscored" in both."""
    if label == UNSCORED:
        return UNSCORED
    if mode == BINARY:
        return "positive" if compound > 0 else "negative"
    return label


def confusion_matrix(
    gold: Sequence[str], predicted: Sequence[str], classes: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Counts per gold class (rows) and prediction (columns: the classes, "unscored",
    then anything else a scorer said)."""
    others = sorted(set(predicted) - set(classes) - {UNSCORED})
    columns = [*classes, UNSCORED, *others]
    matrix = {cls: dict.fromkeys(columns, 0) for cls in classes}
    for expected, got in zip(gold, predicted, strict=True):
        if expected not in matrix:
            raise ValueError(f"gold label {expected!r} is not one of {', '.join(classes)}")
        matrix[expected][got] += 1
    return matrix


def figures(confusion: dict[str, dict[str, int]], classes: Sequence[str]) -> dict[str, Any]:
    """n, accuracy, macro-F1 and per-class figures from a confusion matrix.

    A class never predicted has precision 0, not "undefined"; a class with no gold
    examples has recall 0 and is left out of macro-F1 (the average over gold classes).
    """
    n = sum(sum(row.values()) for row in confusion.values())
    correct = sum(confusion[cls].get(cls, 0) for cls in classes)
    per_class: dict[str, dict[str, float | int]] = {}
    gold_f1: list[float] = []
    for cls in classes:
        true_positive = confusion[cls].get(cls, 0)
        support = sum(confusion[cls].values())
        predicted = sum(row.get(cls, 0) for row in confusion.values())
        precision, recall, f1 = precision_recall_f1(
            true_positive, predicted - true_positive, support - true_positive
        )
        per_class[cls] = {
            "precision": _round(precision),
            "recall": _round(recall),
            "f1": _round(f1),
            "support": support,
        }
        if support:
            gold_f1.append(f1)
    return {
        "n": n,
        "accuracy": _round(correct / n) if n else 0.0,
        "macro_f1": _round(sum(gold_f1) / len(gold_f1)) if gold_f1 else 0.0,
        "per_class": per_class,
        "confusion": confusion,
    }


def scorer_figures(
    gold: Sequence[str], predicted: Sequence[str], kinds: Sequence[str], classes: Sequence[str]
) -> dict[str, Any]:
    """:func:`figures` for one scorer, plus accuracy and macro-F1 per kind."""
    result = figures(confusion_matrix(gold, predicted, classes), classes)
    by_kind: dict[str, dict[str, Any]] = {}
    if any(kinds):
        groups: dict[str, list[int]] = {}
        for index, kind in enumerate(kinds):
            groups.setdefault(kind or NO_KIND, []).append(index)
        for kind in sorted(groups):
            rows = groups[kind]
            part = figures(
                confusion_matrix([gold[i] for i in rows], [predicted[i] for i in rows], classes),
                classes,
            )
            by_kind[kind] = {key: part[key] for key in ("n", "accuracy", "macro_f1")}
    result["by_kind"] = by_kind
    return result


Scorer = Callable[[str], tuple[float, str]]


def _baseline(text: str) -> tuple[float, str]:
    compound = plain_vader_score(text)
    return compound, label_for_compound(compound)


def _rules(text: str) -> tuple[float, str]:
    score = score_sentiment(text)
    return score.compound, score.label


def evaluate_sentiment(examples: Sequence[LabelledSentiment], model: Any = None) -> dict[str, Any]:
    """Figures of voc's rules (top level), plain VADER (``baseline``) and, with a
    learned ``model`` (``voc.transforms.learned_model.LearnedModel``), rules+model
    (``model``), all on the same texts.

    Shape::

        {"classes": [...], "mode": "binary" | "3-class",
         "n", "accuracy", "macro_f1", "per_class", "confusion", "by_kind",   # voc
         "baseline": {same figures}, "model": {same figures, "model_version"}}
    """
    if not examples:
        raise ValueError("no texts to evaluate")
    gold = [example.label for example in examples]
    kinds = [example.kind for example in examples]
    mode, classes = detect_mode(gold)

    def run(scorer: Scorer) -> dict[str, Any]:
        predicted = [predict(*scorer(example.text), mode) for example in examples]
        return scorer_figures(gold, predicted, kinds, classes)

    report: dict[str, Any] = {"classes": list(classes), "mode": mode}
    report.update(run(_rules))
    report["baseline"] = run(_baseline)
    if model is not None:

        def with_model(text: str) -> tuple[float, str]:
            score = score_sentiment(text, model=model)
            return score.compound, score.label

        report["model"] = run(with_model)
        report["model"]["model_version"] = model.version
    return report


# ----------------------------------------------------------------------------- report


def format_report(report: dict[str, Any]) -> str:
    """The plain-text report: the scorers side by side, then per class and confusions."""
    scorers = [(SCORER_NAMES["baseline"], report["baseline"]), (SCORER_NAMES["voc"], report)]
    if "model" in report:
        scorers.append((SCORER_NAMES["model"], report["model"]))
    classes = report["classes"]
    lines = [
        f"mode    {report['mode']} ({', '.join(classes)})",
        f"texts   {report['n']}",
    ]
    if "model" in report:
        lines.append(f"model   {report['model'].get('model_version') or '-'}")
    if report["mode"] == BINARY:
        lines += [
            "binary: compound > 0 counts as positive, anything else as negative. A text with",
            "no sentiment-bearing words scores exactly 0; counting those as negative is the",
            "convention behind the commonly quoted VADER figures, so the numbers compare.",
        ]
    else:
        lines.append(
            "3-class: each scorer's own label (plain VADER: neutral when |compound| < 0.05)."
        )
    lines += ["'unscored' (a language the scorer does not read) always counts as wrong.", ""]

    rows = [
        ["accuracy", *(f"{figs['accuracy']:.3f}" for _, figs in scorers)],
        ["macro-F1", *(f"{figs['macro_f1']:.3f}" for _, figs in scorers)],
    ]
    for kind, kind_figures in report["by_kind"].items():
        label = f"{kind} ({kind_figures['n']})"
        for key, name in (("accuracy", "accuracy"), ("macro_f1", "macro-F1")):
            rows.append(
                [f"{label} {name}", *(f"{figs['by_kind'][kind][key]:.3f}" for _, figs in scorers)]
            )
    lines += _table(["", *(name for name, _ in scorers)], rows)

    rows = []
    for name, figs in scorers:
        for index, cls in enumerate(classes):
            per = figs["per_class"][cls]
            rows.append(
                [
                    name if index == 0 else "",
                    cls,
                    f"{per['precision']:.3f}",
                    f"{per['recall']:.3f}",
                    f"{per['f1']:.3f}",
                    str(per["support"]),
                ]
            )
    lines += ["", "per class"]
    lines += _table(["scorer", "class", "precision", "recall", "F1", "support"], rows, left=2)

    columns: list[str] = []
    for _, figs in scorers:
        for row in figs["confusion"].values():
            columns += [column for column in row if column not in columns]
    rows = []
    for name, figs in scorers:
        for index, cls in enumerate(classes):
            counts = figs["confusion"][cls]
            rows.append(
                [name if index == 0 else "", cls, *(str(counts.get(c, 0)) for c in columns)]
            )
    lines += ["", "confusion (rows: gold label, columns: predicted)"]
    lines += _table(["scorer", "gold", *columns], rows, left=2)
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    """Rows padded to one width: the first ``left`` columns left-aligned, the rest right."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if index < left else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    return [render(header), "  ".join("-" * width for width in widths)] + [
        render(row) for row in rows
    ]


def _round(value: float) -> float:
    return round(value, 4)
