"""Start, stop and provision the Google Cloud Pub/Sub emulator for local runs and tests.

The emulator is the real Pub/Sub wire protocol, so the same client code runs
against it and against Pub/Sub. It is started in its own process group (gcloud
starts a Java child) so stopping it never leaves a JVM behind, and its state
(pid, port, data dir) is written to a small JSON file so ``voc emulator stop``
and ``voc emulator env`` work from another shell.

    voc emulator start            # prints: export PUBSUB_EMULATOR_HOST=127.0.0.1:PORT
    eval "$(voc emulator env)"
    voc emulator stop
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from voc.pipelines.arguments import MAX_PORT
from voc.pipelines.topology import ACK_DEADLINE_SECONDS, DEFAULT_PROJECT, TOPOLOGY

DEFAULT_STATE_DIR = Path(".voc") / "emulator"


class EmulatorError(RuntimeError):
    """The emulator could not be started, found or reached."""


@dataclass(frozen=True)
class EmulatorState:
    pid: int
    host: str
    port: int
    project: str
    data_dir: str
    log_path: str

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def env_line(self) -> str:
        return f"export PUBSUB_EMULATOR_HOST={self.address} PUBSUB_PROJECT_ID={self.project}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_emulator(
    state_dir: Path = DEFAULT_STATE_DIR,
    project: str = DEFAULT_PROJECT,
    port: int | None = None,
    timeout: float = 90.0,
) -> EmulatorState:
    """Start the emulator in the background and wait until it accepts connections."""
    # Ports are checked here, not left to the emulator: it logs a Java stack trace for
    # a bad port and exits 0, and a port that is taken would look like a running emulator.
    if port is not None and not 1 <= port <= MAX_PORT:
        raise EmulatorError(f"port {port} is not a TCP port (1-{MAX_PORT})")
    state_dir = Path(state_dir).resolve()
    existing = read_state(state_dir)
    if existing is not None and _alive(existing.pid):
        raise EmulatorError(
            f"an emulator is already running (pid {existing.pid}, {existing.address}); "
            "run 'voc emulator stop' first"
        )
    host = "127.0.0.1"
    if port is not None and _port_open(host, port):
        raise EmulatorError(f"port {port} on {host} is already in use")
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        raise EmulatorError(
            "gcloud not found on PATH; install the Google Cloud CLI with its "
            "pubsub-emulator component (Debian: google-cloud-cli-pubsub-emulator)"
        )
    data_dir = state_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / "emulator.log"
    port = port or free_port(host)
    env = dict(os.environ, CLOUDSDK_CORE_DISABLE_PROMPTS="1")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                gcloud, "beta", "emulators", "pubsub", "start",
                f"--host-port={host}:{port}", f"--data-dir={data_dir}", f"--project={project}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )  # fmt: skip
    state = EmulatorState(process.pid, host, port, project, str(data_dir), str(log_path))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-500:].strip().replace("\n", " | ")
            raise EmulatorError(
                f"the emulator exited (code {process.returncode}) before listening on "
                f"{host}:{port}: {tail}"
            )
        if _port_open(host, port):
            write_state(state_dir, state)
            return state
        time.sleep(0.2)
    _kill_group(process.pid)
    raise EmulatorError(f"the emulator did not listen on {host}:{port} within {timeout:.0f} s")


def _kill_group(pid: int, grace: float = 10.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        # Reap it if it is our child: a zombie leader keeps the group "alive".
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    else:
        with suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def stop_emulator(state_dir: Path = DEFAULT_STATE_DIR) -> EmulatorState | None:
    """Stop the emulator recorded in state_dir; returns what was stopped, if anything."""
    state_dir = Path(state_dir).resolve()
    state = read_state(state_dir)
    if state is None:
        return None
    _kill_group(state.pid)
    (state_dir / "state.json").unlink(missing_ok=True)
    return state


def crash_and_restart_emulator(
    state_dir: Path = DEFAULT_STATE_DIR, down_seconds: float = 0.0, timeout: float = 90.0
) -> EmulatorState:
    """``kill -9`` the recorded emulator and start it again on the same host:port.

    For fault tests: SIGKILL of the whole process group, no grace, as a crash or an
    OOM kill would do, then a new emulator where clients already point, so a job
    that keeps its ``PUBSUB_EMULATOR_HOST`` can reconnect by itself. The new one is
    empty: the emulator keeps topics, subscriptions and messages in memory only
    (its ``--data-dir`` receives nothing but an ``env.yaml``, crash or clean stop
    alike), so the caller provisions again and re-publishes what it needs.
    """
    state_dir = Path(state_dir).resolve()
    state = read_state(state_dir)
    if state is None:
        raise EmulatorError(f"no emulator is recorded in {state_dir}")
    with suppress(ProcessLookupError):
        os.killpg(state.pid, signal.SIGKILL)
    # Reap it if it is our child, so its pid is free and start_emulator sees it gone.
    with suppress(ChildProcessError):
        os.waitpid(state.pid, 0)
    deadline = time.monotonic() + timeout
    while _port_open(state.host, state.port):
        if time.monotonic() > deadline:
            raise EmulatorError(f"{state.address} still accepts connections after SIGKILL")
        time.sleep(0.05)
    time.sleep(down_seconds)
    return start_emulator(state_dir, state.project, port=state.port, timeout=timeout)


def write_state(state_dir: Path, state: EmulatorState) -> None:
    path = Path(state_dir) / "state.json"
    path.write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")


def read_state(state_dir: Path = DEFAULT_STATE_DIR) -> EmulatorState | None:
    path = Path(state_dir) / "state.json"
    if not path.is_file():
        return None
    try:
        return EmulatorState(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as error:
        raise EmulatorError(f"{path} is not an emulator state file: {error}") from None


def provision(
    address: str,
    project: str = DEFAULT_PROJECT,
    topology: dict[str, str] | None = None,
    ack_deadline_seconds: int = ACK_DEADLINE_SECONDS,
) -> dict[str, str]:
    """Create the topics and subscriptions if missing; returns topic -> subscription path."""
    from google.api_core.exceptions import AlreadyExists
    from google.cloud import pubsub_v1

    os.environ["PUBSUB_EMULATOR_HOST"] = address
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    created = {}
    try:
        for topic, subscription in (topology or TOPOLOGY).items():
            topic_path = publisher.topic_path(project, topic)
            sub_path = subscriber.subscription_path(project, subscription)
            with suppress(AlreadyExists):
                publisher.create_topic(name=topic_path, timeout=30)
            with suppress(AlreadyExists):
                subscriber.create_subscription(
                    request={
                        "name": sub_path,
                        "topic": topic_path,
                        "ack_deadline_seconds": ack_deadline_seconds,
                    },
                    timeout=30,
                )
            created[topic] = sub_path
    finally:
        subscriber.close()
        publisher.transport.close()
    return created


@contextmanager
def running_emulator(state_dir: Path, project: str = DEFAULT_PROJECT) -> Iterator[EmulatorState]:
    """An emulator for the duration of a block (demo, tests, benchmarks)."""
    state = start_emulator(state_dir, project)
    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    os.environ["PUBSUB_EMULATOR_HOST"] = state.address
    try:
        yield state
    finally:
        stop_emulator(state_dir)
        if previous is None:
            os.environ.pop("PUBSUB_EMULATOR_HOST", None)
        else:
            os.environ["PUBSUB_EMULATOR_HOST"] = previous
