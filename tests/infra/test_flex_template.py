"""The Flex Template's metadata documents every option, and its parameters reach voc's flags.

Also: what Dataflow's native read produces (Beam's PubsubMessage) goes through
the same parse and tag steps as the local batched source's messages.
"""

from __future__ import annotations

import argparse
import json
import re

import apache_beam as beam
from apache_beam.io.gcp.pubsub import PubsubMessage
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.infra.flex_template_module import DATAFLOW, load
from tests.transforms.helpers import survey_payload
from voc.pipelines.options import VocOptions
from voc.transforms.parse_event import ParseEvents
from voc.transforms.sources.read_feedback import from_pubsub_message


def _voc_actions() -> list[argparse.Action]:
    parser = argparse.ArgumentParser(add_help=False)
    VocOptions._add_argparse_args(parser)
    return parser._actions


def test_metadata_json_documents_every_option():
    documented = json.loads((DATAFLOW / "metadata.json").read_text(encoding="utf-8"))
    by_name = {p["name"]: p for p in documented["parameters"]}
    missing = [a.option_strings[0] for a in _voc_actions() if a.dest not in by_name]
    assert missing == [], "regenerate: python infra/dataflow/flex_template.py"
    for parameter in documented["parameters"]:
        assert parameter["label"] and len(parameter["helpText"]) > len(parameter["name"])
        assert re.fullmatch(r"[a-z][a-z0-9_]*", parameter["name"])
        for regex in parameter.get("regexes", []):
            re.compile(regex)
    assert documented["streaming"] is True


def test_metadata_json_is_what_the_generator_writes(capsys):
    template = load()
    assert template.main(["--check"]) == 0, capsys.readouterr().err
    text = (DATAFLOW / "metadata.json").read_text(encoding="utf-8")
    assert text == template.metadata_text()


def test_the_regexes_accept_the_defaults_and_refuse_garbage():
    documented = json.loads((DATAFLOW / "metadata.json").read_text(encoding="utf-8"))
    defaults = {a.dest: a.default for a in _voc_actions()}
    for parameter in documented["parameters"]:
        for regex in parameter.get("regexes", []):
            default = defaults[parameter["name"]]
            if isinstance(default, bool):
                default = str(default).lower()
            if default is not None:
                assert re.fullmatch(regex, str(default)), (parameter["name"], default)
            assert not re.fullmatch(regex, "1; rm -rf /"), parameter["name"]


def test_template_parameters_become_voc_flags():
    template = load()
    flags = template.voc_flags(
        [
            "--project=p-123",
            "--surveys_subscription=projects/p-123/subscriptions/s-voc",
            "--max_batch=500",
            "--no_derived=true",
            "--serve=false",
            "--rollup_window=30m",
            "--duckdb=/tmp/x.duckdb",
        ]
    )
    assert flags == [
        "--project=p-123",
        "--surveys-subscription=projects/p-123/subscriptions/s-voc",
        "--max-batch=500",
        "--no-derived",
        "--no-serve",
        "--rollup-window=30m",
        "--duckdb=/tmp/x.duckdb",
    ]
    assert template.voc_flags(["--no_derived=false", "--serve=true"]) == ["--serve"]
    voc = beam.options.pipeline_options.PipelineOptions(flags).view_as(VocOptions)
    assert (voc.max_batch, voc.no_derived, voc.serve, voc.rollup_window) == (
        500,
        True,
        False,
        "30m",
    )


def test_every_documented_parameter_parses_as_a_voc_flag():
    """Each parameter, given its default the template way, is an option VocOptions reads."""
    template = load()
    for action in _voc_actions():
        value = action.default
        if isinstance(value, bool) or action.nargs == 0:
            value = "true"
        if value is None:
            continue
        flags = template.voc_flags([f"--{action.dest}={value}"])
        parsed = beam.options.pipeline_options.PipelineOptions(flags).view_as(VocOptions)
        assert getattr(parsed, action.dest) is not None, action.dest


def test_a_boolean_parameter_must_be_true_or_false():
    template = load()
    try:
        template.voc_flags(["--no_derived=yes"])
    except template.TemplateError as error:
        assert str(error) == "--no_derived=yes: expected true or false"
    else:
        raise AssertionError("accepted --no_derived=yes")


def test_native_pubsub_messages_feed_the_same_parse_step():
    """Dataflow's read yields PubsubMessage (attributes included, ack owned by the
    runner); adapted, it parses exactly as a locally pulled message does."""
    good = survey_payload(event_id="s-native")
    attributes = {
        "event_type": "survey",
        "schema_version": "1",
        "event_time": good["submitted_at"],
        "event_id": "s-native",
    }
    messages = [
        PubsubMessage(json.dumps(good).encode(), attributes, message_id="m-1"),
        PubsubMessage(b"{not json", dict(attributes, event_id="bad"), message_id="m-2"),
    ]
    with TestPipeline() as p:
        received = p | beam.Create(messages) | beam.Map(from_pubsub_message)
        parsed = received | ParseEvents()
        assert_that(
            parsed.events | "Events" >> beam.Map(lambda e: (e.event_id, e.message.ack)),
            equal_to([("s-native", None)]),
            label="events",
        )
        assert_that(
            parsed.dead_letters
            | "Letters" >> beam.Map(lambda d: (d.message_id, d.attributes["event_id"], d.ack)),
            equal_to([("m-2", "bad", None)]),
            label="dead letters",
        )
