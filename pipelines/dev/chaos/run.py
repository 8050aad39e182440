"""The chaos run itself: faults planned, inflicted, and the tables compared."""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from voc.pipelines.dev.chaos.hostile import hostile_messages
from voc.pipelines.dev.chaos.job_process import JobProcess
from voc.pipelines.dev.chaos.outcome import compare, expected_outcome, observed_outcome
from voc.pipelines.dev.chaos.report import ChaosReport, EmulatorRestart
from voc.pipelines.dev.chaos.republish import Ledger
from voc.pipelines.dev.generate import generate_events
from voc.pipelines.options import job_flags


def plan_faults(
    rng: random.Random, kills: int, emulator_restarts: int, messages: int
) -> list[tuple[float, str]]:
    """(how many messages committed in all, "kill" or "emulator"), in order.

    Random shares of the stream; the first fault is always a kill, because the
    hostile burst is published while the job is down after it, and an emulator
    restart is more telling once there is a burst to publish again.
    """
    targets = sorted(rng.uniform(0.05, 0.85) * messages for _ in range(kills + emulator_restarts))
    rest = ["kill"] * (kills - 1) + ["emulator"] * emulator_restarts
    rng.shuffle(rest)
    return list(zip(targets, ["kill", *rest], strict=True))


class _Chaos:
    """The state of one chaos run: the faults are its methods."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        report: ChaosReport,
        rng: random.Random,
        argv: list[str],
        env: dict[str, str],
        duckdb_path: str,
        reprovision: Callable[[], None],
        say: Callable[[str], None],
    ) -> None:
        self.ledger, self.report, self.rng, self.say = ledger, report, rng, say
        self.argv, self.env, self.duckdb_path = argv, env, duckdb_path
        self.reprovision = reprovision
        self.committed_before = 0  # by the runs already killed
        self.hostile_published = False

    def start(self, extra: Sequence[str] = ()) -> JobProcess:
        self.report.runs += 1
        return JobProcess([*self.argv, *extra], self.env, self.say)

    def await_progress(self, job: JobProcess, mark: int, target: float = 0) -> float:
        """Until this run committed more than ``mark`` messages and all runs ``target``;
        then a random extra delay, so a fault lands anywhere inside a bundle. Returns
        when the progress was seen, before that delay."""
        deadline = time.monotonic() + 300
        while job.running and (
            job.committed <= mark or self.committed_before + job.committed < target
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("chaos: the job made no progress for 300 s")
            time.sleep(0.02)
        seen = time.monotonic()
        time.sleep(self.rng.uniform(0.0, 0.3))
        if not job.running:
            raise RuntimeError(
                f"chaos: the job exited (code {job.process.returncode}) while it should run: "
                + " | ".join(job.lines[-5:])
            )
        return seen

    def kill(self, job: JobProcess) -> None:
        kill = job.kill()
        self.committed_before += kill.committed_in_run
        self.report.faults.append(kill)
        self.say(
            f"chaos: kill {len(self.report.kills)}: SIGKILL after {kill.after_seconds:.1f} s "
            f"({kill.committed_in_run:,} committed by that run, {kill.in_flight:,} in flight)"
        )

    def publish_hostile(self, count: int) -> None:
        """While the job is down: conflicts only for events now committed for sure."""
        with duckdb.connect(self.duckdb_path, read_only=True) as con:
            committed = {
                row[0]
                for row in con.execute(
                    "select event_id from surveys union all select event_id from agent_notes"
                ).fetchall()
            }
        originals = [message for message, _ in self.ledger.entries]
        hostile = hostile_messages(self.rng, originals, committed, count)
        self.ledger.publish(hostile)
        self.hostile_published = True
        self.report.oversized = [len(m.data) for m in hostile if m.kind == "oversized"]
        self.report.conflicting = sum(m.kind == "conflicting" for m in hostile)
        self.say(
            f"chaos: published {len(hostile)} hostile messages ({len(self.report.oversized)} "
            f"oversized, {self.report.conflicting} conflicting duplicates)"
        )

    def restart_emulator(self, job: JobProcess, emulator_state_dir: Path) -> int:
        """kill -9 the emulator under the running job, bring it back empty, provision
        and re-publish, then wait until the job commits something it pulled from the new
        one. Returns the job's committed count by then: the next fault waits beyond it."""
        from voc.pipelines.dev.emulator import crash_and_restart_emulator

        after = time.monotonic() - job.started
        crashed = time.monotonic()
        # Down for a while, so the job meets refused connections, not just a blip.
        crash_and_restart_emulator(emulator_state_dir, down_seconds=self.rng.uniform(0.5, 2.0))
        # Nothing can be pulled while it is down: the job's count is final by now.
        pulled_before = job.pulled
        self.reprovision()
        back = time.monotonic()
        requests = self.ledger.republish()
        self.say(
            f"chaos: emulator restart: back after {back - crashed:.1f} s, "
            f"{len(self.ledger.entries):,} messages re-published in {requests:,} requests"
        )
        reconnected = self.await_progress(job, pulled_before)
        self.report.faults.append(
            EmulatorRestart(
                after, back - crashed, len(self.ledger.entries), requests, reconnected - back
            )
        )
        return job.committed

    def stop(self, job: JobProcess) -> None:
        """SIGTERM: the job drains what it has in flight and ends cleanly."""
        job.process.send_signal(signal.SIGTERM)
        code = job.wait(timeout=120)
        if code != 0:
            raise RuntimeError(
                f"chaos: a SIGTERM'd run exited {code}: " + " | ".join(job.lines[-5:])
            )


def derived_check(duckdb_path: str) -> tuple[list[str], dict[str, int]]:
    """The derived tables against a recomputation from the facts, after the kills."""
    import duckdb

    from voc.pipelines.ops.reconcile import RECOMPUTED, differences
    from voc.transforms.derived.settings import DEFAULT_SETTINGS

    with duckdb.connect(duckdb_path) as con:
        rows = {
            name: con.execute(f"select count(*) from {name}").fetchone()[0] for name in RECOMPUTED
        }
        return differences(con, DEFAULT_SETTINGS), rows


def run_chaos(
    *,
    project: str,
    topics: dict[str, str],
    subscriptions: dict[str, str],
    emulator_address: str,
    duckdb_path: str,
    events: int = 20_000,
    kills: int = 3,
    emulator_restarts: int = 0,
    emulator_state_dir: Path | None = None,
    hostile: int = 0,
    seed: int = 11,
    max_batch: int = 1000,
    idle_seconds: float = 15.0,
    out=sys.stdout,
) -> ChaosReport:
    """Publish; kill the job ``kills`` times and the emulator ``emulator_restarts`` times
    (the one recorded in ``emulator_state_dir``, which must hold nothing else of
    value: it comes back empty); slip ``hostile`` messages in; drain, then compare."""
    from voc.pipelines.dev.emulator import provision

    if kills < 1:
        raise ValueError("chaos needs at least one kill (the hostile burst follows the first)")
    if emulator_restarts and emulator_state_dir is None:
        raise ValueError("emulator restarts need the emulator's state dir")
    started = time.monotonic()
    rng = random.Random(seed)

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    def reprovision() -> None:
        real = {topics[logical]: path.rsplit("/", 1)[-1] for logical, path in subscriptions.items()}
        provision(emulator_address, project, real)

    messages, generated = generate_events(events, seed=seed)
    ledger = Ledger(project, topics)
    ledger.publish(messages)
    say(f"chaos: published {len(messages):,} messages")
    report = ChaosReport(len(messages), generated.duplicates, generated.malformed, seed)
    chaos = _Chaos(
        ledger=ledger,
        report=report,
        rng=rng,
        argv=[
            *job_flags(project, subscriptions, duckdb_path),
            f"--max-batch={max_batch}",
            "--progress-every=0.1",
        ],
        env=dict(os.environ, PUBSUB_EMULATOR_HOST=emulator_address),
        duckdb_path=duckdb_path,
        reprovision=reprovision,
        say=say,
    )
    # Each fault lands once the run has committed something (since its last fault),
    # so every kill hits a job that is committing.
    job, mark = None, 0
    for target, kind in plan_faults(rng, kills, emulator_restarts, len(messages)):
        if job is None:
            job, mark = chaos.start(), 0
        chaos.await_progress(job, mark, target)
        if kind == "kill":
            chaos.kill(job)
            job = None
            if hostile and not chaos.hostile_published:
                chaos.publish_hostile(hostile)
        else:
            assert emulator_state_dir is not None
            mark = chaos.restart_emulator(job, emulator_state_dir)
    if job is not None:  # the last fault was the emulator's: this run lived through it
        chaos.stop(job)
        say("chaos: the run that lived through the last emulator restart drained on SIGTERM")

    final = chaos.start([f"--stop-when-idle={idle_seconds}"])
    code = final.wait(timeout=600)
    if code != 0:
        raise RuntimeError(f"chaos: the last run exited {code}: " + " | ".join(final.lines[-5:]))
    say(f"chaos: last run drained the subscriptions ({final.committed:,} committed)")
    published, ids = zip(*ledger.entries, strict=True)
    report.tables = compare(expected_outcome(published, ids, None), observed_outcome(duckdb_path))
    report.derived_differences, report.derived_rows = derived_check(duckdb_path)
    report.seconds = time.monotonic() - started
    return report


def main(argv: Sequence[str] | None = None) -> int:
    from voc.pipelines.dev.emulator import provision, running_emulator
    from voc.pipelines.logs import configure_logging
    from voc.pipelines.topology import DEFAULT_PROJECT, TOPOLOGY

    configure_logging()
    parser = argparse.ArgumentParser(
        prog="python -m voc.pipelines.dev.chaos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--kills", type=int, default=3, help="kill -9s of the job (>= 1)")
    parser.add_argument(
        "--emulator-restarts",
        type=int,
        default=1,
        help="kill -9s of the emulator under the running job, each followed by a restart",
    )
    parser.add_argument(
        "--hostile",
        type=int,
        default=20,
        help="oversized messages (a quarter) and conflicting duplicates published mid-stream",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="faults and events (default: random, printed)"
    )
    parser.add_argument("--max-batch", type=int, default=1000)
    parser.add_argument("--duckdb", default=None, help="file to load (default: a fresh temp file)")
    args = parser.parse_args(argv)
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1_000_000)
    if args.events < 100 or args.kills < 1 or args.emulator_restarts < 0 or args.hostile < 0:
        parser.exit(
            2,
            "python -m voc.pipelines.dev.chaos: need --events >= 100, --kills >= 1, "
            "--emulator-restarts >= 0 and --hostile >= 0\n",
        )

    with tempfile.TemporaryDirectory(prefix="voc-chaos-") as scratch:
        duckdb_path = args.duckdb or str(Path(scratch) / "chaos.duckdb")
        state_dir = Path(scratch) / "emulator"
        # A fresh emulator of its own: ids must start at 1 for a restart to restore them.
        with running_emulator(state_dir, DEFAULT_PROJECT) as emulator:
            created = provision(emulator.address, DEFAULT_PROJECT)
            report = run_chaos(
                project=DEFAULT_PROJECT,
                topics={topic: topic for topic in TOPOLOGY},
                subscriptions=created,
                emulator_address=emulator.address,
                duckdb_path=duckdb_path,
                events=args.events,
                kills=args.kills,
                emulator_restarts=args.emulator_restarts,
                emulator_state_dir=state_dir,
                hostile=args.hostile,
                seed=args.seed,
                max_batch=args.max_batch,
            )
    print(report.format(), flush=True)
    return 0 if report.ok else 1
