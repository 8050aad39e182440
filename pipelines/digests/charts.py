"""The digest's charts as PNG bytes: contacts per day for the top causes, CSAT by channel.

Drawn with matplotlib's Agg canvas on a Figure of its own (no pyplot, no global
state, no display needed), so digests for several departments can be drawn in one
process, in any order, on a server without X. The PNGs carry no timestamp, so one
content always gives the same bytes.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import timedelta

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from voc.pipelines.digests.content import DigestContent

# Colour-blind-safe (Okabe-Ito), one per top cause.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
WIDTH, HEIGHT, DPI = 7.2, 3.0, 100


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _figure(height: float = HEIGHT) -> tuple[Figure, object]:
    figure = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="y", color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    return figure, axes


def trend_chart(content: DigestContent) -> bytes | None:
    """Contacts per day of each top cause over the period; None with nothing to draw."""
    top = [c.cause_id for c in content.top_causes]
    if not top or not content.trend:
        return None
    first = content.period.start.date()
    last = (content.period.end - timedelta(microseconds=1)).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    counts: dict[str, dict] = defaultdict(dict)
    for point in content.trend:
        counts[point.cause_id][point.day] = point.contacts
    figure, axes = _figure()
    for colour, cause in zip(PALETTE, top, strict=False):
        values = [counts[cause].get(day, 0) for day in days]
        axes.plot(days, values, marker="o", markersize=3, linewidth=2, color=colour, label=cause)
    axes.set_ylabel("contacts per day")
    axes.set_ylim(bottom=0)
    axes.set_title("Top causes, contacts per day", loc="left", fontsize=11)
    axes.legend(frameon=False, fontsize=8, loc="upper left", ncols=min(3, len(top)))
    figure.autofmt_xdate(rotation=30)
    return _png(figure)


def channel_chart(content: DigestContent) -> bytes | None:
    """Mean CSAT (1-5) per channel as horizontal bars; None when no channel has a CSAT."""
    rated = [c for c in content.channels if c.mean_csat is not None]
    if not rated:
        return None
    rated.sort(key=lambda c: c.mean_csat)
    figure, axes = _figure(height=max(1.8, 0.9 + 0.4 * len(rated)))  # bars of one height
    axes.grid(axis="y", visible=False)
    axes.grid(axis="x", color="#dddddd", linewidth=0.8)
    bars = axes.barh([c.channel for c in rated], [c.mean_csat for c in rated], color=PALETTE[0])
    axes.bar_label(bars, labels=[f"{c.mean_csat:.2f}" for c in rated], padding=3, fontsize=8)
    axes.set_xlim(0, 5.4)
    axes.set_xlabel("mean CSAT (1-5)")
    axes.set_title("CSAT by channel", loc="left", fontsize=11)
    return _png(figure)


def charts_of(content: DigestContent) -> dict[str, bytes]:
    """Every chart this content has data for, by name (``trend``, ``csat_by_channel``)."""
    drawn = {"trend": trend_chart(content), "csat_by_channel": channel_chart(content)}
    return {name: png for name, png in drawn.items() if png is not None}
