"""Retrying the sink through a locked file and a full disk, on real files and a real tmpfs."""

from __future__ import annotations

import random
import socket

import duckdb
import pytest

from tests.transforms.helpers import DuckDBLockHolder, message, survey_payload
from voc.transforms.parse_event import parse_message
from voc.transforms.records import CauseMatch, SentimentScore, TaggedEvent
from voc.transforms.sinks.duckdb_store import DuckDBStore, build_batch
from voc.transforms.sinks.ducklake_catalog import connect_lake, parse_catalog
from voc.transforms.sinks.retry_sink import (
    Backoff,
    SinkUnavailable,
    catalog_unreachable,
    retry_transient,
    transient_reason,
)


def tagged_surveys(n: int, comment_chars: int = 200) -> list[TaggedEvent]:
    out = []
    for i in range(n):
        payload = survey_payload(event_id=f"s-{i}", comment="x" * comment_chars)
        out.append(
            TaggedEvent(
                event=parse_message(message(payload)),
                text=payload["comment"],
                sentiment=SentimentScore(0.0, "neutral"),
                causes=(CauseMatch("product_defect", "product", "x"),),
                taxonomy_version=1,
                redactions=0,
            )
        )
    return out


def test_backoff_grows_to_its_cap_with_bounded_jitter():
    backoff = Backoff(first=0.5, factor=2, cap=8, jitter=0.2)
    rng = random.Random(1)
    delays = [backoff.delay(attempt, rng) for attempt in range(8)]
    for attempt, delay in enumerate(delays):
        base = min(8, 0.5 * 2**attempt)
        assert 0.8 * base <= delay <= 1.2 * base
    assert max(delays) <= 8 * 1.2


def test_a_locked_file_is_transient_and_names_the_holder(tmp_path):
    path = str(tmp_path / "voc.duckdb")
    holder = DuckDBLockHolder(path)
    try:
        with pytest.raises(duckdb.Error) as caught:
            duckdb.connect(path)
    finally:
        holder.release()
    reason = transient_reason(caught.value)
    assert reason is not None
    assert "locked by another process" in reason and f"PID {holder.pid}" in reason


def test_errors_that_will_not_pass_are_not_retried(tmp_path):
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    with pytest.raises(duckdb.Error) as caught:
        con.execute("select * from no_such_table")
    assert transient_reason(caught.value) is None
    assert transient_reason(ValueError("bug")) is None
    calls = []

    def broken():
        calls.append(1)
        raise ValueError("a bug, not a condition")

    with pytest.raises(ValueError):
        retry_transient(broken, what="writing", sleep=lambda _s: None)
    assert len(calls) == 1


# What a lake write raised when PostgreSQL was stopped or its backend terminated between
# the lake's work and its commit (DuckDB 1.5.5, ducklake + postgres_scanner).
COMMIT_LOST = 'TransactionContext Error: Failed to commit: Failed to execute query "ROLLBACK": '


def test_a_catalog_that_refuses_connections_is_transient(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    catalog = f"postgres:dbname=voc host=127.0.0.1 port={port} user=voc connect_timeout=5"
    with pytest.raises(duckdb.Error) as caught:
        connect_lake(parse_catalog(catalog, str(tmp_path / "lake")))
    reason = transient_reason(caught.value)
    assert reason is not None
    assert "PostgreSQL catalog cannot be reached" in reason and "Connection refused" in reason


@pytest.mark.parametrize(
    "text",
    [
        COMMIT_LOST,
        "IO Error: server closed the connection unexpectedly\n\tThis probably means ...",
        "FATAL:  terminating connection due to administrator command",
        "could not connect to server: No such file or directory",
        "FATAL:  the database system is starting up",
    ],
)
def test_a_lost_catalog_connection_is_recognised(text):
    assert catalog_unreachable(text) is not None
    assert transient_reason(duckdb.TransactionException(text)) == catalog_unreachable(text)


@pytest.mark.parametrize(
    "text",
    [
        "TransactionContext Error: Failed to commit DuckLake transaction: Transaction conflict",
        "Catalog Error: Table with name surveys does not exist!",
        "Constraint Error: NOT NULL constraint failed: surveys.event_id",
    ],
)
def test_other_lake_errors_are_not_a_lost_catalog(text):
    assert catalog_unreachable(text) is None
    assert transient_reason(duckdb.Error(text)) is None


def test_opening_waits_for_the_lock_and_says_why(tmp_path):
    path = str(tmp_path / "voc.duckdb")
    holder = DuckDBLockHolder(path)
    store = DuckDBStore(path)
    said: list[str] = []

    def log(line: str) -> None:
        said.append(line)
        if len(said) == 2:  # the owner closes their session after a while
            holder.release()

    retry_transient(store.open, what="opening voc.duckdb", log=log, sleep=lambda _s: None)
    store.write(build_batch(tagged_surveys(3)))
    assert store.con.execute("select count(*) from surveys").fetchone() == (3,)
    store.close()
    assert len(said) == 2
    assert all(
        "locked by another process" in line and "nothing was acknowledged" in line for line in said
    )


def test_giving_up_raises_sink_unavailable(tmp_path):
    path = str(tmp_path / "voc.duckdb")
    holder = DuckDBLockHolder(path)
    try:
        with pytest.raises(SinkUnavailable, match=r"locked by another process.*not acknowledged"):
            retry_transient(
                DuckDBStore(path).open, what="writing", give_up=lambda: True, log=lambda _l: None
            )
    finally:
        holder.release()


def test_a_full_disk_fails_the_transaction_whole_and_the_retry_commits_it_once(small_disk):
    store = DuckDBStore(str(small_disk.path / "voc.duckdb"))
    store.open()
    store.write(build_batch(tagged_surveys(5)))
    small_disk.fill()
    batch = build_batch(tagged_surveys(3000, comment_chars=2000))  # ~6 MB of text
    said: list[str] = []

    def log(line: str) -> None:
        said.append(line)
        if len(said) == 3:
            small_disk.free()

    result = retry_transient(
        lambda: store.write(batch), what="writing", log=log, sleep=lambda _s: None
    )
    assert len(said) == 3 and all("disk full" in line for line in said)
    # Nothing half-written: 3,000 new rows (5 of them were already there).
    assert result["surveys"] == 2995
    assert store.con.execute(
        "select count(*), count(distinct event_id) from surveys"
    ).fetchone() == (3000, 3000)
    store.close()
    reopened = duckdb.connect(str(small_disk.path / "voc.duckdb"), read_only=True)
    assert reopened.execute("select count(*) from feedback_tags").fetchone() == (3000,)
    reopened.close()
