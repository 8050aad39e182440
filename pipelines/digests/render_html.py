"""The digest as one self-contained HTML file: inline CSS, charts as data: URIs.

One file that opens the same in a browser, a mail client or an archive years
later: nothing is fetched (a Content-Security-Policy forbids it, and forbids
scripts), so a digest cannot leak who read it when, and cannot break when a
server moves. Every value is HTML-escaped after control and bidi characters are
removed, so a comment cannot inject markup or reverse the text around it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from voc.pipelines.digests import figures as f
from voc.pipelines.digests.content import CauseLine, DigestContent, Period
from voc.pipelines.digests.text import clean_text

CSP = "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'"
CHART_TITLES = {
    "trend": "Contacts per day of the top causes",
    "csat_by_channel": "Mean CSAT by channel",
}

STYLE = """
body{margin:0;background:#f4f5f7;color:#1d2330;font:15px/1.45 -apple-system,'Segoe UI',
Roboto,'DejaVu Sans',Arial,sans-serif}
main{max-width:960px;margin:0 auto;padding:24px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;
border-bottom:2px solid #0072B2;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
.meta{color:#5b6475;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{flex:1 1 150px;background:#eef4fa;border-radius:6px;padding:10px 14px}
.card b{display:block;font-size:22px}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 12px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e3e6eb}
th{background:#f0f2f5}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.up{color:#b3261e}.down{color:#1b7f3a}
img.chart{display:block;max-width:100%;height:auto;margin:8px 0}
blockquote{margin:8px 0;padding:6px 12px;border-left:4px solid #E69F00;background:#fdf8ef}
blockquote small{display:block;color:#5b6475;margin-top:4px}
.empty{font-size:17px;padding:16px;background:#fff4e5;border-radius:6px}
"""


def h(value: object, limit: int | None = None) -> str:
    """Data as HTML text: cleaned of control and bidi characters, then escaped."""
    return escape(clean_text(value, limit), quote=True)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{title}</title>",
            f"<style>{STYLE}</style>",
            "</head><body><main>",
            *body,
            "</main></body></html>",
            "",
        ]
    )


def _table(header: Sequence[str], rows: list[list[tuple[str, str]]]) -> list[str]:
    """rows of (css class, already escaped html) cells."""
    numeric = [cls.startswith("n") for cls, _ in rows[0]] if rows else [False] * len(header)
    head = "".join(
        f'<th class="n">{escape(name)}</th>' if right else f"<th>{escape(name)}</th>"
        for name, right in zip(header, numeric, strict=True)
    )
    body = [
        "<tr>"
        + "".join(
            f'<td class="{cls}">{cell}</td>' if cls else f"<td>{cell}</td>" for cls, cell in row
        )
        + "</tr>"
        for row in rows
    ]
    return ["<table>", f"<thead><tr>{head}</tr></thead><tbody>", *body, "</tbody></table>"]


def _cause_rows(lines: Sequence[CauseLine], sub: bool) -> list[list[tuple[str, str]]]:
    rows = []
    for c in lines:
        name = h(c.cause_id) + (f" / {h(c.sub_cause_id)}" if sub else "")
        trend = "up" if c.change > 0 else "down" if c.change < 0 else ""
        rows.append(
            [
                ("", name),
                ("n", f.count(c.contacts)),
                ("n", f.pct(c.share)),
                (f"n {trend}".strip(), h(f.change(c))),
                ("n", f.pct(c.negative_share)),
                ("n", f.score(c.mean_csat)),
                ("", h(f.status(c))),
            ]
        )
    return rows


def render_html(content: DigestContent, charts: Mapping[str, bytes]) -> str:
    """The digest page; ``charts`` (name -> PNG) are embedded, in CHART_TITLES order."""
    period = content.period
    title = f"{h(content.department)}: voc digest, {h(period.label)}"
    body = [f"<h1>{title}</h1>"]
    if content.description:
        body.append(f"<p>{h(content.description)}</p>")
    body.append(
        f'<p class="meta">Compared with {f.day(period.previous_start)} to {f.day(period.start)}.'
        f" Generated {f.day(content.generated_at)} UTC"
        + (f" from {h(content.source)}" if content.source else "")
        + ".</p>"
    )
    if content.empty:
        body.append(
            f'<p class="empty">No feedback for {h(content.department)} between '
            f"{f.day(period.start)} and {f.day(period.end)}.</p>"
        )
    else:
        body += _cards(content) + _causes(content) + _charts(charts) + _channels(content)
        body += _alerts(content) + _fixes(content) + _verbatims(content)
    if content.overdue_count:
        body += _overdue(content)
    body += ["<h2>Pipeline health</h2>", "<ul>"]
    body += [f"<li>{h(line)}</li>" for line in f.health_lines(content.health)] + ["</ul>"]
    if content.missing:
        names = ", ".join(f"<code>{h(m)}</code>" for m in content.missing)
        body += [
            "<h2>Not available</h2>",
            f"<p>This database has no {names}; those sections are left out.</p>",
        ]
    return _page(title, body)


def _cards(content: DigestContent) -> list[str]:
    # Channels are disjoint and csat_by_channel_of counts an event once per department,
    # so its surveys add up; the causes' previous contacts would not (multi-cause events).
    surveys = sum(c.surveys for c in content.channels)
    csat = [c for c in content.channels if c.mean_csat is not None and c.surveys]
    rated = sum(c.surveys for c in csat)
    mean_csat = sum(c.mean_csat * c.surveys for c in csat) / rated if rated else None
    open_alerts = sum(1 for a in content.alerts if a.status == "open")
    cards = [
        ("contacts", f.count(content.total_contacts)),
        ("surveys", f.count(surveys)),
        ("mean CSAT", f.score(mean_csat)),
        ("open alerts", f.count(open_alerts)),
        ("overdue follow-ups", f.count(content.overdue_count)),
    ]
    inner = "".join(f'<div class="card"><b>{v}</b>{escape(k)}</div>' for k, v in cards)
    return [f'<div class="cards">{inner}</div>']


def _causes(content: DigestContent) -> list[str]:
    header = ["cause", "contacts", "share", "change", "negative", "CSAT", "status"]
    out = ["<h2>Top causes</h2>", *_table(header, _cause_rows(content.top_causes, sub=False))]
    top = {c.cause_id for c in content.top_causes}
    subs = [s for s in content.sub_causes if s.cause_id in top and s.contacts][:10]
    if subs:
        out += ["<h3>Sub-causes</h3>", *_table(header, _cause_rows(subs, sub=True))]
    return out


def _charts(charts: Mapping[str, bytes]) -> list[str]:
    out = []
    for name, title in CHART_TITLES.items():
        if name in charts:
            out.append(
                f'<img class="chart" id="chart-{name}" alt="{escape(title)}" '
                f'src="{data_uri(charts[name])}">'
            )
    return (["<h2>Trends</h2>", *out]) if out else []


def _channels(content: DigestContent) -> list[str]:
    if not content.channels:
        return []
    rows = [
        [
            ("", h(c.channel)),
            ("n", f.count(c.contacts)),
            ("n", f.count(c.surveys)),
            ("n", f.score(c.mean_csat)),
            ("n", f.score(c.nps, 0)),
            ("n", f.score(c.mean_effort)),
            ("n", f.pct(c.share_negative)),
        ]
        for c in content.channels
    ]
    header = ["channel", "contacts", "surveys", "CSAT", "NPS", "effort", "negative"]
    return ["<h2>CSAT, NPS and effort by channel</h2>", *_table(header, rows)]


def _alerts(content: DigestContent) -> list[str]:
    if not content.alerts:
        return ["<h2>Alerts</h2>", "<p>No alert was open in the period.</p>"]
    rows = [
        [
            ("", h(a.cause_id)),
            ("", h(a.status)),
            ("", f.day(a.opened_window_start)),
            ("", f.day(a.closed_window_start)),
            ("n", f.count(a.observed)),
            ("n", f.score(a.expected, 1)),
            ("n", f.count(a.peak_observed)),
        ]
        for a in content.alerts
    ]
    header = ["cause", "status", "opened", "closed", "observed", "expected", "peak"]
    return ["<h2>Alerts</h2>", *_table(header, rows)]


def _fixes(content: DigestContent) -> list[str]:
    if not content.fixes:
        return []
    items = [
        f"<li><b>{h(x.cause_id)}</b>, {f.day(x.fix_date)}: {h(x.note, 200)}. Contacts "
        f"{f.count(x.before_contacts)} before, {f.count(x.after_contacts)} after "
        f"({f.signed_pct(x.change_pct)}). {h(x.verdict)}</li>"
        for x in content.fixes
    ]
    return ["<h2>Fixes shipped and their impact</h2>", "<ul>", *items, "</ul>"]


def _overdue(content: DigestContent) -> list[str]:
    rows = [
        [
            ("", h(r.item_id)),
            ("", h(r.customer_id)),
            ("", h(r.channel)),
            ("", h(r.cause_id)),
            ("", h(r.reason)),
            ("", f.day(r.due_at)),
        ]
        for r in content.overdue
    ]
    header = ["item", "customer (pseudonymised)", "channel", "cause", "reason", "due"]
    out = [f"<h2>Overdue recovery items: {content.overdue_count:,}</h2>", *_table(header, rows)]
    if content.overdue_count > len(content.overdue):
        out.append(
            f"<p>The oldest {len(content.overdue)} shown; <code>voc recovery list --department "
            f"{h(content.department)} --overdue</code> lists all.</p>"
        )
    return out


def _verbatims(content: DigestContent) -> list[str]:
    if not any(content.verbatims.values()):
        return []
    out = ["<h2>What customers said</h2>"]
    for cause, verbatims in content.verbatims.items():
        if not verbatims:
            continue
        out.append(f"<h3>{h(cause)}</h3>")
        for v in verbatims:
            scores = "; ".join(f.verbatim_scores(v))
            out.append(
                f"<blockquote>{h(v.text, 400)}<small>{h(v.source)}, {h(v.channel)}, "
                f"{f.day(v.event_time)}; {scores}; evidence: <i>{h(v.evidence, 80)}</i>"
                "</small></blockquote>"
            )
    return out


@dataclass(frozen=True)
class IndexEntry:
    """One department's line on the index page of ``voc digest --all``."""

    department: str
    href: str  # relative to the index page
    contacts: int
    top_cause: str
    open_alerts: int
    overdue: int


def render_index(period: Period, entries: Sequence[IndexEntry]) -> str:
    """The page linking every department's digest for one period."""
    title = f"voc digests, {h(period.label)}"
    rows = [
        [
            ("", f'<a href="{escape(e.href, quote=True)}">{h(e.department)}</a>'),
            ("n", f.count(e.contacts)),
            ("", h(e.top_cause) or f.DASH),
            ("n", f.count(e.open_alerts)),
            ("n", f.count(e.overdue)),
        ]
        for e in entries
    ]
    header = ["department", "contacts", "top cause", "open alerts", "overdue follow-ups"]
    return _page(title, [f"<h1>{title}</h1>", *_table(header, rows)])
