"""The job waits out a locked DuckDB file and a full disk, acking nothing it could not write.

Real conditions, not patched functions: another process holding the file's
lock, and a tmpfs filled to its last byte.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from pipelines.chaos import compare, expected_outcome, observed_outcome
from pipelines.generate import generate_events
from pipelines.publish import publish_messages
from tests.transforms.helpers import DuckDBLockHolder

pytestmark = pytest.mark.integration


class Job:
    """``voc run`` in a child process; its stderr lines collected as they come."""

    def __init__(self, topology, emulator, db: str, *extra: str) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "pipelines.cli", "run",
                f"--project={topology.project}",
                f"--surveys-subscription={topology.subscriptions['surveys']}",
                f"--notes-subscription={topology.subscriptions['agent-notes']}",
                f"--duckdb={db}", "--progress-every=0.2", *extra,
            ],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
            env=dict(os.environ, PUBSUB_EMULATOR_HOST=emulator.address),
        )  # fmt: skip
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip())

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 90) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if re.search(pattern, line)]
            if len(found) >= count:
                return found
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {count}x {pattern!r} in:\n" + "\n".join(self.lines[-30:]))

    def committed(self) -> int:
        progress = [line for line in self.lines if "committed" in line and "voc run:" in line]
        if not progress:
            return 0
        return int(re.search(r"committed\s+([\d,]+)", progress[-1]).group(1).replace(",", ""))

    def in_flight(self) -> int:
        progress = [line for line in self.lines if "in flight" in line and "voc run:" in line]
        if not progress:
            return 0
        return int(re.search(r"in flight\s+([\d,]+)", progress[-1]).group(1).replace(",", ""))

    def finish(self, timeout: float = 120) -> int:
        code = self.process.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return code


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
    job = Job(pubsub_topology, pubsub_emulator, db, "--stop-when-idle=3")
    try:
        said = job.wait_for(r"locked by another process", count=2)
    finally:
        holder.release()
    assert f"PID {holder.pid}" in said[0] and "retrying in" in said[0]
    assert job.committed() == 0
    assert job.finish() == 0, "\n".join(job.lines)
    assert "Traceback" not in "\n".join(job.lines)
    assert_exactly_once(expected, db)


def test_a_full_disk_is_retried_without_acking_then_drained(
    pubsub_emulator, pubsub_topology, small_disk
):
    db = str(small_disk.path / "voc.duckdb")
    job = Job(pubsub_topology, pubsub_emulator, db, "--stop-when-idle=4", "--max-batch=500")
    job.wait_for(r"voc run: .*committed")  # running, file created and migrated
    small_disk.fill()
    expected = publish(pubsub_topology, 1500, seed=22)
    job.wait_for(r"disk full")
    # A commit small enough for the last partly used page may still succeed, and is
    # then acknowledged; what must not happen is an ack while the write keeps failing.
    time.sleep(0.6)  # let the progress line (every 0.2 s) catch up with the first failure
    committed, in_flight = job.committed(), job.in_flight()
    said = job.wait_for(r"disk full", count=4)
    assert "nothing was acknowledged" in said[0] and "retrying in" in said[0]
    assert job.committed() == committed and job.in_flight() == in_flight > 0, "\n".join(job.lines)
    small_disk.free()
    assert job.finish() == 0, "\n".join(job.lines)
    assert "Traceback" not in "\n".join(job.lines)
    assert job.committed() == 1500, "\n".join(job.lines)
    assert_exactly_once(expected, db)


def test_sigterm_on_a_full_disk_gives_up_after_the_grace_and_loses_nothing(
    pubsub_emulator, pubsub_topology, small_disk
):
    db = str(small_disk.path / "voc.duckdb")
    job = Job(pubsub_topology, pubsub_emulator, db, "--stop-grace=2", "--max-batch=300")
    job.wait_for(r"voc run: .*committed")
    small_disk.fill()
    expected = publish(pubsub_topology, 600, seed=23)
    job.wait_for(r"disk full")
    time.sleep(0.6)  # let the progress line catch up with the first failure
    committed = job.committed()
    job.wait_for(r"disk full", count=3)
    job.process.send_signal(signal.SIGTERM)
    assert job.finish(timeout=60) == 1
    text = "\n".join(job.lines)
    assert "Traceback" not in text
    last = job.lines[-1]
    assert last.startswith("voc run: ") and "disk full" in last and "delivered again" in last, text
    assert job.committed() == committed and job.in_flight() > 0, text

    # Once the disk has room again, a restart stores every message exactly once; the
    # failed run handed its leases back, so they need not expire first.
    small_disk.free()
    again = Job(pubsub_topology, pubsub_emulator, db, "--stop-when-idle=3")
    assert again.finish() == 0, "\n".join(again.lines)
    assert_exactly_once(expected, db)
