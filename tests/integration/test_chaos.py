"""kill -9 the job and the emulator mid-stream, slip hostile messages in; the tables must
still be exactly once.

The small version of ``make chaos`` (which runs 20,000 events): same code, fewer
events and smaller bundles, so each kill still lands while the job commits.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from voc.pipelines.dev.chaos import EmulatorRestart, run_chaos
from voc.pipelines.dev.emulator import EmulatorState, provision, running_emulator
from voc.pipelines.topology import TOPOLOGY

pytestmark = pytest.mark.integration

PROJECT = "voc-chaos"


@pytest.fixture
def own_emulator(tmp_path_factory) -> Iterator[tuple[EmulatorState, Path]]:
    """An emulator of this test's own, not the session's: a restart empties it, and
    restoring message ids needs one whose ids start at 1."""
    state_dir = tmp_path_factory.mktemp("chaos-emulator")
    with running_emulator(state_dir, PROJECT) as state:
        yield state, state_dir


def test_kill_9s_of_job_and_emulator_and_hostile_messages_change_nothing(own_emulator, tmp_path):
    emulator, state_dir = own_emulator
    out = io.StringIO()
    report = run_chaos(
        project=PROJECT,
        topics={topic: topic for topic in TOPOLOGY},
        subscriptions=provision(emulator.address, PROJECT),
        emulator_address=emulator.address,
        duckdb_path=str(tmp_path / "chaos.duckdb"),
        events=2000,
        kills=2,
        emulator_restarts=1,
        emulator_state_dir=state_dir,
        hostile=8,
        seed=5,
        max_batch=100,
        out=out,
    )
    text = report.format()
    assert report.ok, out.getvalue() + text
    assert len(report.kills) == 2 and len(report.emulator_restarts) == 1, text
    # Each kill landed while that run was committing, not before it started.
    assert all(kill.committed_in_run > 0 for kill in report.kills), text
    # The job lived through the emulator's restart and committed from the new one.
    ended_on_restart = isinstance(report.faults[-1], EmulatorRestart)
    assert report.runs == len(report.kills) + 1 + ended_on_restart, text
    restart = report.emulator_restarts[0]
    assert restart.republished == 2008 and restart.reconnected_after >= 0, text
    assert report.malformed == 20 and report.duplicates == 20
    assert len(report.oversized) == 2 and report.conflicting == 6, text
    tables = report.tables
    assert tables["dead_letters/too_large"]["stored"] == 2, text
    assert tables["dead_letters/conflicting_duplicate"]["stored"] == 6, text
    assert tables["dead_letters"]["stored"] == 20 + 8, text
    assert tables["surveys"]["stored"] + tables["agent_notes"]["stored"] == 1960, text
