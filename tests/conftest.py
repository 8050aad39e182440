"""Shared fixtures: a real Pub/Sub emulator for the session, fresh topics per test.

The emulator is started by the fixture and stopped at the end; if it cannot
start, the tests that need it fail (they never skip: a silent skip in CI
would hide a broken pipeline).
"""

from __future__ import annotations

import errno
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from apache_beam.testing.test_pipeline import TestPipeline

from voc.pipelines.dev.emulator import EmulatorState, provision, running_emulator

PROJECT = "voc-test"

# Name the runner: the default DirectRunner first tries to download Prism, which
# fails offline and costs seconds per pipeline before it falls back.
TestPipeline.pytest_test_pipeline_options = "--runner=BundleBasedDirectRunner"


@pytest.fixture(scope="session")
def pubsub_emulator(tmp_path_factory) -> Iterator[EmulatorState]:
    with running_emulator(Path(tmp_path_factory.mktemp("pubsub-emulator")), PROJECT) as state:
        yield state


@dataclass(frozen=True)
class Topology:
    """Topics and subscriptions private to one test."""

    project: str
    topics: dict[str, str]  # logical topic (surveys, agent-notes) -> real topic name
    subscriptions: dict[str, str]  # logical topic -> subscription path


@pytest.fixture
def pubsub_topology(pubsub_emulator) -> Topology:
    suffix = uuid.uuid4().hex[:8]
    topics = {"surveys": f"surveys-{suffix}", "agent-notes": f"agent-notes-{suffix}"}
    created = provision(
        pubsub_emulator.address,
        PROJECT,
        {real: f"{real}-sub" for real in topics.values()},
        ack_deadline_seconds=10,
    )
    return Topology(
        project=PROJECT,
        topics=topics,
        subscriptions={logical: created[real] for logical, real in topics.items()},
    )


@dataclass
class SmallDisk:
    """A real, tiny filesystem (tmpfs) that a test can fill up and free again."""

    path: Path

    def fill(self) -> None:
        """Write a ballast file until the filesystem says it is full, to the last byte."""
        fd = os.open(self.path / "ballast", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            chunk = 1 << 20
            while chunk:
                try:
                    os.write(fd, b"\0" * chunk)
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    chunk //= 2
        finally:
            os.close(fd)

    def free(self) -> None:
        (self.path / "ballast").unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path) -> Iterator[SmallDisk]:
    """A 32 MiB tmpfs of the test's own; mounting one needs root, as in CI.

    A real full disk, not a patched write(): what matters is how DuckDB itself
    fails and recovers when the kernel says ENOSPC.
    """
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.fail(f"the disk-full tests mount a tmpfs and need root: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(mount_point)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
