"""``voc run`` as a child process whose progress lines are followed, and its kills."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

_COMMITTED = re.compile(r"committed\s+([\d,]+)")
_PULLED = re.compile(r"pulled\s+([\d,]+)")
_IN_FLIGHT = re.compile(r"in flight\s+([\d,]+)")


@dataclass
class Kill:
    after_seconds: float
    committed_in_run: int
    # Pulled by that run but not committed when it died: delivered again later.
    in_flight: int


class JobProcess:
    """``voc run`` in a child process, its progress lines followed as they come.

    ``committed``, ``pulled`` and ``in_flight`` are from the newest progress line,
    so they lag the job by up to one ``--progress-every`` interval.
    """

    def __init__(self, argv: list[str], env: dict[str, str], log=None) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "voc.pipelines.cli", "run", *argv],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.committed = self.pulled = self.in_flight = 0
        self.lines: list[str] = []
        self._log = log
        self._reader = threading.Thread(target=self._follow, daemon=True)
        self._reader.start()

    def _follow(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip())
            committed = _COMMITTED.search(line)
            if committed:
                self.committed = _number(committed)
                pulled, in_flight = _PULLED.search(line), _IN_FLIGHT.search(line)
                self.pulled = _number(pulled) if pulled else self.pulled
                self.in_flight = _number(in_flight) if in_flight else self.in_flight
            elif self._log is not None:
                self._log(f"    job: {line.rstrip()}")

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 90) -> list[str]:
        """The first ``count`` stderr lines matching ``pattern``, once there are that many."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if re.search(pattern, line)]
            if len(found) >= count:
                return found
            if not self.running:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {count}x {pattern!r} in:\n" + "\n".join(self.lines[-30:]))

    def kill(self) -> Kill:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=60)
        self._reader.join(timeout=10)
        return Kill(
            time.monotonic() - self.started, self.committed, max(self.pulled - self.committed, 0)
        )

    def wait(self, timeout: float = 120) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code

    @property
    def running(self) -> bool:
        return self.process.poll() is None


def _number(match: re.Match) -> int:
    return int(match.group(1).replace(",", ""))
