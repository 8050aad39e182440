"""Shared fixtures: a real Pub/Sub emulator for the session, fresh topics per test.

The emulator is started by the fixture and stopped at the end; if it cannot
start, the tests that need it fail (they never skip: a silent skip in CI
would hide a broken pipeline).
"""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import small_filesystem
from voc.pipelines.dev.emulator import EmulatorState, provision, running_emulator

PROJECT = "voc-test"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config) -> None:
    # Not root: a user and mount namespace of the run's own, for the disk-full tests'
    # tmpfs (tests/small_filesystem.py). First, while the process has a single thread.
    small_filesystem.enter_own_namespaces()

    # A fixed pseudonym key for the run and the jobs it starts, so no test writes a key
    # file into the checkout (one created by another user could not be read).
    os.environ.setdefault("VOC_PSEUDONYM_KEY", "5eed" * 8)

    # Imported only now: it starts threads (numpy's).
    from apache_beam.testing.test_pipeline import TestPipeline

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
    """A real, tiny filesystem (tmpfs) that a test can fill up and free again.

    The test process and the programs it starts see it at ``path`` alike.
    """

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
    """A 32 MiB tmpfs of the test's own, as root or not (see tests/small_filesystem.py).

    A real full disk, not a patched write(): what matters is how DuckDB itself
    fails and recovers when the kernel says ENOSPC. Where no tmpfs can be
    mounted, the test fails and says what is missing.
    """
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    try:
        small_filesystem.mount_tmpfs(mount_point, size_mib=32)
    except small_filesystem.SmallFilesystemUnavailable as missing:
        pytest.fail(str(missing))
    try:
        yield SmallDisk(mount_point)
    finally:
        small_filesystem.unmount(mount_point)
