"""A tiny run of the whole bench harness: every measurement runs for real (real
emulator, both jobs, real DuckDB files) on small numbers, and writes its files.
The figures are not checked against targets here: timing belongs to `make bench`."""

from __future__ import annotations

import io
import json

import pytest

from bench.run import BenchConfig, format_markdown, percentile, run_bench, write_results

pytestmark = pytest.mark.integration


def test_percentile_is_nearest_rank_and_none_for_unseen_events():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 99) == 4.0
    assert percentile([1.0, float("inf")], 95) is None
    assert percentile([], 50) is None


def test_bench_harness_runs_end_to_end(tmp_path):
    config = BenchConfig(
        events=400,
        baseline_timeout=20,
        fresh_rate=40,
        fresh_seconds=3,
        fresh_grace=5,
        tagging_texts=300,
        query_rows=(20_000,),
        query_runs=2,
        retag_events=300,
        results_dir=tmp_path,
    )
    out = io.StringIO()
    results = run_bench(config, out=out)
    json_path, md_path = write_results(results, tmp_path)

    saved = json.loads(json_path.read_text())
    assert set(saved) >= {"environment", "throughput", "freshness", "tagging", "queries", "summary"}
    assert saved["environment"]["cpus"] >= 1
    voc = saved["throughput"]["voc"]
    assert voc["visible"] == voc["events"] == 400
    assert voc["events_per_s"] > 0 and voc["peak_rss_mib"] > 0
    assert saved["throughput"]["baseline"]["visible"] > 0
    assert saved["freshness"]["voc"]["visible"] == saved["freshness"]["voc"]["published"] == 120
    assert saved["freshness"]["voc"]["p95_s"] is not None
    # The derived branches were measured: their rollups caught up with every fact.
    assert saved["freshness"]["voc"]["rollup_p95_s"] is not None
    assert saved["throughput"]["voc-facts-only"]["visible"] == 400
    assert saved["tagging"]["voc_texts_per_s"] > 0
    assert set(saved["queries"]["20000"]["median_seconds"]) == {
        "department_summary",
        "department_causes_week",
        "interaction_parts_by_channel",
    }
    figures = {row["figure"] for row in saved["summary"]}
    assert "tagging (texts/s)" in figures
    assert "retag, 2 worker(s) (texts/s)" in figures
    assert "throughput with the event-time branches (events/s)" in figures
    markdown = md_path.read_text()
    assert markdown == format_markdown(saved)
    assert "| figure | voc | baseline | ratio | target | met |" in markdown
