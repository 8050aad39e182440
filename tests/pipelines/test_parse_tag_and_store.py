"""The job's processing graph under TestStream: out-of-order arrival, redeliveries,
and failures from every step reaching the same sink."""

from __future__ import annotations

import apache_beam as beam
import duckdb
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to

from tests.transforms.helpers import message, note_payload, survey_payload
from voc.pipelines.parse_tag_and_store import ParseTagAndStore
from voc.transforms.records import DeadLetter
from voc.transforms.sinks.duckdb_store import close_shared_stores
from voc.transforms.sinks.write_duckdb import WriteToDuckDB


def streaming_options() -> PipelineOptions:
    options = PipelineOptions(runner="BundleBasedDirectRunner")
    options.view_as(StandardOptions).streaming = True
    return options


def note(interaction: str, event_id: str, **kw):
    return message(
        note_payload(event_id=event_id, interaction_id=interaction, **kw),
        event_type="agent_note",
        message_id=f"m-{event_id}",
    )


def survey(interaction: str, event_id: str, **kw):
    return message(
        survey_payload(event_id=event_id, interaction_id=interaction, **kw),
        message_id=f"m-{event_id}",
    )


def test_any_arrival_order_and_redeliveries_make_one_row_each(tmp_path):
    db = str(tmp_path / "voc.duckdb")
    stream = (
        TestStream()
        .advance_watermark_to(0)
        # Interaction A: the note first; interaction B: the survey first.
        .add_elements([note("A", "na"), survey("B", "sb")])
        .advance_processing_time(5)
        .add_elements([survey("A", "sa"), message(b"{not json", message_id="bad-1")])
        .advance_watermark_to(100)
        # Redeliveries of earlier messages, and B's note arriving last.
        .add_elements([note("A", "na"), survey("B", "sb"), note("B", "nb")])
        .advance_watermark_to_infinity()
    )
    with TestPipeline(options=streaming_options()) as p:
        outputs = p | stream | ParseTagAndStore(WriteToDuckDB(db))
        assert_that(
            outputs["parse_failures"] | beam.Map(lambda d: (d.dead_letter_id, d.reason)),
            equal_to([("msg:bad-1", "invalid_json")]),
            label="CheckParseFailures",
        )
    close_shared_stores()

    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("select count(*) from surveys").fetchone() == (2,)
        assert con.execute("select count(*) from agent_notes").fetchone() == (2,)
        assert con.execute("select count(*) from dead_letters").fetchone() == (1,)
        joined = con.execute(
            "select interaction_id, survey_event_id, note_event_id, complete "
            "from interaction_parts order by 1"
        ).fetchall()
    assert joined == [("A", "sa", "na", True), ("B", "sb", "nb", True)]


def test_long_texts_are_tagged_not_rejected(tmp_path):
    db = str(tmp_path / "voc.duckdb")
    long_comment = "The app keeps crashing and nobody calls back. " * 400  # ~18,000 chars
    with TestPipeline(options=streaming_options()) as p:
        stream = (
            TestStream()
            .add_elements([survey("C", "sc", comment=long_comment), survey("D", "sd")])
            .advance_watermark_to_infinity()
        )
        outputs = p | stream | ParseTagAndStore(WriteToDuckDB(db))
        assert_that(
            outputs["tagged"] | beam.Map(lambda t: (t.event.event_id, t.sentiment.label)),
            equal_to([("sc", "negative"), ("sd", "negative")]),
        )
    close_shared_stores()
    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("select count(*) from surveys").fetchone() == (2,)
        assert con.execute(
            "select count(*) from feedback_tags where cause_id = 'product_defect'"
        ).fetchone() == (2,)


def test_a_poison_message_is_dead_lettered_and_the_stream_goes_on(tmp_path, monkeypatch):
    """A message whose tagging raises (here: a bug injected into sentiment scoring for one
    text) must not fail its bundle: the events around it are stored, it is a dead letter."""
    import voc.transforms.tag_feedback as tag_feedback

    real_score = tag_feedback.read_text_sentiment

    def score_or_crash(text: str, *args, **kwargs):
        if "POISON" in text:
            raise ZeroDivisionError("division by zero in a scoring bug")
        return real_score(text, *args, **kwargs)

    monkeypatch.setattr(tag_feedback, "read_text_sentiment", score_or_crash)
    db = str(tmp_path / "voc.duckdb")
    with TestPipeline(options=streaming_options()) as p:
        stream = (
            TestStream()
            .add_elements([survey("E", "se1"), survey("F", "sp", comment="POISON pill")])
            .advance_processing_time(5)
            .add_elements([survey("G", "se2")])
            .advance_watermark_to_infinity()
        )
        outputs = p | stream | ParseTagAndStore(WriteToDuckDB(db))
        assert_that(
            outputs["tag_failures"] | beam.Map(lambda d: (d.dead_letter_id, d.stage, d.reason)),
            equal_to([("msg:m-sp", "tag", "ZeroDivisionError")]),
        )
    close_shared_stores()
    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("select event_id from surveys order by 1").fetchall() == [
            ("se1",),
            ("se2",),
        ]
        assert con.execute("select stage, reason, error from dead_letters").fetchall() == [
            ("tag", "ZeroDivisionError", "division by zero in a scoring bug")
        ]


class ExpectRecords(beam.PTransform):
    """A sink that stores nothing and asserts what reached it: the graph must hand
    every outcome, fact or dead letter, to whichever sink it is given."""

    def __init__(self, expected: list[tuple[str, str]]) -> None:
        super().__init__()
        self.expected = expected

    def expand(self, records):
        def outcome(record) -> tuple[str, str]:
            if isinstance(record, DeadLetter):
                return ("dead_letter", record.dead_letter_id)
            return (record.event.event_type, record.event.event_id)

        return assert_that(records | beam.Map(outcome), equal_to(self.expected))


def test_the_sink_is_a_parameter_and_receives_every_outcome():
    stream = (
        TestStream()
        .add_elements([survey("H", "sh"), note("H", "nh"), message(b"[]", message_id="bad-2")])
        .advance_watermark_to_infinity()
    )
    expected = [("survey", "sh"), ("agent_note", "nh"), ("dead_letter", "msg:bad-2")]
    with TestPipeline(options=streaming_options()) as p:
        p | stream | ParseTagAndStore(ExpectRecords(expected))
