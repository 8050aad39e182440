"""Per-runner choices the options make: the source, its id attribute, the stop grace."""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from voc.pipelines.arguments import MAX_SECONDS, pubsub_short_name
from voc.pipelines.cli.common import Parser, UsageError
from voc.pipelines.options import ConfigError, VocOptions, validate
from voc.transforms.parse_event import ParseLimits
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


def run_parser() -> Parser:
    parser = Parser(prog="voc run")
    VocOptions._add_argparse_args(parser)
    return parser


def float_flags() -> list[str]:
    """Every option of the job whose value is a float, found by asking each type."""
    flags = []
    for action in run_parser()._actions:
        if action.type is None:
            continue
        try:
            if isinstance(action.type("0.5"), float):
                flags.append(action.option_strings[0])
        except argparse.ArgumentTypeError:  # a whole-number option
            continue
    return flags


# The one float option that is not a number of seconds.
NOT_SECONDS = ("--alert-threshold",)


def seconds_flags() -> list[str]:
    return [flag for flag in float_flags() if flag not in NOT_SECONDS]


def test_the_float_options_are_the_seconds_options_and_the_alert_threshold():
    assert sorted(float_flags()) == [
        "--alert-threshold",
        "--event-time-skew",
        "--max-linger",
        "--progress-every",
        "--stop-grace",
        "--stop-when-idle",
    ]


@pytest.mark.parametrize("flag", float_flags())
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "infinity", "1e309"])
def test_nan_and_infinity_are_never_seconds(flag, value):
    with pytest.raises(UsageError, match=f"argument {flag}: expected a finite number"):
        run_parser().parse_args([f"{flag}={value}"])


@pytest.mark.parametrize("flag", seconds_flags())
def test_seconds_are_bounded(flag):
    parser = run_parser()
    assert getattr(parser.parse_args([flag, str(MAX_SECONDS)]), flag[2:].replace("-", "_")) == (
        MAX_SECONDS
    )
    with pytest.raises(UsageError, match="at most 2,592,000 seconds"):
        parser.parse_args([flag, "1e300"])


@pytest.mark.parametrize(
    ("flag", "maximum"), [("--max-batch", 100_000), ("--max-outstanding", 1_000_000)]
)
def test_batch_sizes_are_bounded(flag, maximum):
    parser = run_parser()
    assert getattr(parser.parse_args([flag, str(maximum)]), flag[2:].replace("-", "_")) == maximum
    with pytest.raises(UsageError, match=f"must be at most {maximum:,}, got {maximum + 1}"):
        parser.parse_args([flag, str(maximum + 1)])


@pytest.mark.parametrize(
    ("name", "kind", "short"),
    [
        ("surveys", "topics", "surveys"),
        ("agent-notes-voc", "subscriptions", "agent-notes-voc"),
        ("a.b~c+d%20e_F9", "topics", "a.b~c+d%20e_F9"),
        ("x" * 255, "topics", "x" * 255),
        ("Google", "topics", "Google"),
        ("projects/p/topics/surveys", "topics", "surveys"),
        ("projects/p/subscriptions/surveys-voc", "subscriptions", "surveys-voc"),
    ],
)
def test_pubsub_names_that_follow_the_rules(name, kind, short):
    assert pubsub_short_name(name, kind, "p") == short


@pytest.mark.parametrize(
    ("name", "kind", "fragment"),
    [
        ("../../projects/other/topics/x", "topics", "must start with a letter"),
        ("ab", "topics", "3-255 characters"),
        ("x" * 256, "topics", "3-255 characters"),
        ("", "subscriptions", "3-255 characters"),
        ("1abc", "topics", "must start with a letter"),
        ("ébc", "topics", "must start with a letter"),
        ("ab/cd", "topics", "not '/'"),
        ("ab cd", "subscriptions", "not ' '"),
        ("goog-x", "topics", "must not start with 'goog'"),
        ("projects/other/topics/x1y", "topics", "in project 'other', not the configured"),
        ("projects/p/subscriptions/abc", "topics", "projects/p/topics/NAME"),
        ("projects/p/topics/a/b", "topics", "projects/p/topics/NAME"),
        ("projects/p/topics/", "topics", "3-255 characters"),
        ("projects/p/topics/goog", "topics", "must not start with 'goog'"),
    ],
)
def test_pubsub_names_that_break_the_rules(name, kind, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        pubsub_short_name(name, kind, "p")


def test_subscriptions_are_checked_against_the_rules_and_the_project():
    full = "projects/p/subscriptions/notes-sub"
    assert config("--project=p", f"--notes-subscription={full}").subscriptions == (
        "projects/p/subscriptions/surveys-voc",
        full,
    )
    with pytest.raises(
        ConfigError, match=re.escape("--surveys-subscription ../x: a name must start")
    ):
        config("--surveys-subscription=../x")
    with pytest.raises(ConfigError, match=r"--notes-subscription .*: is in project 'q'"):
        config("--project=p", "--notes-subscription=projects/q/subscriptions/notes-sub")


def test_parse_limits_come_from_the_flags():
    config = validate(
        PipelineOptions(
            ["--max-message-bytes=4096", "--event-time-skew=60", "--event-time-horizon-days=30"]
        )
    )
    assert config.parse_limits == ParseLimits(
        max_bytes=4096, future_skew=timedelta(seconds=60), max_age=timedelta(days=30)
    )
    assert validate(PipelineOptions([])).parse_limits == ParseLimits()


@pytest.mark.parametrize("value", ["1023", "10000001", "2MB"])
def test_the_message_size_limit_stays_within_what_pubsub_delivers(value):
    with pytest.raises(UsageError, match="--max-message-bytes"):
        run_parser().parse_args([f"--max-message-bytes={value}"])


def test_a_bad_pseudonym_key_file_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.delenv("VOC_PSEUDONYM_KEY", raising=False)
    bad = tmp_path / "key"
    bad.write_text("not a key")
    with pytest.raises(ConfigError, match=r"^--pseudonym-key-file: .*expected 32 to 128 hex"):
        validate(PipelineOptions([f"--pseudonym-key-file={bad}"]))


def test_the_pseudonym_key_is_read_once_and_never_printed(tmp_path, monkeypatch):
    monkeypatch.setenv("VOC_PSEUDONYM_KEY", "ab" * 16)
    config = validate(PipelineOptions([]))
    assert config.pseudonym_key == bytes.fromhex("ab" * 16)
    assert "ab" * 16 not in repr(config)


def test_a_model_that_cannot_load_is_refused_before_the_job_starts(tmp_path):
    with pytest.raises(ConfigError, match=r"^--model .*missing\.json: no such file$"):
        config(f"--model={tmp_path / 'missing.json'}", f"--duckdb={tmp_path / 'v.duckdb'}")
    pickled = tmp_path / "model.json"
    pickled.write_bytes(b"\x80\x04\x95")  # a pickle's first bytes
    with pytest.raises(ConfigError) as refused:
        config(f"--model={pickled}", f"--duckdb={tmp_path / 'v.duckdb'}")
    assert str(refused.value).startswith(f"--model {pickled}: ")
    assert "\n" not in str(refused.value)
