"""Facts through the real DuckDB sink into the event-time branches and their sink.

TestStream drives messages (with redeliveries across panes) through parse, tag and
the real fact sink; what the sink stored first flows on to DeriveFromFacts and the
derived sink. The derived tables must equal a recomputation from the facts.
"""

from __future__ import annotations

import duckdb
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream

from tests.pipelines.test_parse_tag_and_store import note, streaming_options, survey
from voc.pipelines.ops.reconcile import differences
from voc.pipelines.parse_tag_and_store import ParseTagAndStore
from voc.transforms.derived.derive_from_facts import DeriveFromFacts
from voc.transforms.derived.settings import EventTimeSettings
from voc.transforms.sinks.duckdb_store import close_shared_stores
from voc.transforms.sinks.write_derived import WriteDerived
from voc.transforms.sinks.write_duckdb import WriteToDuckDB

SETTINGS = EventTimeSettings(state_shards=3)
BILLING = "I was charged twice for the same invoice and nobody fixed it."


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_redeliveries_across_panes_count_once_and_tables_match_the_facts(tmp_path):
    db = str(tmp_path / "voc.duckdb")
    first = [
        note("A", "na", created_at="2026-01-05T09:55:00Z"),
        survey("A", "sa", comment=BILLING, customer_id="c-1"),
        survey("B", "sb", comment=BILLING, customer_id="c-1", submitted_at="2026-01-07T10:00:00Z"),
    ]
    stream = (
        TestStream()
        .advance_watermark_to(_epoch("2026-01-05T09:00:00Z"))
        .add_elements(first)
        .advance_watermark_to(_epoch("2026-01-05T11:30:00Z"))
        # Redeliveries of all three in a later pane, and B's note.
        .add_elements([*first, note("B", "nb", created_at="2026-01-07T10:05:00Z")])
        .advance_watermark_to(_epoch("2026-03-01T00:00:00Z"))
        .advance_watermark_to_infinity()
    )
    with TestPipeline(options=streaming_options()) as p:
        stored = (p | stream | ParseTagAndStore(WriteToDuckDB(db)))["stored"]
        derived = stored | DeriveFromFacts(SETTINGS)
        derived["rows"] | WriteDerived(db)
    close_shared_stores()

    with duckdb.connect(db) as con:
        rows = con.execute(
            "select interaction_id, survey_event_id, note_event_ids, complete,"
            " resolved_first_contact from interactions order by 1"
        ).fetchall()
        assert rows == [("A", "sa", ["na"], True, False), ("B", "sb", ["nb"], True, True)]
        volume = con.execute(
            "select sum(volume) from issue_rollups where level = 'cause'"
            " and cause_id = 'billing_error' and final"
        ).fetchone()[0]
        tagged = con.execute(
            "select count(*) from feedback_tags where cause_id = 'billing_error'"
        ).fetchone()[0]
        assert volume == tagged >= 2, "each stored fact counts once, redeliveries never"
        repeats = con.execute(
            "select earlier_interaction_id, later_interaction_id from repeat_contacts"
        ).fetchall()
        assert repeats == [("A", "B")]
        assert con.execute("select count(*) from surveys where joined").fetchone()[0] == 2
        assert differences(con, SETTINGS) == []
