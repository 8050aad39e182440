"""`voc demo` end to end, and `voc run` draining on SIGTERM."""

from __future__ import annotations

import io
import os
import signal
import time

import duckdb
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from voc.pipelines.dev.chaos import JobProcess
from voc.pipelines.dev.demo import run_demo
from voc.pipelines.dev.generate import generate_events
from voc.pipelines.local_driver import run_job
from voc.pipelines.ops.publish import publish_messages
from voc.pipelines.options import job_flags

pytestmark = pytest.mark.integration


def test_demo_counts_match_the_generator(tmp_path):
    out = io.StringIO()
    result = run_demo(
        events=600,
        seed=3,
        days=3,  # too short for an alert baseline: tests/integration/test_event_time_job
        duckdb_path=str(tmp_path / "voc.duckdb"),
        state_dir=tmp_path / "emu",
        out=out,
    )
    assert result.mismatches == []
    assert result.counts["surveys"] == result.report.valid_surveys > 0
    text = out.getvalue()
    assert "Per-department summary" in text and "top_cause" in text
    assert "voc run:" in text  # the progress line
    for section in ("Rising causes", "Spike alerts", "First-contact resolution"):
        assert section in text
    assert "interactions" in text and "rollup rows" in text
    assert not (tmp_path / "emu" / "state.json").exists(), "the demo must stop its emulator"


def test_sigterm_drains_in_flight_work_and_exits_zero(pubsub_emulator, pubsub_topology, tmp_path):
    messages, report = generate_events(3000, seed=5)
    publish_messages(messages, pubsub_topology.project, topics=pubsub_topology.topics)
    db = tmp_path / "voc.duckdb"
    flags = job_flags(pubsub_topology.project, pubsub_topology.subscriptions, db)
    job = JobProcess(
        [*flags, "--max-batch=200", "--progress-every=0.5"],
        dict(os.environ, PUBSUB_EMULATOR_HOST=pubsub_emulator.address),
    )
    # Wait until the job has committed something, then ask it to stop mid-stream.
    deadline = time.monotonic() + 60
    while job.committed == 0 and job.running and time.monotonic() < deadline:
        time.sleep(0.05)
    job.process.send_signal(signal.SIGTERM)
    assert job.wait(timeout=60) == 0, "\n".join(job.lines)
    rest = "\n".join(job.lines)
    assert "SIGTERM: draining" in rest
    assert "Traceback" not in rest

    # Restart: whatever the first run had not committed is still on the subscription.
    run_job(PipelineOptions([*flags, "--stop-when-idle=1.5"]))
    with duckdb.connect(str(db), read_only=True) as con:
        counts = con.execute(
            "select (select count(*) from surveys), (select count(*) from agent_notes), "
            "(select count(*) from dead_letters)"
        ).fetchone()
    assert counts == (report.valid_surveys, report.valid_notes, report.malformed)
