"""The closed loop on a real running job: events through the Pub/Sub emulator make
recovery items, and owner changes reach the job's file through its inbox while it runs."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from voc.pipelines.cli import main
from voc.pipelines.dev.generate import generate_events
from voc.pipelines.local_driver import run_job
from voc.pipelines.ops import live_job
from voc.pipelines.ops.owner_changes import CauseAction, RecoveryChange, submit_change
from voc.pipelines.ops.owner_connection import open_for_owner
from voc.pipelines.ops.publish import publish_messages
from voc.pipelines.options import job_flags

pytestmark = pytest.mark.integration


def test_owner_changes_reach_a_running_job(pubsub_topology, tmp_path, capsys):
    # Starting a day ago: the queue holds the surveys of the last 28 days.
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    messages, report = generate_events(
        300, seed=13, start=start, malformed_rate=0, duplicate_rate=0
    )
    db = str(tmp_path / "voc.duckdb")
    publish_messages(messages, pubsub_topology.project, topics=pubsub_topology.topics)
    options = PipelineOptions(
        [*job_flags(pubsub_topology.project, pubsub_topology.subscriptions, db),
         "--max-linger=0.1", "--recovery-due=4h"]
    )  # fmt: skip
    seen: dict = {}

    def act(session) -> None:
        """While the job runs: read the queue through the job, change it, then stop."""
        try:
            deadline = time.monotonic() + 60
            while session.stats.acknowledged < report.messages and time.monotonic() < deadline:
                time.sleep(0.1)
            with open_for_owner(db) as owner:
                seen["live"] = owner.live
                item_id, department, cause_id, survey_at, due_at = owner.query(
                    "select item_id, department, cause_id, survey_at, due_at "
                    "from recovery_queue_of(null) order by item_id limit 1"
                ).rows[0]
                seen["due_hours"] = (due_at - survey_at).total_seconds() / 3600
            seen["contact"] = submit_change(
                db, RecoveryChange(item_id, "contacted", "called, no answer", by="ana"), timeout=20
            )
            seen["fix"] = submit_change(
                db,
                CauseAction(department, cause_id, "fix_shipped",
                            datetime.now(UTC).date(), "a fix", by="ana"),
                timeout=20,
            )  # fmt: skip
            seen["item"] = item_id
            # The owner's command, the same way: read through the job, no lock conflict.
            seen["list"] = main(["recovery", "list", "--duckdb", db, "--department", department])
        except Exception as error:  # reported by the test, after the job has stopped
            seen["error"] = error
        finally:
            session.request_stop()

    run_job(options, out=io.StringIO(), on_running=lambda s: threading.Thread(
        target=act, args=(s,), daemon=True).start())  # fmt: skip

    assert "error" not in seen, seen.get("error")
    assert seen["live"] is True
    assert seen["due_hours"] == 4
    assert seen["contact"].applied and seen["contact"].via.startswith("job pid ")
    assert seen["fix"].applied and seen["fix"].via.startswith("job pid ")
    assert seen["list"] == 0 and seen["item"] in capsys.readouterr().out
    assert live_job.running_job(db) is None
    assert list(live_job.inbox_dir(db).iterdir()) == []
    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("select item_id, status from recovery_changes").fetchall() == [
            (seen["item"], "contacted")
        ]
        assert con.execute("select count(*) from cause_actions").fetchone() == (1,)
        # Every detractor survey made one item, none twice.
        assert con.execute(
            "select count(*) = count(distinct interaction_id), count(*) > 0 from recovery_items"
        ).fetchone() == (True, True)
