"""Offline evaluation of voc's sentiment scorer against plain NLTK VADER.

The point is a guard rail, not a leaderboard: voc's domain lexicon is tuned for
customer-support language, and this report shows it does not make general-language
accuracy worse than the baseline it extends. It reads labelled-sentence files in the
"sentence<TAB>label" format (label 1 = positive, 0 = negative, one file per source,
named ``*_labelled.txt``), e.g. the UCI "Sentiment Labelled Sentences" set.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voc.transforms.score_sentiment import (
    label_for_compound,
    plain_vader_score,
    score_sentiment,
    warm_up,
)

LABELLED_SUFFIX = "_labelled.txt"

Scorer = Callable[[str], float]


def _voc_compound(text: str) -> float:
    return score_sentiment(text).compound


# Name shown in the report -> compound-score function. Order is the column order.
SCORERS: dict[str, Scorer] = {"plain_vader": plain_vader_score, "voc": _voc_compound}


def parse_labelled_lines(lines: list[str], source: str) -> list[tuple[str, int]]:
    """Parse ``sentence<TAB>label`` lines; blank lines are skipped.

    The label is taken after the last tab because sentences may contain tabs. Anything
    else malformed raises, since silently dropping rows would skew the accuracy.
    """
    examples: list[tuple[str, int]] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.rstrip("\r\n")
        if not stripped.strip():
            continue
        sentence, tab, label = stripped.rpartition("\t")
        label = label.strip()
        if not tab or label not in {"0", "1"}:
            raise ValueError(f"{source}:{number}: expected 'sentence<TAB>0|1', got {line!r}")
        examples.append((sentence.strip(), int(label)))
    return examples


def load_labelled_dir(data_dir: Path) -> dict[str, list[tuple[str, int]]]:
    """All ``*_labelled.txt`` files in ``data_dir``, keyed by source name ("yelp")."""
    files = sorted(data_dir.glob(f"*{LABELLED_SUFFIX}"))
    if not files:
        raise ValueError(f"no *{LABELLED_SUFFIX} files in {data_dir}")
    return {
        path.name.removesuffix(LABELLED_SUFFIX): parse_labelled_lines(
            path.read_text(encoding="utf-8").splitlines(), path.name
        )
        for path in files
    }


def accuracy_counts(compounds: list[float], labels: list[int]) -> dict[str, int]:
    """Correct counts under the two scoring rules reported.

    ``binary``: compound > 0 means positive. A text with no sentiment-bearing words
    scores exactly 0 (about a fifth of this kind of data set); counting those as
    negative is the convention behind the commonly quoted VADER figures, so the
    numbers stay comparable. ``strict``: the scorer's own label must match, so "neutral"
    (|compound| < 0.05) always counts as wrong; it shows how often the scorer abstains.
    """
    binary = strict = 0
    for compound, label in zip(compounds, labels, strict=True):
        expected = "positive" if label == 1 else "negative"
        binary += (compound > 0) == (label == 1)
        strict += label_for_compound(compound) == expected
    return {"binary": binary, "strict": strict}


def _ratios(counts: dict[str, int], n: int) -> dict[str, float]:
    return {
        "accuracy": counts["binary"] / n if n else 0.0,
        "accuracy_strict": counts["strict"] / n if n else 0.0,
    }


def evaluate_sentiment(data_dir: Path) -> dict[str, Any]:
    """Accuracy of plain VADER and voc per source and overall, plus scoring speed.

    Shape::

        {"sources": {name: {"n": int, "plain_vader": {...}, "voc": {...}}},
         "overall": {"n": int, "plain_vader": {...}, "voc": {...}},
         "speed":   {"plain_vader": texts_per_s, "voc": texts_per_s}}

    where each ``{...}`` is ``{"accuracy": float, "accuracy_strict": float}``.
    Speed is measured over the same texts, after the shared analyzers are built, so it
    reflects steady-state per-event cost rather than start-up.
    """
    datasets = load_labelled_dir(Path(data_dir))
    warm_up()
    sources: dict[str, dict[str, Any]] = {}
    totals = {name: {"binary": 0, "strict": 0} for name in SCORERS}
    seconds = dict.fromkeys(SCORERS, 0.0)
    n_total = 0
    for source, examples in datasets.items():
        texts = [text for text, _ in examples]
        labels = [label for _, label in examples]
        entry: dict[str, Any] = {"n": len(examples)}
        for name, scorer in SCORERS.items():
            started = time.perf_counter()
            compounds = [scorer(text) for text in texts]
            seconds[name] += time.perf_counter() - started
            counts = accuracy_counts(compounds, labels)
            for key, value in counts.items():
                totals[name][key] += value
            entry[name] = _ratios(counts, len(examples))
        sources[source] = entry
        n_total += len(examples)
    overall: dict[str, Any] = {"n": n_total}
    for name in SCORERS:
        overall[name] = _ratios(totals[name], n_total)
    speed = {
        name: (n_total / elapsed if elapsed > 0 else float("inf"))
        for name, elapsed in seconds.items()
    }
    return {"sources": sources, "overall": overall, "speed": speed}


def format_report(result: dict[str, Any]) -> str:
    """Render :func:`evaluate_sentiment` output as a small aligned plain-text table."""
    headers = ["source", "n"]
    for name in SCORERS:
        headers += [name, f"{name} strict"]
    rows = [
        [source, str(entry["n"])]
        + [
            f"{entry[name][metric]:.3f}"
            for name in SCORERS
            for metric in ("accuracy", "accuracy_strict")
        ]
        for source, entry in [*result["sources"].items(), ("overall", result["overall"])]
    ]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def render(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    lines = [render(headers), "  ".join("-" * width for width in widths)]
    lines += [render(row) for row in rows]
    lines.append("")
    lines.append(
        "binary: compound > 0 counts as positive; strict: neutral (|compound| < 0.05) "
        "counts as wrong"
    )
    lines.append(
        "speed: "
        + ", ".join(f"{name} {rate:,.0f} texts/s" for name, rate in result["speed"].items())
    )
    return "\n".join(lines)
