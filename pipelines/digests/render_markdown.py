"""The digest as Markdown: what a chat webhook posts and what reads well in a terminal.

Every text that came from data (cause ids, notes, verbatims) is cleaned of control
and bidi characters and escaped, so a customer's ``|`` cannot break a table and a
``[link](...)`` in a comment is shown, never followed. The charts are in the HTML
digest only; Markdown gets the numbers they are drawn from.
"""

from __future__ import annotations

import re

from voc.pipelines.digests import figures as f
from voc.pipelines.digests.content import CauseLine, DigestContent
from voc.pipelines.digests.text import clean_text

# Enough to keep data inert mid-line: emphasis, code, links, HTML, table cells, headings.
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")


def md(text: object, limit: int | None = None) -> str:
    """Data as inert Markdown text: cleaned, then every special character escaped."""
    return _SPECIAL.sub(r"\\\1", clean_text(text, limit))


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _cause_rows(lines: tuple[CauseLine, ...], sub: bool) -> list[list[str]]:
    return [
        [
            md(c.cause_id) + (f" / {md(c.sub_cause_id)}" if sub else ""),
            f.count(c.contacts),
            f.pct(c.share),
            md(f.change(c)),
            f.pct(c.negative_share),
            f.score(c.mean_csat),
            md(f.status(c)),
        ]
        for c in lines
    ]


def render_markdown(content: DigestContent) -> str:
    period = content.period
    out = [f"# {md(content.department)}: voc digest, {period.label}", ""]
    if content.description:
        out += [md(content.description), ""]
    out += [
        f"Compared with {f.day(period.previous_start)} to {f.day(period.start)}. "
        f"Generated {f.day(content.generated_at)} UTC"
        + (f" from {md(content.source)}." if content.source else "."),
        "",
    ]
    if content.empty:
        out += [
            f"**No feedback for {md(content.department)} between {f.day(period.start)} "
            f"and {f.day(period.end)}.**",
            "",
        ]
    else:
        out += _body(content)
    if content.overdue_count:
        out += _overdue(content)
    out += ["## Pipeline health", ""]
    out += [f"- {md(line)}" for line in f.health_lines(content.health)] + [""]
    if content.missing:
        out += [
            "## Not available",
            "",
            "This database has no "
            + ", ".join(f"`{m}`" for m in content.missing)
            + "; those sections are left out.",
            "",
        ]
    return "\n".join(out).rstrip() + "\n"


def _body(content: DigestContent) -> list[str]:
    header = ["cause", "contacts", "share", "change", "negative", "CSAT", "status"]
    out = [f"## Top causes ({f.count(content.total_contacts)} contacts)", ""]
    out += _table(header, _cause_rows(content.top_causes, sub=False))
    top = {c.cause_id for c in content.top_causes}
    subs = tuple(s for s in content.sub_causes if s.cause_id in top and s.contacts)
    if subs:
        out += ["### Sub-causes", ""]
        out += _table(header, _cause_rows(subs[:10], sub=True))
    if content.channels:
        out += ["## CSAT, NPS and effort by channel", ""]
        rows = [
            [
                md(c.channel),
                f.count(c.contacts),
                f.count(c.surveys),
                f.score(c.mean_csat),
                f.score(c.nps, 0),
                f.score(c.mean_effort),
                f.pct(c.share_negative),
            ]
            for c in content.channels
        ]
        header = ["channel", "contacts", "surveys", "CSAT", "NPS", "effort", "negative"]
        out += _table(header, rows)
    out += ["## Alerts", ""]
    if content.alerts:
        rows = [
            [
                md(a.cause_id),
                md(a.status),
                f.day(a.opened_window_start),
                f.day(a.closed_window_start),
                f.count(a.observed),
                f.score(a.expected, 1),
                f.count(a.peak_observed),
            ]
            for a in content.alerts
        ]
        header = ["cause", "status", "opened", "closed", "observed", "expected", "peak"]
        out += _table(header, rows)
    else:
        out += ["No alert was open in the period.", ""]
    if content.fixes:
        out += ["## Fixes shipped and their impact", ""]
        out += [
            f"- **{md(x.cause_id)}**, {f.day(x.fix_date)}: {md(x.note, 200)}. "
            f"Contacts {f.count(x.before_contacts)} before, {f.count(x.after_contacts)} after "
            f"({f.signed_pct(x.change_pct)}). {md(x.verdict)}"
            for x in content.fixes
        ] + [""]
    out += _verbatims(content)
    return out


def _overdue(content: DigestContent) -> list[str]:
    out = [f"## Overdue recovery items: {content.overdue_count:,}", ""]
    rows = [
        [
            md(r.item_id),
            md(r.customer_id),
            md(r.channel),
            md(r.cause_id),
            md(r.reason),
            f.day(r.due_at),
        ]
        for r in content.overdue
    ]
    out += _table(["item", "customer (pseudonymised)", "channel", "cause", "reason", "due"], rows)
    if content.overdue_count > len(content.overdue):
        out += [
            f"The oldest {len(content.overdue)} shown; `voc recovery list --department "
            f"{clean_text(content.department)} --overdue` lists all.",  # a code span: no escapes
            "",
        ]
    return out


def _verbatims(content: DigestContent) -> list[str]:
    if not any(content.verbatims.values()):
        return []
    out = ["## What customers said", ""]
    for cause, verbatims in content.verbatims.items():
        if not verbatims:
            continue
        out += [f"### {md(cause)}", ""]
        for v in verbatims:
            scores = ", ".join(f.verbatim_scores(v))
            out += [
                f"> {md(v.text, 400)}",
                ">",
                f"> — {md(v.source)}, {md(v.channel)}, {f.day(v.event_time)}; {scores}; "
                f"evidence: *{md(v.evidence, 80)}*",
                "",
            ]
    return out
