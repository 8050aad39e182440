"""The baseline: the streaming job a data engineer would write in an afternoon.

Deliberately plain, and kept that way so the comparison stays honest:
Beam's own ``ReadFromPubSub`` on the DirectRunner -> ``json.loads`` -> plain
NLTK VADER -> one DuckDB ``INSERT`` per element. It does the same useful work
per event as a first version of voc would (parse, score, store), with none of
voc's batching, sharing or ack-after-commit.

Run by ``bench/run.py``; not part of the product.
"""

from __future__ import annotations

import json

import apache_beam as beam
import duckdb
from apache_beam.options.pipeline_options import PipelineOptions

BASELINE_DDL = """
create table if not exists baseline_feedback (
    event_id varchar,
    event_type varchar,
    text varchar,
    sentiment double
)
"""


class ScoreSentimentFn(beam.DoFn):
    def setup(self):
        from nltk.sentiment.vader import SentimentIntensityAnalyzer

        from voc.transforms.score_sentiment import ensure_vader_lexicon

        ensure_vader_lexicon()  # offline data only; the analyzer is plain NLTK VADER
        self.analyzer = SentimentIntensityAnalyzer()

    def process(self, message):
        event = json.loads(message.data)
        text = event.get("comment") or event.get("note") or ""
        yield {
            "event_id": event["event_id"],
            "event_type": message.attributes.get("event_type"),
            "text": text,
            "sentiment": self.analyzer.polarity_scores(text)["compound"],
        }


class InsertRowFn(beam.DoFn):
    def __init__(self, db_path: str):
        self.db_path = db_path

    def setup(self):
        self.con = duckdb.connect(self.db_path)
        self.con.execute(BASELINE_DDL)

    def process(self, row):
        self.con.execute(
            "insert into baseline_feedback values (?, ?, ?, ?)",
            [row["event_id"], row["event_type"], row["text"], row["sentiment"]],
        )

    def teardown(self):
        self.con.close()


def build_baseline(p, subscriptions: list[str], db_path: str):
    reads = [
        p | f"Read{i}" >> beam.io.ReadFromPubSub(subscription=s, with_attributes=True)
        for i, s in enumerate(subscriptions)
    ]
    messages = tuple(reads) | "Merge" >> beam.Flatten()
    # Malformed messages would crash json.loads; the baseline sees only valid ones.
    return (
        messages
        | "Score" >> beam.ParDo(ScoreSentimentFn())
        | "Insert" >> beam.ParDo(InsertRowFn(db_path))
    )


def baseline_options(project: str) -> PipelineOptions:
    return PipelineOptions(runner="BundleBasedDirectRunner", streaming=True, project=project)
