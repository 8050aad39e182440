"""Drive the streaming job in this process: the pull session, signals and progress.

On the DirectRunner voc reads Pub/Sub through its own :class:`PullSession`
(large bundles, acknowledgement after commit), which lives outside the graph:
this module creates it, checks the subscriptions and the sink before anything
runs, drains on SIGINT/SIGTERM, prints progress, and turns a sink that stayed
unwritable through a stop into one line (:class:`JobFailed`). Off the
DirectRunner the runner owns all of that and ``run_job`` only submits the graph.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from voc.pipelines.cli.common import EXIT_FAILED
from voc.pipelines.ops.change_inbox import start_inbox
from voc.pipelines.ops.lake_changes import write_lake_departments
from voc.pipelines.ops.reconcile import prepare_start
from voc.pipelines.ops.serve_sql import go_live
from voc.pipelines.options import ConfigError, JobConfig, VocOptions, validate
from voc.pipelines.streaming import build_pipeline
from voc.transforms.error_text import first_line
from voc.transforms.sinks.duckdb_schema import write_departments
from voc.transforms.sinks.duckdb_store import close_shared_stores, shared_store
from voc.transforms.sinks.ducklake_store import shared_lake_store
from voc.transforms.sinks.retry_sink import retry_transient, sink_unavailable_in
from voc.transforms.sources.pull_pubsub import STOP_MARGIN_SECONDS, PullSession
from voc.transforms.sources.session_registry import register_session, unregister_session


class JobFailed(RuntimeError):
    """The job stopped without storing everything it pulled; the message says why and
    that the rest will be delivered again. The CLI prints it as one line, exit 1."""


@dataclass(frozen=True)
class RunReport:
    pulled: int
    acknowledged: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.acknowledged / self.seconds if self.seconds else 0.0


def _check_sink(config: JobConfig) -> None:
    """Open the store before the job starts.

    A file another process holds, or a full disk, is waited out (saying so);
    anything else (not a DuckDB file, a newer format) is a config error.
    """
    store = shared_store(config.duckdb)
    try:
        retry_transient(store.open, what=f"opening --duckdb {config.duckdb}")
    except Exception as error:  # duckdb raises IOException, InvalidInputException, ...
        raise ConfigError(f"--duckdb {config.duckdb}: {first_line(error, 300)}") from None


def _check_subscriptions(session: PullSession) -> None:
    from google.api_core import exceptions

    for subscription in session.subscriptions:
        try:
            session.client.get_subscription(request={"subscription": subscription}, timeout=15)
        except exceptions.NotFound:
            raise ConfigError(
                f"subscription {subscription} does not exist (voc emulator start creates it)"
            ) from None
        except exceptions.GoogleAPICallError as error:
            raise ConfigError(f"cannot reach Pub/Sub for {subscription}: {error.message}") from None
        except Exception as error:  # auth and transport errors have no common base
            raise ConfigError(f"cannot reach Pub/Sub for {subscription}: {error}") from None


def run_job(
    options: PipelineOptions,
    out=sys.stderr,
    published: int | None = None,
    on_running: Callable[[PullSession], None] | None = None,
) -> RunReport:
    """Run until drained (``--stop-when-idle``) or until SIGINT/SIGTERM asks for a drain.

    ``on_running`` is called with the pull session once the pipeline runs; a caller
    that decides itself when to stop (the benchmark) calls ``request_stop()`` on it.
    """
    config = validate(options)
    voc = options.view_as(VocOptions)
    if not config.batched:
        p = beam.Pipeline(options=options)
        build_pipeline(p, config)
        started = time.monotonic()
        p.run().wait_until_finish()
        return RunReport(0, 0, time.monotonic() - started)

    session = register_session(
        PullSession(
            config.subscriptions,
            max_batch=voc.max_batch,
            max_linger_seconds=voc.max_linger,
            max_outstanding=voc.max_outstanding,
            stop_when_idle_seconds=voc.stop_when_idle,
            stop_grace_seconds=config.stop_grace,
            max_out_of_orderness=config.event_time.max_out_of_orderness,
        )
    )
    withdraw_live = None
    inbox = None
    try:
        _check_subscriptions(session)
        _check_sink(config)
        # The departments table (and a schema of views per department) from the
        # taxonomy and the owners registry (--owners), rewritten at every start.
        shared_store(config.duckdb).in_transaction(
            lambda cur: write_departments(cur, list(config.departments))
        )
        if config.lake is not None:  # and into the lake, where owners read them
            write_lake_departments(shared_lake_store(config.lake), list(config.departments))
        # Owner changes (voc recovery/fix/dlq) reach the file through the job's inbox;
        # what a stopped job left there is applied now.
        inbox = start_inbox(config.duckdb, shared_store(config.duckdb))
        # State lives in memory on this runner: rebuild it from the recent facts.
        # With --sink ducklake the facts (and the derived tables) are in the lake.
        facts_store = shared_lake_store(config.lake) if config.lake else shared_store(config.duckdb)
        replay = prepare_start(facts_store, config.event_time) if config.derived else None
        # Owners find the job (and its read-only SQL server) through <duckdb>.live.
        withdraw_live = go_live(config.duckdb, config.serve, config.serve_port, out)
        p = beam.Pipeline(options=options)
        build_pipeline(p, config, session.session_id, replay)
        restore = _drain_on_signals(session, out, config.stop_grace)
        started = time.monotonic()
        reporter = _start_progress(session, voc.progress_every, started, out, published)
        try:
            result = p.run()
            if on_running is not None:
                on_running(session)
            result.wait_until_finish()
        except Exception as error:
            unavailable = sink_unavailable_in(error)
            if unavailable is None:
                raise
            if reporter is not None:
                # The last progress line shows what was in flight when the sink gave
                # up, not the moment after the leases went back.
                reporter.set()
            session.mark_finished()  # stop extending leases, then hand them back
            session.release_outstanding()
            raise JobFailed(str(unavailable)) from None
        finally:
            restore()
            if reporter is not None:
                reporter.set()
        if session.failure is not None:
            raise JobFailed(session.failure)
        # Up to the last acknowledgement: the idle wait before a --stop-when-idle
        # stop, or a drain with nothing left to do, is not work.
        finished = session.stats.last_acknowledged_at or time.monotonic()
        elapsed = max(finished - started, 1e-3)
        return RunReport(session.stats.pulled, session.stats.acknowledged, elapsed)
    finally:
        if inbox is not None:
            inbox.stop()
        if withdraw_live is not None:
            withdraw_live()
        session.mark_finished()
        unregister_session(session.session_id)
        close_shared_stores()


def _drain_on_signals(session: PullSession, out, stop_grace: float) -> Callable[[], None]:
    """SIGINT/SIGTERM: stop pulling, let in-flight rows commit and ack, then end.

    The session itself hands back what is still in flight once ``stop_grace`` (plus
    a margin) has passed; if even that cannot happen (the runner's only worker is
    stuck in a call that does not return), a watchdog ends the process a little
    later, after releasing the leases, so a stop always ends the job.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, _frame):
        if session.stop_requested:
            print("voc: already draining; waiting for in-flight messages", file=out, flush=True)
        else:
            print(
                f"voc: {signal.Signals(signum).name}: draining ({session.outstanding} in flight)",
                file=out,
                flush=True,
            )
            _start_watchdog(session, out, stop_grace + 2 * STOP_MARGIN_SECONDS)
        session.request_stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def _start_watchdog(session: PullSession, out, seconds: float) -> None:
    def end_if_still_running() -> None:
        if session.wait_finished(seconds):
            return
        released = session.release_outstanding()
        print(
            f"voc: the job did not stop within {seconds:.0f} s of being asked; exiting with "
            f"{released:,} messages unacknowledged (they will be delivered again)",
            file=out,
            flush=True,
        )
        os._exit(EXIT_FAILED)

    threading.Thread(target=end_if_still_running, name="voc-stop-watchdog", daemon=True).start()


def _start_progress(session: PullSession, every: float, started: float, out, published: int | None):
    if not every:
        return None
    stop = threading.Event()

    def report() -> None:
        last_committed, last_time = 0, started
        while not stop.wait(every):
            now = time.monotonic()
            stats = session.stats
            rate = (stats.acknowledged - last_committed) / max(now - last_time, 1e-9)
            last_committed, last_time = stats.acknowledged, now
            sent = f"published {published:,}  " if published is not None else ""
            print(
                f"voc run: {now - started:6.1f}s  {sent}pulled {stats.pulled:>8,}  committed "
                f"{stats.acknowledged:>8,}  in flight {session.outstanding:>6,}  "
                f"{rate:8,.0f} ev/s",
                file=out,
                flush=True,
            )

    threading.Thread(target=report, name="voc-progress", daemon=True).start()
    return stop
