"""A throwaway PostgreSQL cluster for tests: the DuckLake catalog runs on a real server.

``initdb`` + ``pg_ctl`` start a private cluster in a temporary directory on a free
port, listening on a Unix socket in that directory only (no TCP), with trust
authentication for its own user; stopping it removes the directory. We run as
root in CI and PostgreSQL refuses to run as root, so the server runs as the
``postgres`` OS user (``runuser -u postgres``); as any other user it runs as that
user. A machine without the server binaries fails the test with a line saying
what to install, rather than skipping it.

    with PostgresCluster.start(tmp_path) as pg:
        catalog = pg.catalog("lake1")     # 'postgres:dbname=lake1 host=... port=...'

Other tests may import the ``postgres_cluster`` fixture from here.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_USER = "postgres"
BINARIES = ("initdb", "pg_ctl", "createdb")


class PostgresMissing(RuntimeError):
    """The PostgreSQL server binaries are not installed; one line naming them."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user() -> list[str]:
    """The prefix that runs a command as the cluster's owner: ``postgres`` when root."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        raise PostgresMissing("running as root needs runuser to start PostgreSQL as 'postgres'")
    return ["runuser", "-u", SERVER_USER, "--"]


@dataclass
class PostgresCluster:
    root: Path
    port: int
    prefix: list[str]

    @property
    def socket_dir(self) -> Path:
        return self.root

    @classmethod
    def start(cls, parent: Path | None = None) -> PostgresCluster:
        missing = [name for name in BINARIES if shutil.which(name) is None]
        if missing:
            # Debian's postgresql package keeps the server binaries off PATH.
            for found in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
                if all((found / name).exists() for name in BINARIES):
                    os.environ["PATH"] = f"{found}{os.pathsep}{os.environ.get('PATH', '')}"
                    missing = []
                    break
        if missing:
            raise PostgresMissing(
                f"PostgreSQL server binaries not on PATH: {', '.join(missing)} "
                "(install postgresql, e.g. apt-get install postgresql)"
            )
        prefix = _as_server_user()
        # Unix socket paths are limited to ~100 bytes: a short directory under /tmp.
        root = Path(tempfile.mkdtemp(prefix="vocpg-", dir=parent if parent else "/tmp"))
        if prefix:
            shutil.chown(root, user=SERVER_USER)
        cluster = cls(root, _free_port(), prefix)
        try:
            cluster._run("initdb", "-D", str(root / "data"), "-A", "trust", "-U", SERVER_USER)
            options = f"-p {cluster.port} -k {root} -c listen_addresses='' -c fsync=off"
            cluster._run(
                "pg_ctl",
                "-D",
                str(root / "data"),
                "-o",
                options,
                "-l",
                str(root / "log"),
                "-w",
                "start",
            )
        except Exception:
            cluster.stop()
            raise
        return cluster

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            [*self.prefix, *command], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            log = self.root / "log"
            tail = log.read_text(errors="replace")[-800:] if log.is_file() else ""
            raise RuntimeError(
                f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[-800:]} {tail}"
            )

    def create_database(self, name: str) -> None:
        self._run("createdb", "-h", str(self.root), "-p", str(self.port), "-U", SERVER_USER, name)

    def catalog(self, database: str) -> str:
        """A new database's DuckLake catalog string: ``postgres:dbname=... host=...``."""
        self.create_database(database)
        return f"postgres:dbname={database} host={self.root} port={self.port} user={SERVER_USER}"

    def stop(self) -> None:
        if (self.root / "data" / "postmaster.pid").exists():
            subprocess.run(
                [*self.prefix, "pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One cluster for the session; each test takes its own database (``catalog(name)``)."""
    try:
        cluster = PostgresCluster.start()
    except PostgresMissing as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()
