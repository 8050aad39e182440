"""The job waits out a locked DuckDB file and a full disk, acking nothing it could not write.

Real conditions, not patched functions: another process holding the file's
lock, and a tmpfs filled to its last byte.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.transforms.helpers import DuckDBLockHolder
from voc.pipelines.dev.chaos import JobProcess, compare, expected_outcome, observed_outcome
from voc.pipelines.dev.generate import generate_events
from voc.pipelines.ops.publish import publish_messages
from voc.pipelines.options import job_flags

pytestmark = pytest.mark.integration


def start_job(topology, emulator, db: str, *extra: str) -> JobProcess:
    flags = job_flags(topology.project, topology.subscriptions, db)
    env = dict(os.environ, PUBSUB_EMULATOR_HOST=emulator.address)
    return JobProcess([*flags, "--progress-every=0.2", *extra], env)


def publish(topology, n: int, seed: int):
    messages, _ = generate_events(n, seed=seed)
    ids = publish_messages(messages, topology.project, topics=topology.topics)
    return expected_outcome(messages, ids, None)


def assert_exactly_once(expected, db: str) -> None:
    for table, row in compare(expected, observed_outcome(db)).items():
        assert row["stored"] == row["expected"] and row["missing"] == row["doubled"] == 0, (
            table,
            row,
        )


def test_a_locked_file_is_waited_for_and_named(pubsub_emulator, pubsub_topology, tmp_path):
    db = str(tmp_path / "voc.duckdb")
    expected = publish(pubsub_topology, 400, seed=21)
    holder = DuckDBLockHolder(db)
    job = start_job(pubsub_topology, pubsub_emulator, db, "--stop-when-idle=3")
    try:
        said = job.wait_for(r"locked by another process", count=2)
    finally:
        holder.release()
    assert f"PID {holder.pid}" in said[0] and "retrying in" in said[0]
    assert job.committed == 0
    assert job.wait() == 0, "\n".join(job.lines)
    assert "Traceback" not in "\n".join(job.lines)
    assert_exactly_once(expected, db)


def test_a_full_disk_is_retried_without_acking_then_drained(
    pubsub_emulator, pubsub_topology, small_disk
):
    db = str(small_disk.path / "voc.duckdb")
    job = start_job(pubsub_topology, pubsub_emulator, db, "--stop-when-idle=4", "--max-batch=500")
    job.wait_for(r"voc run: .*committed")  # running, file created and migrated
    small_disk.fill()
    expected = publish(pubsub_topology, 1500, seed=22)
    job.wait_for(r"disk full")
    # A commit small enough for the last partly used page may still succeed, and is
    # then acknowledged; what must not happen is an ack while the write keeps failing.
    time.sleep(0.6)  # let the progress line (every 0.2 s) catch up with the first failure
    committed, in_flight = job.committed, job.in_flight
    said = job.wait_for(r"disk full", count=4)
    assert "nothing was acknowledged" in said[0] and "retrying in" in said[0]
    assert job.committed == committed and job.in_flight == in_flight > 0, "\n".join(job.lines)
    small_disk.free()
    assert job.wait() == 0, "\n".join(job.lines)
    assert "Traceback" not in "\n".join(job.lines)
    assert job.committed == 1500, "\n".join(job.lines)
    assert_exactly_once(expected, db)


def test_sigterm_on_a_full_disk_gives_up_after_the_grace_and_loses_nothing(
    pubsub_emulator, pubsub_topology, small_disk
):
    db = str(small_disk.path / "voc.duckdb")
    job = start_job(pubsub_topology, pubsub_emulator, db, "--stop-grace=2", "--max-batch=300")
    job.wait_for(r"voc run: .*committed")
    small_disk.fill()
    expected = publish(pubsub_topology, 600, seed=23)
    job.wait_for(r"disk full")
    time.sleep(0.6)  # let the progress line catch up with the first failure
    committed = job.committed
    job.wait_for(r"disk full", count=3)
    job.process.send_signal(signal.SIGTERM)
    assert job.wait(timeout=60) == 1
    text = "\n".join(job.lines)
    assert "Traceback" not in text
    last = job.lines[-1]
    assert last.startswith("voc run: ") and "disk full" in last and "delivered again" in last, text
    assert job.committed == committed and job.in_flight > 0, text

    # Once the disk has room again, a restart stores every message exactly once; the
    # failed run handed its leases back, so they need not expire first.
    small_disk.free()
    again = start_job(pubsub_topology, pubsub_emulator, db, "--stop-when-idle=3")
    assert again.wait() == 0, "\n".join(again.lines)
    assert_exactly_once(expected, db)
