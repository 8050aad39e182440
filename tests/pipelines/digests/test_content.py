"""Gathering a digest's content from a real DuckDB file through the owner connection:
the same numbers as the department views, honest gaps, and the CLI's one-line errors."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from tests.pipelines.digests.database import HOSTILE, PERIOD_END, PERIOD_START
from voc.pipelines.cli import main
from voc.pipelines.digests.content import Period, gather, period_of
from voc.pipelines.ops.owner_connection import open_for_owner

PERIOD = Period(PERIOD_START, PERIOD_END)


def test_a_digest_and_a_query_of_the_department_view_agree(digest_db):
    with open_for_owner(str(digest_db)) as reader:
        content = gather(reader, "billing", PERIOD, source=reader.source)
    # The same figure through the view an owner queries, its clock pinned to the period's end.
    with duckdb.connect(str(digest_db), read_only=True) as con:
        con.execute("set variable voc_now = ?::timestamptz", [PERIOD_END.isoformat()])
        contacts, previous, share = con.execute(
            "select contacts, previous_contacts, share from billing.open_issues"
            " where level = 'cause' and cause_id = 'double_charge'"
        ).fetchone()
    top = content.top_causes[0]
    assert (top.cause_id, top.contacts, top.previous_contacts) == ("double_charge", 6, 2)
    assert (top.contacts, top.previous_contacts, top.share) == (contacts, previous, share)
    assert content.total_contacts == 9  # 6 + 3: interaction i1's note counts once
    assert [(x.cause_id, x.sub_cause_id, x.contacts) for x in content.sub_causes] == [
        ("double_charge", "card_twice", 3)
    ]
    assert content.missing == ()
    assert [a.cause_id for a in content.alerts] == ["double_charge"]
    assert [x.cause_id for x in content.fixes] == ["refund_delay"]
    assert content.overdue_count == 2
    assert {c.channel for c in content.channels} == {"chat", "phone", "email"}
    # The most negative verbatim is the hostile one; the macro already removed its bidi marks.
    first = content.verbatims["double_charge"][0]
    assert first.text == HOSTILE.replace("\u202e", "").replace("\u202c", "")
    assert content.health is not None and content.health.feedback_stored > 0


def test_a_department_without_feedback_in_the_period_is_an_empty_digest(digest_db, tmp_path):
    code = main(["digest", "--department", "docs", "--duckdb", str(digest_db),
                 "--end", "2026-11-30", "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    text = (tmp_path / "docs-20261123T0000Z-20261130T0000Z.md").read_text()
    assert "No feedback for docs between 2026-11-23 and 2026-11-30." in text


def test_a_missing_macro_leaves_its_section_out_and_says_so(digest_db, tmp_path):
    older = tmp_path / "older.duckdb"
    shutil.copy(digest_db, older)
    with duckdb.connect(str(older)) as con:
        con.execute("drop view if exists billing.verbatims")
        con.execute("drop macro table verbatims_of")
    with open_for_owner(str(older)) as reader:
        content = gather(reader, "billing", PERIOD)
    assert content.missing == ("verbatims_of",)
    assert content.verbatims == {} and content.top_causes


def test_all_writes_every_department_and_an_index(digest_db, tmp_path, capsys):
    code = main(["digest", "--all", "--duckdb", str(digest_db), "--end", "2026-11-30",
                 "--format", "html", "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    index = tmp_path / "index-20261123T0000Z-20261130T0000Z.html"
    assert f"index: {index}" in printed
    page = index.read_text()
    assert 'href="billing-20261123T0000Z-20261130T0000Z.html"' in page
    assert 'href="docs-20261123T0000Z-20261130T0000Z.html"' in page
    assert not list(tmp_path.glob("*.md"))


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--department", "billing", "--period", "7x"], "period '7x'"),
        (["--department", "billing", "--end", "yesterday"], "end 'yesterday'"),
        (["--department", "nobody"], "--department nobody: not in"),
        (["--department", "billing", "--format", "pdf"], "invalid choice: 'pdf'"),
        (["--department", "billing", "--all"], "not allowed with argument"),
        (
            ["--department", "billing", "--deliver", "--webhook", "ftp://x", "--from", "v@x"],
            "http(s) URL",
        ),
        (["--department", "billing", "--deliver"], "needs a sender"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(digest_db, tmp_path, capsys, flags, says):
    code = main(["digest", "--duckdb", str(digest_db), "--out", str(tmp_path), *flags])
    err = capsys.readouterr().err
    assert code == 2
    assert says in err and len(err.strip().splitlines()) == 1


def test_a_missing_database_is_one_line_and_exit_2(tmp_path, capsys):
    code = main(["digest", "--all", "--duckdb", str(tmp_path / "none.duckdb")])
    assert code == 2 and "no such file" in capsys.readouterr().err


def test_the_default_period_ends_at_the_start_of_today():
    from datetime import UTC, datetime

    period = period_of("7d", None, now=datetime(2026, 12, 2, 7, 30, tzinfo=UTC))
    assert (period.start.isoformat(), period.end.isoformat()) == (
        "2026-11-25T00:00:00+00:00",
        "2026-12-02T00:00:00+00:00",
    )
