"""Four writer processes on one DuckLake, like Dataflow workers behind one subscription.

The parent plays Pub/Sub: it hands out deliveries (a batch of events, overlapping
the previous batch by a quarter), delivers about a third of them twice, some of
those at once to two workers, and takes a delivery back from a worker that dies
before acknowledging it. Each worker runs the sink (``DuckLakeStore.write``) and
acknowledges after the commit. One worker is killed with SIGKILL right after it
took a delivery. Every event must then be in the owners' views exactly once, and,
after ``voc lake maintain``, in the tables exactly once.

Each worker has a queue of its own for deliveries and one for what it reports: a
process killed while it holds a shared queue's lock would block every other worker
on that queue forever (multiprocessing's queues are not safe against SIGKILL).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import time
from datetime import timedelta

from tests.postgres_cluster import postgres_cluster  # noqa: F401 (a fixture)
from tests.transforms.sinks.test_ducklake_store import note, survey
from voc.pipelines.ops.lake_maintenance import maintain
from voc.pipelines.ops.owner_connection import STORE_ENV, open_for_owner
from voc.transforms.sinks.duckdb_store import build_batch
from voc.transforms.sinks.ducklake_catalog import LakeSpec, connect_lake, parse_catalog
from voc.transforms.sinks.ducklake_store import DuckLakeStore

WORKERS = 4
BATCHES = 20
STEP = 60  # new events per batch
OVERLAP = 20  # events each batch shares with the next
EVENTS = BATCHES * STEP + OVERLAP


def batch_events(index: int):
    """Batch ``index``: events STEP*index .. STEP*index+STEP+OVERLAP, surveys and notes."""
    numbers = range(index * STEP, index * STEP + STEP + OVERLAP)
    return [survey(n) if n % 2 else note(n) for n in numbers]


def writer(spec: LakeSpec, worker: int, tasks, reports) -> None:
    """A worker process: take a delivery, write it in one transaction, acknowledge."""
    store = DuckLakeStore(spec)
    store.open()
    reports.put(("ready", worker, None))
    while (task := tasks.get()) is not None:
        delivery, index = task
        reports.put(("took", worker, delivery))
        store.write(build_batch(batch_events(index)))
        reports.put(("ack", worker, delivery))
    store.close()


def _queued(delivered_to: int, pending: dict[int, int]) -> set[int]:
    """The deliveries first handed to a worker's queue that it never acknowledged."""
    return {delivery for delivery in pending if delivery % WORKERS == delivered_to}


def test_four_writers_with_redeliveries_and_a_kill_store_every_event_once(
    postgres_cluster,  # noqa: F811 (the fixture imported above)
    tmp_path,
):
    spec = parse_catalog(postgres_cluster.catalog("four_writers"), str(tmp_path / "lake"))
    DuckLakeStore(spec).open()  # the tables, once, before the workers race for them
    context = multiprocessing.get_context("spawn")
    tasks = {w: context.Queue() for w in range(WORKERS)}
    reports = {w: context.Queue() for w in range(WORKERS)}
    processes = {
        w: context.Process(target=writer, args=(spec, w, tasks[w], reports[w]), daemon=True)
        for w in range(WORKERS)
    }
    for process in processes.values():
        process.start()

    # Every batch once; every third batch twice in a row (two workers at once), and
    # every fifth once more later (a redelivery after the ack).
    deliveries = []
    for index in range(BATCHES):
        deliveries.append(index)
        if index % 3 == 0:
            deliveries.append(index)
    deliveries += [index for index in range(BATCHES) if index % 5 == 0]
    pending = dict(enumerate(deliveries))
    taken: dict[int, set[int]] = {w: set() for w in processes}
    took = dict.fromkeys(processes, 0)
    victim, killed, redelivered = 0, False, 0
    for worker, report in reports.items():
        kind, _, _ = report.get(timeout=120)
        assert kind == "ready", worker
    # Round robin: consecutive deliveries (a batch delivered twice in a row) run at once.
    for delivery, index in pending.items():
        tasks[delivery % WORKERS].put((delivery, index))

    deadline = time.monotonic() + 240
    while pending:
        assert time.monotonic() < deadline, f"{len(pending)} deliveries never acknowledged"
        heard = False
        for worker, report in reports.items():
            if killed and worker == victim:
                continue
            try:
                kind, _, delivery = report.get_nowait()
            except queue.Empty:
                continue
            heard = True
            if kind == "took":
                taken[worker].add(delivery)
                took[worker] += 1
                if worker == victim and not killed and took[worker] >= 3:
                    # Mid-write (the write takes a good part of a second): SIGKILL.
                    os.kill(processes[worker].pid, signal.SIGKILL)
                    processes[worker].join(30)
                    killed = True
                    # Pub/Sub's ack deadline passes: what it held goes to the others.
                    survivors = [w for w in processes if w != victim]
                    lost = sorted(
                        (set(taken[worker]) | _queued(delivered_to=worker, pending=pending))
                        & pending.keys()
                    )
                    for n, again in enumerate(lost):
                        tasks[survivors[n % len(survivors)]].put((again, pending[again]))
                        redelivered += 1
                    taken[worker].clear()
            elif kind == "ack":
                pending.pop(delivery, None)
                taken[worker].discard(delivery)
        if not heard:
            time.sleep(0.05)
    assert killed and redelivered >= 1
    for worker in processes:
        if worker != victim:
            tasks[worker].put(None)
    for process in processes.values():
        process.join(60)

    os.environ[STORE_ENV] = spec.uri
    try:
        with open_for_owner("unused") as owner:
            facts = owner.query(
                "select count(*), count(distinct event_id) from "
                "(select event_id from surveys union all select event_id from agent_notes)"
            ).rows
            tags = owner.query("select count(*), count(distinct event_id) from feedback_tags")
            items = owner.query("select count(*), count(distinct item_id) from recovery_items")
    finally:
        del os.environ[STORE_ENV]
    assert facts == [(EVENTS, EVENTS)]
    assert tags.rows == [(EVENTS, EVENTS)]
    assert items.rows[0][0] == items.rows[0][1] == EVENTS // 2

    maintain(spec, timedelta(0))
    con = connect_lake(spec, read_only=True)
    try:
        for table, key in (
            ("surveys", "event_id"),
            ("agent_notes", "event_id"),
            ("feedback_tags", "event_id"),
            ("recovery_items", "item_id"),
        ):
            count, distinct = con.execute(
                f"select count(*), count(distinct {key}) from lake.{table}"
            ).fetchone()
            assert count == distinct, table
        assert con.execute(
            "select (select count(*) from lake.surveys) + (select count(*) from lake.agent_notes)"
        ).fetchone() == (EVENTS,)
    finally:
        con.close()
