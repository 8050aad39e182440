"""Chaos check: ``kill -9`` the job mid-stream, restart it, and prove nothing was
lost or doubled.

    make chaos                                        # 20,000 events, 3 kills
    python -m voc.pipelines.dev.chaos --events 5000 --kills 5

What it does: publish N generated events (~1% duplicate deliveries, ~1%
malformed), start ``voc run`` as a child process, send it SIGKILL at random
points while it is committing (no drain, no cleanup: the process simply
vanishes), restart it each time, then let a last run drain the subscriptions.
The DuckDB file must then hold exactly what a single perfect run would:

- every valid unique event once in ``surveys`` / ``agent_notes``, no others;
- exactly the tags the packaged taxonomy gives those events, no others;
- every malformed message (by Pub/Sub message id) once in ``dead_letters``.

Why it can pass: the local source acknowledges a message only after the rows
made from it are committed, so a kill leaves everything uncommitted on the
subscription, and Pub/Sub delivers it again once its (short) lease runs out;
the sink keys every row, so a redelivery of something committed just before
the kill adds nothing. See docs/architecture.md, "Delivery".
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from voc.pipelines.dev.generate import GeneratedMessage, generate_events
from voc.pipelines.ops.publish import publish_messages
from voc.pipelines.options import job_flags

_COMMITTED = re.compile(r"committed\s+([\d,]+)")
_PULLED = re.compile(r"pulled\s+([\d,]+)")
_IN_FLIGHT = re.compile(r"in flight\s+([\d,]+)")


@dataclass(frozen=True)
class Outcome:
    """What the tables hold, by what identifies each row: the event ids of the fact
    tables, the (event, cause) pairs of the tags and the Pub/Sub ids of the dead
    letters. Expected outcomes hold each once; observed ones keep any duplicates."""

    surveys: Collection[str]
    agent_notes: Collection[str]
    tags: Collection[tuple[str, str]]
    dead_letter_message_ids: Collection[str]


def expected_outcome(
    messages: Sequence[GeneratedMessage], message_ids: Sequence[str], taxonomy_path: str | None
) -> Outcome:
    """Parse and tag every valid message in this process, as the job would."""
    from voc.transforms.parse_event import parse_message
    from voc.transforms.records import ReceivedMessage
    from voc.transforms.tag_feedback import shared_taxonomy, tag_event

    taxonomy = shared_taxonomy(taxonomy_path)
    surveys, notes, tags, malformed = set(), set(), set(), set()
    for generated, message_id in zip(messages, message_ids, strict=True):
        if generated.kind == "malformed":
            malformed.add(message_id)
            continue
        event = parse_message(
            ReceivedMessage(generated.data, generated.attributes, message_id, None)
        )
        (surveys if event.event_type == "survey" else notes).add(event.event_id)
        for cause in tag_event(event, taxonomy).causes:
            tags.add((event.event_id, cause.cause_id))
    return Outcome(frozenset(surveys), frozenset(notes), frozenset(tags), frozenset(malformed))


def observed_outcome(duckdb_path: str) -> Outcome:
    with duckdb.connect(duckdb_path, read_only=True) as con:

        def column(sql: str) -> list:
            return [row[0] if len(row) == 1 else tuple(row) for row in con.execute(sql).fetchall()]

        return Outcome(
            surveys=column("select event_id from surveys"),
            agent_notes=column("select event_id from agent_notes"),
            tags=column("select event_id, cause_id from feedback_tags"),
            dead_letter_message_ids=column("select message_id from dead_letters"),
        )


def compare(expected: Outcome, observed: Outcome) -> dict[str, dict[str, int]]:
    """Per table: expected, stored, missing, doubled (stored more than once), extra."""
    result = {}
    for table in ("surveys", "agent_notes", "tags", "dead_letter_message_ids"):
        want = set(getattr(expected, table))
        got = list(getattr(observed, table))
        distinct = set(got)
        result[table] = {
            "expected": len(want),
            "stored": len(got),
            "missing": len(want - distinct),
            "doubled": len(got) - len(distinct),
            "extra": len(distinct - want),
        }
    return result


@dataclass
class Kill:
    after_seconds: float
    committed_in_run: int
    # Pulled by that run but not committed when it died: delivered again later.
    in_flight: int


@dataclass
class ChaosReport:
    published: int
    duplicates: int
    malformed: int
    seed: int
    kills: list[Kill] = field(default_factory=list)
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.tables) and all(
            row["missing"] == row["doubled"] == row["extra"] == 0
            and row["stored"] == row["expected"]
            for row in self.tables.values()
        )

    def format(self) -> str:
        lines = [
            f"published {self.published:,} messages ({self.duplicates:,} duplicate deliveries, "
            f"{self.malformed:,} malformed); {len(self.kills)} kill -9, "
            f"{len(self.kills) + 1} runs, {self.seconds:.0f} s (seed {self.seed})",
        ]
        for number, kill in enumerate(self.kills, 1):
            lines.append(
                f"  kill {number}: SIGKILL {kill.after_seconds:.1f} s after start, "
                f"{kill.committed_in_run:,} messages committed by that run, "
                f"{kill.in_flight:,} in flight (to be delivered again)"
            )
        names = {"tags": "feedback_tags", "dead_letter_message_ids": "dead_letters"}
        lines.append(
            f"  {'table':<14} {'expected':>9} {'stored':>9} {'missing':>8} {'doubled':>8} "
            f"{'extra':>6}"
        )
        for table, row in self.tables.items():
            lines.append(
                f"  {names.get(table, table):<14} {row['expected']:>9,} {row['stored']:>9,} "
                f"{row['missing']:>8,} {row['doubled']:>8,} {row['extra']:>6,}"
            )
        lines.append("chaos: PASS, exactly once" if self.ok else "chaos: FAIL")
        return "\n".join(lines)


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


def run_chaos(
    *,
    project: str,
    topics: dict[str, str],
    subscriptions: dict[str, str],
    emulator_address: str,
    duckdb_path: str,
    events: int = 20_000,
    kills: int = 3,
    seed: int = 11,
    max_batch: int = 1000,
    idle_seconds: float = 15.0,
    out=sys.stdout,
) -> ChaosReport:
    """Publish, kill and restart the job ``kills`` times, drain, then compare."""
    started = time.monotonic()
    rng = random.Random(seed)

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    messages, generated = generate_events(events, seed=seed)
    message_ids = publish_messages(messages, project, topics=topics)
    say(f"chaos: published {len(message_ids):,} messages")
    expected = expected_outcome(messages, message_ids, None)
    report = ChaosReport(len(message_ids), generated.duplicates, generated.malformed, seed)

    env = dict(os.environ, PUBSUB_EMULATOR_HOST=emulator_address)
    argv = [
        *job_flags(project, subscriptions, duckdb_path),
        f"--max-batch={max_batch}",
        "--progress-every=0.1",
    ]
    # Kill points: random shares of the stream, and never before the run has
    # committed something, so every kill lands while the job is committing; a
    # random extra delay puts it anywhere inside a bundle.
    targets = sorted(rng.uniform(0.05, 0.85) * len(message_ids) for _ in range(kills))
    committed_before = 0
    for number, target in enumerate(targets, 1):
        job = JobProcess(argv, env, say)
        deadline = time.monotonic() + 300
        while job.running and (job.committed == 0 or committed_before + job.committed < target):
            if time.monotonic() > deadline:
                raise RuntimeError("chaos: the job made no progress for 300 s")
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        if not job.running:
            raise RuntimeError(
                f"chaos: the job exited (code {job.process.returncode}) before kill {number}: "
                + " | ".join(job.lines[-5:])
            )
        kill = job.kill()
        committed_before += kill.committed_in_run
        report.kills.append(kill)
        say(
            f"chaos: kill {number}: SIGKILL after {kill.after_seconds:.1f} s "
            f"({kill.committed_in_run:,} committed by that run, {kill.in_flight:,} in flight); "
            "restarting"
        )

    final = JobProcess([*argv, f"--stop-when-idle={idle_seconds}"], env, say)
    code = final.wait(timeout=600)
    if code != 0:
        raise RuntimeError(f"chaos: the last run exited {code}: " + " | ".join(final.lines[-5:]))
    say(f"chaos: last run drained the subscriptions ({final.committed:,} committed)")
    report.tables = compare(expected, observed_outcome(duckdb_path))
    report.seconds = time.monotonic() - started
    return report


def main(argv: Sequence[str] | None = None) -> int:
    from voc.pipelines.dev.emulator import provision, running_emulator
    from voc.pipelines.logs import configure_logging
    from voc.pipelines.topology import DEFAULT_PROJECT, TOPOLOGY

    configure_logging()
    parser = argparse.ArgumentParser(prog="python -m voc.pipelines.dev.chaos", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument(
        "--seed", type=int, default=None, help="kill points and events (default: random, printed)"
    )
    parser.add_argument("--max-batch", type=int, default=1000)
    parser.add_argument("--duckdb", default=None, help="file to load (default: a fresh temp file)")
    args = parser.parse_args(argv)
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1_000_000)
    if args.events < 100 or args.kills < 1:
        parser.exit(2, "python -m voc.pipelines.dev.chaos: need --events >= 100 and --kills >= 1\n")

    with tempfile.TemporaryDirectory(prefix="voc-chaos-") as scratch:
        duckdb_path = args.duckdb or str(Path(scratch) / "chaos.duckdb")
        with running_emulator(Path(scratch) / "emulator", DEFAULT_PROJECT) as emulator:
            created = provision(emulator.address, DEFAULT_PROJECT)
            report = run_chaos(
                project=DEFAULT_PROJECT,
                topics={topic: topic for topic in TOPOLOGY},
                subscriptions=created,
                emulator_address=emulator.address,
                duckdb_path=duckdb_path,
                events=args.events,
                kills=args.kills,
                seed=args.seed,
                max_batch=args.max_batch,
            )
    print(report.format(), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
