"""Tests for voc.pipelines.dev.evaluate, on tiny fixture files (never the real data set)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voc.pipelines.dev.evaluate import (
    accuracy_counts,
    evaluate_sentiment,
    format_report,
    load_labelled_dir,
    parse_labelled_lines,
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    (tmp_path / "shop_labelled.txt").write_text(
        "Great phone, I love it!\t1\n"
        "Terrible battery, it broke after a day.\t0\n"
        "Kept on hold for an hour, then they said please call back.\t0\n"
        "\n",
        encoding="utf-8",
    )
    (tmp_path / "cafe_labelled.txt").write_text(
        "The coffee was excellent and the staff friendly.\t1\n"
        "The table is by the window.\t1",  # neutral to both scorers; no final newline
        encoding="utf-8",
    )
    (tmp_path / "readme.txt").write_text("not a data file\t1\n", encoding="utf-8")
    return tmp_path


def test_parse_labelled_lines() -> None:
    lines = ["Good\tstuff\t1", "  Bad  \t0\r\n", "", "   "]
    assert parse_labelled_lines(lines, "x") == [("Good\tstuff", 1), ("Bad", 0)]


@pytest.mark.parametrize("line", ["no tab here", "sentence\t2", "sentence\tyes"])
def test_parse_labelled_lines_rejects_malformed(line: str) -> None:
    with pytest.raises(ValueError, match=r"x_labelled\.txt:2"):
        parse_labelled_lines(["fine\t1", line], "x_labelled.txt")


def test_load_labelled_dir_picks_only_labelled_files(data_dir: Path) -> None:
    datasets = load_labelled_dir(data_dir)
    assert sorted(datasets) == ["cafe", "shop"]
    assert len(datasets["shop"]) == 3
    assert len(datasets["cafe"]) == 2


def test_empty_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no \*_labelled\.txt"):
        evaluate_sentiment(tmp_path)


def test_accuracy_counts_binary_and_strict() -> None:
    compounds = [0.8, -0.6, 0.0, 0.03, -0.02]
    labels = [1, 0, 1, 0, 0]
    # binary: 0.0 counts as negative (wrong for label 1), 0.03 positive (wrong),
    # -0.02 negative (right). strict: the three near-zero scores are neutral, so wrong.
    assert accuracy_counts(compounds, labels) == {"binary": 3, "strict": 2}


def test_evaluate_sentiment_on_fixture(data_dir: Path) -> None:
    result = evaluate_sentiment(data_dir)

    assert set(result) == {"sources", "overall", "speed"}
    assert result["overall"]["n"] == 5
    assert result["sources"]["shop"]["n"] == 3

    # Plain VADER reads "please" as positive in a hold complaint; voc's lexicon does not.
    assert result["sources"]["shop"]["plain_vader"]["accuracy"] == pytest.approx(2 / 3)
    assert result["sources"]["shop"]["voc"]["accuracy"] == 1.0
    # The neutral sentence counts as negative under the binary rule (wrong here) and
    # as wrong under the strict rule.
    for scorer in ("plain_vader", "voc"):
        assert result["sources"]["cafe"][scorer]["accuracy"] == 0.5
        assert result["sources"]["cafe"][scorer]["accuracy_strict"] == 0.5
    assert result["overall"]["voc"]["accuracy"] == pytest.approx(4 / 5)
    assert result["overall"]["plain_vader"]["accuracy"] == pytest.approx(3 / 5)
    for rate in result["speed"].values():
        assert rate > 0


def test_format_report_is_an_aligned_table(data_dir: Path) -> None:
    report = format_report(evaluate_sentiment(data_dir))
    lines = report.splitlines()

    table = lines[: lines.index("")]
    assert table[0].split()[:2] == ["source", "n"]
    assert [line.split()[0] for line in table[2:]] == ["cafe", "shop", "overall"]
    assert len({len(line) for line in table}) == 1  # every row the same width
    assert "texts/s" in report
    assert "0.800" in report
