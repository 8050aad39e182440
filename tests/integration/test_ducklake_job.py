"""`voc run --sink ducklake` end to end: generator -> real Pub/Sub emulator -> the job ->
a DuckLake (real PostgreSQL catalog, Parquet files in a temporary directory) -> owners.

Generated events with exact re-sends and malformed messages; the owners' lake
connection (``VOC_STORE``) must see every valid event once, every malformed message as a
dead letter, and ``voc sql`` must answer on the lake. The event-time tables are written
to the lake too: they must equal a recomputation from the lake's facts (``voc reconcile
--check`` on the lake), and the departments' alert and trend views must answer. Then
PostgreSQL goes away in the middle of a write: the sink's retry waits for it and the
write lands once.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.pipelines.cli_results import run_in_process
from tests.postgres_cluster import PostgresCluster, postgres_cluster  # noqa: F401 (a fixture)
from tests.transforms.sinks.test_ducklake_store import survey
from voc.pipelines.dev.generate import generate_events
from voc.pipelines.ops.owner_connection import STORE_ENV, open_for_owner
from voc.pipelines.ops.publish import publish_messages
from voc.pipelines.options import job_flags
from voc.transforms.sinks.duckdb_store import build_batch
from voc.transforms.sinks.ducklake_catalog import connect_lake, parse_catalog
from voc.transforms.sinks.ducklake_store import DuckLakeStore, write_facts
from voc.transforms.sinks.retry_sink import retry_transient

pytestmark = pytest.mark.integration


def test_job_writes_every_event_once_to_the_lake(
    pubsub_topology,
    postgres_cluster,  # noqa: F811 (the fixture imported above)
    tmp_path,
    monkeypatch,
    capsys,
):
    messages, report = generate_events(3000, seed=14, duplicate_rate=0.02)
    assert report.duplicates > 0 and report.malformed > 0
    catalog = postgres_cluster.catalog("job_lake")
    publish_messages(messages, pubsub_topology.project, topics=pubsub_topology.topics)

    ran = run_in_process(
        capsys,
        "run",
        *job_flags(pubsub_topology.project, pubsub_topology.subscriptions, tmp_path / "voc.duckdb"),
        "--sink=ducklake",
        f"--catalog={catalog}",
        f"--data-path={tmp_path / 'lake'}",
        "--stop-when-idle=1.5",
        "--max-linger=0.2",
    )
    assert ran.returncode == 0, ran.stderr
    assert list((tmp_path / "lake").rglob("*.parquet")), "no Parquet file in the data path"

    monkeypatch.setenv(STORE_ENV, f"ducklake:{catalog}")
    with open_for_owner(tmp_path / "unused.duckdb") as owner:
        assert owner.source.startswith("lake ")
        count = lambda sql: owner.query(sql).rows[0][0]  # noqa: E731
        assert count("select count(*) from surveys") == report.valid_surveys
        assert count("select count(*) from agent_notes") == report.valid_notes
        assert count("select count(distinct event_id) from feedback_tags") == (
            report.valid_surveys + report.valid_notes
        )
        assert count("select count(*) from dead_letters") == report.malformed
        malformed = {m.data for m in messages if m.kind == "malformed"}
        stored = {row[0] for row in owner.query("select data from dead_letters").rows}
        assert stored == malformed
        assert count("select count(*) from dead_letters where reason = '' or error = ''") == 0

    # Redeliveries were not stored twice, not even physically (one writer, sequential).
    with connect_lake(parse_catalog(catalog), read_only=True) as con:
        stored_surveys = con.execute("select count(*) from lake.surveys").fetchone()[0]
    assert stored_surveys == report.valid_surveys

    answered = run_in_process(capsys, "sql", "select count(*) as n from agent_notes")
    assert answered.returncode == 0, answered.stderr
    assert f"{report.valid_notes}" in answered.stdout.replace(",", "")

    # The derived tables: in the lake, and what the facts there say they should be.
    with open_for_owner(tmp_path / "unused.duckdb") as owner:
        count = lambda sql: owner.query(sql).rows[0][0]  # noqa: E731
        assert count("select count(*) from interactions") > 0.9 * report.interactions
        assert count("select count(*) from issue_rollups where final") > 0
        assert count("select count(*) from surveys where joined") > 0
        department = count("select min(department) from issue_rollups")
        for view in ("alerts", "trend_daily"):
            owner.query(f"select count(*) from {department}.{view}")  # answers on the lake
    checked = run_in_process(capsys, "reconcile", "--check", f"--duckdb=ducklake:{catalog}")
    assert checked.returncode == 0, checked.stderr


def _pg_ctl(pg: PostgresCluster, *args: str) -> None:
    subprocess.run(
        [*pg.prefix, "pg_ctl", "-D", str(pg.root / "data"), *args],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _start_again(pg: PostgresCluster) -> None:
    """The stopped cluster started again as PostgresCluster.start started it."""
    options = f"-p {pg.port} -k {pg.root} -c listen_addresses='' -c fsync=off"
    _pg_ctl(pg, "-o", options, "-l", str(pg.root / "log"), "-w", "start")


def test_a_catalog_outage_mid_write_is_retried_until_postgres_is_back(tmp_path):
    events = [survey(n) for n in range(1, 6)]
    with PostgresCluster.start() as pg:  # its own cluster: this test stops it
        spec = parse_catalog(pg.catalog("outage"), str(tmp_path / "lake"))
        store = DuckLakeStore(spec)
        store.open()
        attempts: list[int] = []

        def write_bundle():
            """One bundle's transaction; on the first attempt PostgreSQL stops (abruptly)
            after the rows are written and before the commit."""
            attempts.append(1)

            def work(cur):
                result = write_facts(cur, build_batch(events))
                if len(attempts) == 1:
                    _pg_ctl(pg, "-m", "immediate", "stop")
                return result

            return store.in_transaction(work)

        said: list[str] = []

        def log(line: str) -> None:
            said.append(line)
            if len(said) == 2:  # the operator brings PostgreSQL back
                _start_again(pg)

        result = retry_transient(write_bundle, what="writing", log=log, sleep=lambda _s: None)
        assert len(attempts) == 3
        assert "broke during the commit" in said[0] and "nothing was acknowledged" in said[0]
        assert "PostgreSQL catalog cannot be reached" in said[1]
        assert result.new_event_ids == {f"s-{n}" for n in range(1, 6)}
        with connect_lake(spec, read_only=True) as con:
            assert con.execute("select count(*) from lake.surveys").fetchone() == (5,)
        store.close()
