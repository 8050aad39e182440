"""voc taxonomy check|explain|packs, voc tag, voc eval causes and voc discover, run as
a user runs them (the command line's own entry point, in process so the suite stays
fast), on real files and a real DuckDB file. test_cli.py runs voc as a subprocess."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.pipelines.cli_results import assert_one_line_error, run_in_process
from tests.sql.helpers import insert_rows
from voc.pipelines.ops.discover_phrases import find_candidates, parse_window
from voc.transforms.sinks.duckdb_schema import prepare
from voc.transforms.taxonomy import load_taxonomy


@pytest.fixture
def run_voc(capsys):
    return lambda *args: run_in_process(capsys, *args)


GOOD = """\
version: 2
extends: generic
name: acme
release: "7"
causes:
  - id: engineer_no_show
    description: "The engineer did not turn up"
    department: support_ops
    phrases: ["engineer {not} turn up"]
"""


def test_taxonomy_check_prints_every_problem_and_exits_2(run_voc, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    result = run_voc("taxonomy", "check", str(good))
    assert (result.returncode, result.stdout.strip()) == (0, f"{good}: ok")

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        GOOD.replace("support_ops", "field_ops").replace("{not}", "{nope}"), encoding="utf-8"
    )
    result = run_voc("taxonomy", "check", str(bad))
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        f"{bad}:8: cause engineer_no_show: unknown department 'field_ops'",
        f"{bad}:9: cause engineer_no_show phrases: unknown concept {{nope}}",
    ]
    assert "Traceback" not in result.stderr


def test_run_refuses_a_bad_taxonomy_in_one_line(run_voc, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("{not}", "{nope}"), encoding="utf-8")
    assert_one_line_error(run_voc("run", f"--taxonomy={bad}"), "unknown concept {nope}")
    assert_one_line_error(run_voc("run", "--taxonomy-pack=nosuch"), "unknown taxonomy pack")
    assert_one_line_error(
        run_voc("run", f"--taxonomy={bad}", "--taxonomy-pack=retail"), "alternatives"
    )


def test_taxonomy_packs_lists_the_shipped_packs(run_voc) -> None:
    result = run_voc("taxonomy", "packs")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == ["banking", "generic", "retail", "saas", "telecom", "travel", "utilities"]


def test_taxonomy_explain_shows_rules_spans_and_vetoes(run_voc) -> None:
    text = "I was not charged twice, but my parcel never arrived"
    result = run_voc("taxonomy", "explain", text)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "words     i was not charged twice but my parcel never arrived" in out
    assert "delivery_delay -> logistics" in out
    assert "'parcel never arrived'" in out
    assert "fired but did not count:" in out
    assert "negated" in out.split("fired but did not count:")[1]


def test_tag_writes_one_json_line_per_row_with_evidence(run_voc, tmp_path: Path) -> None:
    data = tmp_path / "export.csv"
    data.write_text(
        "ticket,text\n"
        'T-1,"Charged twice, call me on 07700 900123"\n'
        "T-2,Lovely service thanks\n"
        "T-3,Mi paquete nunca llegó y nadie responde\n",
        encoding="utf-8",
    )
    out = tmp_path / "tagged.jsonl"
    result = run_voc("tag", "--data", str(data), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "3 texts tagged with generic" in result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["ticket"] for row in rows] == ["T-1", "T-2", "T-3"]
    first = rows[0]
    assert "07700" not in json.dumps(first)  # redacted before anything else reads it
    (cause,) = first["causes"]
    assert (cause["cause"], cause["sub_cause"], cause["department"]) == (
        "billing_error",
        "charged_twice",
        "billing",
    )
    assert first["text"][cause["start"] : cause["end"]] == cause["evidence"] == "Charged twice"
    assert cause["rule"].startswith("charged_twice/") and 0 < cause["confidence"] < 1
    assert first["sentiment"] in ("positive", "neutral", "negative")
    assert rows[1]["causes"] == [{"cause": "unclassified", "department": "support_ops"}]
    assert (rows[0]["language"], rows[2]["language"]) == ("en", "es")


def test_tag_and_eval_errors_are_one_line(run_voc, tmp_path: Path) -> None:
    assert_one_line_error(run_voc("tag", "--data", str(tmp_path / "nope.csv")), "no such file")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a"}\n{"oops"\n', encoding="utf-8")
    assert_one_line_error(run_voc("tag", "--data", str(bad)), f"{bad}:2: not JSON")
    assert_one_line_error(run_voc("eval", "causes", "--data", str(bad)), f"{bad}:1:", "labels")
    assert_one_line_error(
        run_voc("tag", "--data", str(bad), "--taxonomy-pack", "nosuch"), "unknown taxonomy pack"
    )


def test_eval_causes_prints_figures_and_stable_json(run_voc, tmp_path: Path) -> None:
    data = tmp_path / "labelled.tsv"
    data.write_text(
        "text\tlabels\n"
        "I was charged twice\tbilling_error\n"
        "my parcel never arrived and I was on hold for an hour\tdelivery_delay|long_hold\n"
        "thanks, all good\t\n"
        "the app is fine\tproduct_defect\n",
        encoding="utf-8",
    )
    text = run_voc("eval", "causes", "--data", str(data))
    assert text.returncode == 0, text.stderr
    assert "coverage   0.667" in text.stdout
    assert "  product_defect         -> unclassified 1" in text.stdout
    result = run_voc("eval", "causes", "--data", str(data), "--json")
    report = json.loads(result.stdout)
    assert report["coverage"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["micro_precision"] == 1.0
    assert report["micro_recall"] == 0.75
    assert report["per_class"]["product_defect"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 1,
        "predicted": 0,
    }
    assert set(report) >= {"coverage", "macro_f1", "micro_f1", "per_class", "confusion"}


# ----------------------------------------------------------------------- discover

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _unclassified_file(path: Path) -> None:
    """A real voc DuckDB file: steady unclassified chatter for five weeks, and in the
    last week a new complaint that no cause knows yet."""
    con = duckdb.connect(str(path))
    prepare(con)
    surveys, tags = [], []
    steady = ["thanks for the help", "ok I guess", "the usual, nothing special to say"]
    for day in range(35):
        for number, text in enumerate(steady):
            surveys.append((f"s-{day}-{number}", text, NOW - timedelta(days=day, hours=number)))
    rising = [
        "the loyalty points vanished from my balance",
        "my loyalty points are gone again",
        "where did my loyalty points go?",
        "Loyalty points missing after the update",
    ]
    for number, text in enumerate(rising):
        surveys.append((f"r-{number}", text, NOW - timedelta(days=number)))
    surveys.append(("old-1", "loyalty points question from long ago", NOW - timedelta(days=20)))
    insert_rows(
        con,
        "surveys",
        [{"event_id": e, "comment": text, "submitted_at": at} for e, text, at in surveys],
    )
    tags = [
        {"event_id": e, "cause_id": "unclassified", "department": "support_ops", "event_time": at}
        for e, _, at in surveys
    ]
    insert_rows(con, "feedback_tags", tags)
    con.close()


def test_discover_proposes_the_rising_phrase_as_a_taxonomy_snippet(run_voc, tmp_path: Path) -> None:
    path = tmp_path / "voc.duckdb"
    _unclassified_file(path)
    result = run_voc("discover", "--since", "7d", "--duckdb", str(path), "--min-count", "3")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "causes:" in out
    first = out.split("  - id: discovered_1", 1)[1].split("  - id:", 1)[0]
    assert 'phrases: ["loyalty points"]' in first
    assert "# 4 texts in the window, 1 in the baseline" in first
    assert "the usual" not in out  # steady chatter does not rise
    # the snippet is a taxonomy fragment: it compiles once pasted under causes:
    snippet = out[out.index("\ncauses:") + 1 :]
    pasted = tmp_path / "pasted.yaml"
    pasted.write_text(f"version: 2\nextends: generic\n{snippet}\n", encoding="utf-8")
    assert run_voc("taxonomy", "check", str(pasted)).returncode == 0


def test_discover_errors(run_voc, tmp_path: Path) -> None:
    assert_one_line_error(run_voc("discover", "--since", "soon"), "--since soon")
    assert_one_line_error(
        run_voc("discover", "--duckdb", str(tmp_path / "none.duckdb")), "no such file"
    )
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    result = run_voc("discover", "--duckdb", str(empty))
    assert result.returncode == 1 and "has no voc tables" in result.stderr


def test_find_candidates_needs_a_rise_not_just_a_count() -> None:
    taxonomy = load_taxonomy()
    recent = ["the gift card balance is wrong"] * 3 + ["hello there"] * 5
    baseline = ["the gift card balance is wrong"] * 12 + ["hello there"] * 20
    assert find_candidates(recent, baseline, taxonomy, top=5, min_count=3) == []
    assert parse_window("48h") == timedelta(hours=48)
    with pytest.raises(ValueError):
        parse_window("0d")
