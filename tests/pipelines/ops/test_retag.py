"""voc retag end to end, on a real DuckDB file the pipeline's tagging and sink wrote.

The file holds generated events tagged with the generic pack and written by the
DuckDB sink, its derived tables rebuilt from the facts (bench/retag.py builds it,
as a stopped job leaves it). The new taxonomy extends the pack with one cause and
drops another, so texts both gain and lose causes. Each test works on its own
copy of the file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from bench.retag import START, write_generated_file
from voc.pipelines.cli import main
from voc.pipelines.ops.retag import RetagError, Tagger, dry_run, promote, retag
from voc.pipelines.ops.retag_versions import TagRange
from voc.transforms.derived.settings import DEFAULT_SETTINGS
from voc.transforms.sinks.duckdb_store import DuckDBStore
from voc.transforms.tag_feedback import tag_text
from voc.transforms.taxonomy import load_taxonomy

EVENTS = 1_200
ADDED, DROPPED = "callback_never_came", "transfers"
NEW_TAXONOMY = f"""\
version: 2
extends: generic
release: "1.1.0"
drop: [{DROPPED}]
causes:
  - {{id: {ADDED}, description: "We promised a call back and never called",
     department: support_ops, phrases: ["call back", "called back"]}}
"""
EVERYTHING = TagRange(START)
NOW = "2026-10-29 00:00:00+00"
# feedback_tags as owners read it, whatever the moment it was written
OWNERS_TAGS = "select * exclude (tagged_at) from feedback_tags order by event_id, cause_id"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("retag")
    path = folder / "source.duckdb"
    write_generated_file(path, EVENTS)
    (folder / "new.yaml").write_text(NEW_TAXONOMY, encoding="utf-8")
    return path


@pytest.fixture
def db(source: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "voc.duckdb"
    shutil.copyfile(source, copy)
    return copy


@pytest.fixture(scope="module")
def new_taxonomy(source: Path):
    return load_taxonomy(source.parent / "new.yaml")


def rows(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute(f"set variable voc_now = timestamptz '{NOW}'")
        return con.execute(sql).fetchall()
    finally:
        con.close()


def run_retag(path: Path, taxonomy, workers: int = 1):
    with Tagger(taxonomy, None, workers) as tagger:
        store = DuckDBStore(str(path))
        store.open()
        try:
            return retag(store, EVERYTHING, tagger)
        finally:
            store.close()


def run_promote(path: Path, version: str):
    store = DuckDBStore(str(path))
    store.open()
    try:
        return promote(store, version, DEFAULT_SETTINGS)
    finally:
        store.close()


def test_the_dry_run_counts_what_moves_and_writes_nothing(db: Path, new_taxonomy):
    before_bytes = hashlib.sha256(db.read_bytes()).hexdigest()
    with Tagger(new_taxonomy, None, 1) as tagger:
        diff = dry_run(str(db), EVERYTHING, tagger, examples=2)
    # What the diff should say, from the stored tags and the tagger itself.
    texts = rows(
        db, "select event_id, comment from surveys union all select event_id, note from agent_notes"
    )
    stored = rows(db, "select event_id, list(cause_id) from feedback_tags group by 1")
    old = {event_id: set(causes) for event_id, causes in stored}
    gains = sum(
        ADDED in {c.cause_id for c in tag_text(text, new_taxonomy).causes} for _, text in texts
    )
    had_dropped = sum(DROPPED in causes for causes in old.values())
    moved = {c.cause_id: c for c in diff.causes}
    assert diff.texts == EVENTS
    assert gains > 0 and moved[ADDED].gained == gains and moved[ADDED].lost == 0
    assert had_dropped > 0 and moved[DROPPED].lost == had_dropped and moved[DROPPED].gained == 0
    assert len(moved[ADDED].gained_examples) == 2
    event_id, shown = moved[ADDED].gained_examples[0]
    assert shown and dict(texts)[event_id].startswith(shown.rstrip("…")[:20])
    assert diff.tags_before == sum(len(c) for c in old.values())
    # opened read-only: not one byte of the file changed, no version, no candidate
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before_bytes
    assert rows(db, "select count(*) from tag_versions") == [(0,)]
    assert rows(db, "select count(*) from feedback_tag_candidates") == [(0,)]


def test_the_dry_run_prints_json_for_machines(db: Path, source: Path, capsys):
    taxonomy = str(source.parent / "new.yaml")
    code = main(
        ["retag", "--duckdb", str(db), "--since", "2026-10-01", "--taxonomy", taxonomy,
         "--dry-run", "--examples", "1", "--format", "json", "--workers", "1"]
    )  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["texts"] == EVENTS
    added = next(c for c in report["causes"] if c["cause_id"] == ADDED)
    assert added["gained"] > 0 and len(added["gained_examples"]) == 1


def test_the_same_taxonomy_reproduces_the_stored_tags_exactly(db: Path):
    """The stored text is what the streaming tagger saw: re-tagging it with the same
    taxonomy (in two worker processes) gives the sink's rows, column for column."""
    outcome = run_retag(db, load_taxonomy(), workers=2)
    assert outcome.tagged == EVENTS and outcome.redaction_changed == 0
    tags = "select * exclude (tagged_at) from feedback_tags"
    candidates = "select * exclude (tagged_at, tag_version) from feedback_tag_candidates"
    differ = rows(
        db,
        f"select count(*) from (({tags} except all {candidates}) "
        f"union all ({candidates} except all {tags}))",
    )
    assert differ == [(0,)]


def test_retag_writes_a_candidate_owners_do_not_see_and_is_idempotent(db: Path, new_taxonomy):
    owners_before = rows(db, OWNERS_TAGS)
    view_before = rows(db, "select * from support_ops.open_issues order by all")
    assert view_before  # the week has support_ops causes to show
    first = run_retag(db, new_taxonomy)
    assert first.created and first.status == "candidate" and first.tagged == EVENTS
    assert rows(db, OWNERS_TAGS) == owners_before
    assert rows(db, "select * from support_ops.open_issues order by all") == view_before
    assert rows(db, f"select count(*) from feedback_tags where cause_id = '{ADDED}'") == [(0,)]
    candidates = rows(
        db,
        f"select count(*), count(*) filter (where cause_id = '{ADDED}') "
        f"from feedback_tag_candidates where tag_version = '{first.version}'",
    )
    assert candidates[0][0] == first.tags and candidates[0][1] > 0
    again = run_retag(db, new_taxonomy)
    assert (again.version, again.created, again.tagged, again.tags) == (
        first.version, False, 0, first.tags,
    )  # fmt: skip
    assert rows(db, "select count(*) from feedback_tag_candidates") == [(first.tags,)]
    assert rows(db, "select version, status, events from tag_versions") == [
        (first.version, "candidate", EVENTS)
    ]


def test_promote_swaps_the_tags_rebuilds_derived_tables_and_can_be_undone(db: Path, new_taxonomy):
    original = rows(db, OWNERS_TAGS)
    version = run_retag(db, new_taxonomy).version
    assert rows(db, f"select count(*) from issue_rollups where cause_id = '{ADDED}'") == [(0,)]
    outcome = run_promote(db, version)
    assert (outcome.promotion, outcome.previous_version) == (1, "previous-1")
    assert outcome.tags_replaced == len(original)
    # owners now read the version's tags, and rollups and interactions count them
    assert rows(db, "select count(*) from feedback_tags") == [(outcome.tags_written,)]
    assert rows(db, f"select count(*) from feedback_tags where cause_id = '{DROPPED}'") == [(0,)]
    added = rows(db, f"select count(*) from feedback_tags where cause_id = '{ADDED}'")[0][0]
    assert added > 0
    rolled = rows(
        db,
        f"select sum(volume) from issue_rollups where cause_id = '{ADDED}' and level = 'cause'",
    )
    assert rolled == [(added,)]
    assert rows(db, f"select count(*) from issue_rollups where cause_id = '{DROPPED}'") == [(0,)]
    assert rows(
        db, f"select count(*) from interactions where list_contains(causes, '{DROPPED}')"
    ) == [(0,)]
    assert rows(db, "select version, status from tag_versions order by version") == [
        ("previous-1", "superseded"),
        (version, "promoted"),
    ]
    assert run_promote(db, version).promotion == 0  # already promoted: nothing changes
    undo = run_promote(db, "previous-1")
    assert undo.promotion == 2
    assert rows(db, OWNERS_TAGS) == original
    assert rows(db, f"select count(*) from issue_rollups where cause_id = '{ADDED}'") == [(0,)]
    assert dict(rows(db, "select version, status from tag_versions")) == {
        "previous-1": "promoted",
        "previous-2": "superseded",
        version: "superseded",
    }


def test_a_failed_promotion_changes_nothing(db: Path, new_taxonomy):
    """Swap and rebuild are one transaction: when the rebuild fails, the swap is undone."""
    original = rows(db, OWNERS_TAGS)
    version = run_retag(db, new_taxonomy).version
    store = DuckDBStore(str(db))
    store.open()
    try:
        store.in_transaction(lambda cur: cur.execute("drop table repeat_contacts"))
        with pytest.raises(RetagError, match=r"rolled back: .*repeat_contacts"):
            promote(store, version, DEFAULT_SETTINGS)
    finally:
        store.close()
    assert rows(db, OWNERS_TAGS) == original
    assert rows(db, "select status from tag_versions") == [("candidate",)]
    assert rows(db, "select count(*) from feedback_tag_history") == [(0,)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--promote", "r9.9.9-0000000000"], "no version 'r9.9.9-0000000000' in this file"),
        (["--since", "2026-02-30"], "--since '2026-02-30': not a date"),
        (["--since", "2026-11-02", "--until", "2026-11-01"], "is not before --until"),
        (["--since", "2026-11-01", "--taxonomy", "/nonexistent.yaml"], "no such file"),
        (["--since", "2026-11-01", "--model", "/nonexistent.json"], "no such file"),
        (["--list", "--until", "2026-11-01"], "--until goes with --since"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(db: Path, capsys, argv, message):
    code = main(["retag", "--duckdb", str(db), *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and len(err.splitlines()) == 1 and err.startswith("voc retag")


def test_a_file_held_by_a_running_job_is_one_line_and_exit_2(db: Path, capsys):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_FILE, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        code = main(["retag", "--duckdb", str(db), "--since", "2026-10-01", "--dry-run"])
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "a running job holds the file" in err


HOLD_THE_FILE = (
    "import sys, time, duckdb\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "print('holding', flush=True)\n"
    "time.sleep(60)\n"
)
