"""Per-runner choices the options make: the source, its id attribute, the stop grace."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from voc.pipelines.options import ConfigError, validate
from voc.transforms.sources.read_feedback import ReadFeedback


def config(*argv: str):
    return validate(PipelineOptions(list(argv)))


def test_local_runs_use_the_batched_source_without_an_id_label():
    local = config()
    assert local.batched and local.id_attribute is None  # the DirectRunner rejects id_label
    assert local.stop_grace == 30.0


def test_dataflow_uses_the_native_source_with_the_event_id_attribute():
    remote = config("--runner=DataflowRunner", "--project=p")
    assert not remote.batched
    assert remote.id_attribute == "event_id"
    assert config("--runner=DataflowRunner", "--id-attribute=").id_attribute is None
    assert config("--runner=DataflowRunner", "--id-attribute=uid").id_attribute == "uid"


def test_the_native_read_carries_the_id_label():
    p = beam.Pipeline(options=PipelineOptions([]))
    subscriptions = ["projects/voc-prod/subscriptions/a", "projects/voc-prod/subscriptions/b"]
    p | ReadFeedback(subscriptions, id_label="uid")
    reads = []

    class Visitor(beam.pipeline.PipelineVisitor):
        def visit_transform(self, node):
            if isinstance(node.transform, beam.io.ReadFromPubSub):
                reads.append(node.transform)

        enter_composite_transform = visit_transform

    p.visit(Visitor())
    assert len(reads) == 2
    assert {read._source.id_label for read in reads} == {"uid"}


def test_batched_source_off_the_direct_runner_is_refused():
    with pytest.raises(ConfigError, match="--source batched runs only on the DirectRunner"):
        config("--runner=DataflowRunner", "--source=batched")
