"""kill -9 the job three times mid-stream; the tables must still be exactly once.

The small version of ``make chaos`` (which runs 20,000 events): same code, fewer
events and smaller bundles, so each kill still lands while the job commits.
"""

from __future__ import annotations

import io

import pytest

from voc.pipelines.dev.chaos import run_chaos

pytestmark = pytest.mark.integration


def test_three_kill_9s_lose_nothing_and_double_nothing(pubsub_emulator, pubsub_topology, tmp_path):
    out = io.StringIO()
    report = run_chaos(
        project=pubsub_topology.project,
        topics=pubsub_topology.topics,
        subscriptions=pubsub_topology.subscriptions,
        emulator_address=pubsub_emulator.address,
        duckdb_path=str(tmp_path / "chaos.duckdb"),
        events=2000,
        kills=3,
        seed=5,
        max_batch=100,
        out=out,
    )
    text = report.format()
    assert report.ok, out.getvalue() + text
    assert len(report.kills) == 3
    # Each kill landed while that run was committing, not before it started.
    assert all(kill.committed_in_run > 0 for kill in report.kills), text
    assert report.malformed == 20 and report.duplicates == 20
    assert report.tables["dead_letter_message_ids"]["stored"] == 20
    assert report.tables["surveys"]["stored"] + report.tables["agent_notes"]["stored"] == 1960
