"""A digest while the job holds the file: read through the job's SQL server (Quack),
the same digest as from the file, and the file never opened by the digest itself."""

from __future__ import annotations

import os
import re
import shutil

from voc.pipelines.cli import main
from voc.pipelines.ops.serve_sql import go_live
from voc.transforms.sinks.duckdb_store import close_shared_stores

STEM = "billing-20261123T0000Z-20261130T0000Z"
# The one line that differs: when it was generated and from where.
GENERATED = re.compile(r"Generated .*$", re.MULTILINE)


def _digest(db, out) -> int:
    return main(["digest", "--department", "billing", "--duckdb", str(db), "--end",
                 "2026-11-30", "--format", "md", "--out", str(out)])  # fmt: skip


def test_a_digest_reads_through_the_running_job(digest_db, tmp_path):
    db = tmp_path / "live.duckdb"
    shutil.copy(digest_db, db)
    assert _digest(db, tmp_path / "file") == 0
    from_file = (tmp_path / "file" / f"{STEM}.md").read_text()

    withdraw = go_live(str(db), serve_sql=True)  # this process now owns the file, as a job
    try:
        assert _digest(db, tmp_path / "live") == 0
    finally:
        withdraw()
        close_shared_stores()
    live = (tmp_path / "live" / f"{STEM}.md").read_text()
    assert f"from live job pid {os.getpid()} (quack:localhost:" in live
    assert GENERATED.sub("", live) == GENERATED.sub("", from_file)
