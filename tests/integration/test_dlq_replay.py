"""`voc dlq replay` end to end: fixed dead letters become events once, broken ones stay one row."""

from __future__ import annotations

import duckdb
import pytest

from tests.integration.test_streaming_job import job_options
from voc.pipelines.cli import main
from voc.pipelines.dev.generate import GeneratedMessage, generate_events
from voc.pipelines.local_driver import run_job
from voc.pipelines.ops.publish import publish_messages
from voc.transforms.records import InvalidMessage, ReceivedMessage, to_dead_letter
from voc.transforms.sinks.duckdb_store import DuckDBStore, build_batch

pytestmark = pytest.mark.integration


def scalar(db, sql: str):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def test_replay_after_a_schema_fix_stores_each_event_once(pubsub_topology, tmp_path, capsys):
    db = tmp_path / "voc.duckdb"
    surveys_topic = pubsub_topology.topics["surveys"]
    # What a deployment that did not know survey v2 yet left behind.
    v2 = [
        m
        for m in generate_events(400, seed=31)[0]
        if m.kind == "valid" and m.event_type == "survey" and m.attributes["schema_version"] == "2"
    ][:30]
    store = DuckDBStore(str(db))
    store.open()
    store.write(
        build_batch(
            to_dead_letter(
                ReceivedMessage(m.data, m.attributes, f"old-{i}", None),
                "parse",
                InvalidMessage("unknown_schema_version", "no contract survey.v2.json"),
            )
            for i, m in enumerate(v2)
        )
    )
    store.close()
    # And messages that no fix will save, dead-lettered by this job for real.
    broken = [
        GeneratedMessage(
            surveys_topic,
            b'{"event_id": "x-%d", ' % i,
            v2[0].attributes,
            "malformed",
            None,
            None,
            (),
        )
        for i in range(10)
    ]
    publish_messages(broken, pubsub_topology.project)
    run_job(job_options(pubsub_topology, db))
    assert scalar(db, "select count(*) from dead_letters") == 40

    assert main(["dlq", "list", "--duckdb", str(db)]) == 0
    listing = capsys.readouterr().out
    assert "unknown_schema_version" in listing and "invalid_json" in listing

    replay = ["dlq", "replay", f"--duckdb={db}", f"--topic={surveys_topic}",
              f"--project={pubsub_topology.project}"]  # fmt: skip
    assert main([*replay, "--reason=unknown_schema_version"]) == 0
    assert "replayed 30 dead letters" in capsys.readouterr().out
    run_job(job_options(pubsub_topology, db))
    assert scalar(db, "select count(*) from surveys") == 30
    assert scalar(db, "select count(*) from surveys where schema_version = 2") == 30
    assert scalar(db, "select count(*) from dead_letters where resolved_at is not null") == 30
    assert main(["dlq", "list", "--duckdb", str(db)]) == 0
    assert "unknown_schema_version" not in capsys.readouterr().out  # resolved, so not listed

    # Nothing left to replay; forcing it anyway doubles nothing.
    assert main([*replay, "--reason=unknown_schema_version"]) == 0
    assert "replayed 0 dead letters" in capsys.readouterr().out
    assert main([*replay, "--reason=unknown_schema_version", "--include-resolved"]) == 0
    run_job(job_options(pubsub_topology, db))
    assert scalar(db, "select count(*) from surveys") == 30
    assert scalar(db, "select count(*) from feedback_tags where source = 'survey'") == scalar(
        db, "select count(*) from (select distinct event_id, cause_id from feedback_tags)"
    )

    # A replay that fails again lands in its own row: still 40 dead letters.
    assert main([*replay, "--reason=invalid_json"]) == 0
    run_job(job_options(pubsub_topology, db))
    assert scalar(db, "select count(*) from dead_letters") == 40
    assert (
        scalar(
            db,
            "select count(*) from dead_letters where reason = 'invalid_json' and replay_count = 1 "
            "and last_failed_at is not null and resolved_at is null",
        )
        == 10
    )
