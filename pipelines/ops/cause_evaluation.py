"""How well a taxonomy finds the causes people assigned: ``voc eval causes``.

Multi-label figures over a labelled file: coverage (texts that have a cause and
got one), precision, recall and F1 per cause, micro (every decision counts once)
and macro (every cause counts once, so a rare cause matters as much as a common
one). A cause never predicted has precision 0, not "undefined": a report that
skipped it would look better than the taxonomy is.

Labels may name sub-causes; they count for their parent, because the parent is what
routes the work. Labels the taxonomy does not know are counted as misses and named,
so a label typo cannot quietly raise the figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from voc.pipelines.ops.text_files import labels_of, read_rows
from voc.transforms.match_root_causes import match_root_causes
from voc.transforms.taxonomy import UNCLASSIFIED, Taxonomy

__all__ = [
    "CauseReport",
    "LabelledText",
    "evaluate_causes",
    "format_report",
    "precision_recall_f1",
    "read_labelled",
]

MISSED_SHOWN = 10


@dataclass(frozen=True)
class LabelledText:
    text: str
    labels: frozenset[str]
    where: str = ""  # file:line, to find the text again


@dataclass
class CauseReport:
    taxonomy: str
    texts: int
    with_cause: int
    covered: int
    true_positive: Counter = field(default_factory=Counter)
    false_positive: Counter = field(default_factory=Counter)
    false_negative: Counter = field(default_factory=Counter)
    confusion: dict[str, Counter] = field(default_factory=dict)
    missed: list[dict[str, Any]] = field(default_factory=list)
    unknown_labels: Counter = field(default_factory=Counter)

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.true_positive) | set(self.false_positive) | set(self.false_negative))

    def per_class(self) -> dict[str, dict[str, float | int]]:
        result = {}
        for cause in self.classes:
            tp = self.true_positive[cause]
            fp = self.false_positive[cause]
            fn = self.false_negative[cause]
            precision, recall, f1 = _prf(tp, fp, fn)
            result[cause] = {
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "support": tp + fn,
                "predicted": tp + fp,
            }
        return result

    def to_dict(self) -> dict[str, Any]:
        classes = self.per_class()
        # every cause that was labelled or predicted: a cause found only where nobody
        # labelled it has precision 0 and counts, as in any honest macro average
        scored = list(classes.values())
        micro = _prf(
            sum(self.true_positive.values()),
            sum(self.false_positive.values()),
            sum(self.false_negative.values()),
        )
        return {
            "taxonomy": self.taxonomy,
            "texts": self.texts,
            "texts_with_cause": self.with_cause,
            "coverage": _ratio(self.covered, self.with_cause),
            "macro_precision": _mean(f["precision"] for f in scored),
            "macro_recall": _mean(f["recall"] for f in scored),
            "macro_f1": _mean(f["f1"] for f in scored),
            "micro_precision": micro[0],
            "micro_recall": micro[1],
            "micro_f1": micro[2],
            "per_class": classes,
            "confusion": {
                gold: dict(sorted(predicted.items())) for gold, predicted in self.confusion.items()
            },
            "missed": self.missed[:MISSED_SHOWN],
            "unknown_labels": dict(self.unknown_labels),
        }


def read_labelled(path: str) -> Iterator[LabelledText]:
    """Labelled texts from a JSONL/CSV/TSV file (voc.pipelines.ops.text_files)."""
    for row in read_rows(path):
        where = f"{path}:{row['_line']}"
        yield LabelledText(row["text"], frozenset(labels_of(row, where)), where)


def evaluate_causes(rows: Iterable[LabelledText], taxonomy: Taxonomy) -> CauseReport:
    report = CauseReport(taxonomy.label, 0, 0, 0)
    missed_counts: list[tuple[int, dict[str, Any]]] = []
    for row in rows:
        report.texts += 1
        gold = set()
        for label in row.labels:
            top = _top(label, taxonomy)
            if top is None:
                report.unknown_labels[label] += 1
                gold.add(label)
            else:
                gold.add(top)
        predicted = {
            match.cause_id
            for match in match_root_causes(row.text, taxonomy)
            if match.cause_id != UNCLASSIFIED
        }
        if gold:
            report.with_cause += 1
            report.covered += bool(predicted)
        for cause in gold & predicted:
            report.true_positive[cause] += 1
        for cause in predicted - gold:
            report.false_positive[cause] += 1
        for cause in gold - predicted:
            report.false_negative[cause] += 1
            instead = predicted - gold or ({UNCLASSIFIED} if not predicted else set())
            for other in instead:  # nothing when only the text's other causes were found
                report.confusion.setdefault(cause, Counter())[other] += 1
        wrong = (gold - predicted) | (predicted - gold)
        if wrong:
            missed_counts.append(
                (
                    len(wrong),
                    {
                        "text": row.text,
                        "where": row.where,
                        "labels": sorted(gold),
                        "predicted": sorted(predicted) or [UNCLASSIFIED],
                    },
                )
            )
    missed_counts.sort(key=lambda item: -item[0])
    report.missed = [item for _, item in missed_counts]
    return report


def format_report(report: dict[str, Any]) -> str:
    """The human-readable report: figures, then per cause, confusions and misses."""
    lines = [
        f"taxonomy   {report['taxonomy']}",
        f"texts      {report['texts']} ({report['texts_with_cause']} with a cause)",
        f"coverage   {report['coverage']:.3f}",
        f"macro      precision {report['macro_precision']:.3f}  recall "
        f"{report['macro_recall']:.3f}  F1 {report['macro_f1']:.3f}",
        f"micro      precision {report['micro_precision']:.3f}  recall "
        f"{report['micro_recall']:.3f}  F1 {report['micro_f1']:.3f}",
        "",
        f"{'cause':<24} {'prec':>6} {'recall':>6} {'F1':>6} {'support':>8} {'predicted':>9}",
    ]
    for cause, figures in report["per_class"].items():
        lines.append(
            f"{cause:<24} {figures['precision']:>6.2f} {figures['recall']:>6.2f} "
            f"{figures['f1']:>6.2f} {figures['support']:>8} {figures['predicted']:>9}"
        )
    if report["unknown_labels"]:
        unknown = ", ".join(f"{k} ({v})" for k, v in sorted(report["unknown_labels"].items()))
        lines += ["", f"labels not in the taxonomy (counted as misses): {unknown}"]
    if report["confusion"]:
        lines += ["", "missed causes, and what was found instead:"]
        for gold, predicted in sorted(report["confusion"].items()):
            found = ", ".join(f"{k} {v}" for k, v in sorted(predicted.items(), key=lambda i: -i[1]))
            lines.append(f"  {gold:<22} -> {found}")
    if report["missed"]:
        lines += ["", "texts most often wrong:"]
        for item in report["missed"]:
            lines.append(
                f"  [{', '.join(item['labels']) or '-'}] got [{', '.join(item['predicted'])}] "
                f"{item['where']}: {item['text'][:140]}"
            )
    return "\n".join(lines)


def _top(label: str, taxonomy: Taxonomy) -> str | None:
    try:
        return taxonomy.cause(label).top
    except KeyError:
        return None


def precision_recall_f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Unrounded; nothing predicted is precision 0 and nothing labelled recall 0, not
    "undefined". ``voc eval sentiment`` scores its classes with it too."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision, recall, f1 = precision_recall_f1(tp, fp, fn)
    return round(precision, 4), round(recall, 4), round(f1, 4)


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0
