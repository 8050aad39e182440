"""Rendering a digest: every section in Markdown and HTML, hostile text made inert,
the HTML self-contained, and an empty period's short honest digest."""

from __future__ import annotations

import base64
import re

from tests.pipelines.digests.samples import empty_content, full_content
from voc.pipelines.digests.charts import charts_of
from voc.pipelines.digests.content import pick_verbatims
from voc.pipelines.digests.render_html import render_html
from voc.pipelines.digests.render_markdown import render_markdown
from voc.pipelines.digests.text import clean_text

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_markdown_has_every_section_with_the_contents_numbers():
    text = render_markdown(full_content())
    for heading in (
        "# billing: voc digest, 2026-11-23 to 2026-11-30",
        "## Top causes (100 contacts)",
        "### Sub-causes",
        "## CSAT, NPS and effort by channel",
        "## Alerts",
        "## Fixes shipped and their impact",
        "## What customers said",
        "## Overdue recovery items: 12",
        "## Pipeline health",
    ):
        assert heading in text, heading
    assert "| double\\_charge | 60 | 60% | +20 (+50%) | 50% | 2.50 | new |" in text
    assert "| late\\_fee | 10 | 10% | +10 (new) |" in text
    assert "fix shipped 2026-11-20" in text
    assert "Compared with 2026-11-16 to 2026-11-23." in text
    assert "The oldest 5 shown" in text
    assert "1,200 feedback events stored in the period (processing time); 5.0%" in text
    assert "`voc recovery list --department billing --overdue`" in text


def test_markdown_makes_customer_text_inert():
    text = render_markdown(full_content())
    quote = next(line for line in text.splitlines() if "twice" in line and line.startswith(">"))
    assert "\u202e" not in text and "\x07" not in text
    assert r"\<b\>failed\</b\> \| twice \[click\](http://evil.example)" in quote


def test_html_has_every_section_embedded_charts_and_nothing_external():
    content = full_content()
    charts = charts_of(content)
    assert set(charts) == {"trend", "csat_by_channel"}
    page = render_html(content, charts)
    for heading in ("Top causes", "Sub-causes", "Trends", "CSAT, NPS and effort by channel",
                    "Alerts", "Fixes shipped and their impact", "What customers said",
                    "Overdue recovery items: 12", "Pipeline health"):  # fmt: skip
        assert f">{heading}</h" in page, heading
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == 2
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1]).startswith(PNG_MAGIC)
    assert "<script" not in page.lower()
    assert not re.search(r'(href|src)="(https?:)?//', page), "an external resource"
    assert "Content-Security-Policy" in page


def test_html_escapes_customer_text_and_removes_bidi_controls():
    page = render_html(full_content(), {})
    assert (
        "It &lt;b&gt;failed&lt;/b&gt; | twice [click](http://evil.example) desrever &amp; done"
        in page
    )
    assert "<b>failed</b>" not in page
    assert "\u202e" not in page and "\x07" not in page


def test_an_empty_period_gives_a_short_honest_digest():
    content = empty_content()
    assert content.empty
    text = render_markdown(content)
    assert "**No feedback for docs between 2026-11-23 and 2026-11-30.**" in text
    assert "Top causes" not in text and "## Pipeline health" in text
    assert len(text.splitlines()) < 15
    page = render_html(content, charts_of(content))
    assert "No feedback for docs between 2026-11-23 and 2026-11-30." in page
    assert "<img" not in page


def test_charts_are_the_same_bytes_for_the_same_content():
    assert charts_of(full_content()) == charts_of(full_content())


def test_verbatims_are_the_most_negative_distinct_texts_with_evidence():
    rows = [
        {"cause_id": "a", "text": "Same text", "evidence": "x", "sentiment_score": -0.9},
        {"cause_id": "a", "text": "same   TEXT", "evidence": "x", "sentiment_score": -0.8},
        {"cause_id": "a", "text": "no evidence", "evidence": "", "sentiment_score": -1.0},
        {"cause_id": "a", "text": "mild", "evidence": "x", "sentiment_score": 0.1},
        {"cause_id": "a", "text": "bad", "evidence": "x", "sentiment_score": -0.5},
        {"cause_id": "b", "text": "other cause", "evidence": "x", "sentiment_score": -0.5},
    ]
    for n, row in enumerate(rows):
        row.update(event_time=n, source="survey", channel="chat", sub_cause_id="", csat=None,
                   nps=None)  # fmt: skip
    picked = pick_verbatims(rows, ["a"], per_cause=2)
    assert [v.text for v in picked["a"]] == ["Same text", "bad"]


def test_clean_text_drops_controls_and_folds_space():
    assert clean_text("a\u200b b\u2066c\u2069\n\td\x00", limit=None) == "a bc d"
    assert clean_text("abcdef", limit=4) == "abc…"
