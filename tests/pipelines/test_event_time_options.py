"""The event-time flags of ``voc run``: durations, thresholds, shards, and their errors."""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from tests.pipelines.test_cli import assert_one_line_error, run_voc
from voc.pipelines import local_driver
from voc.pipelines.arguments import duration, duration_flag, duration_text
from voc.pipelines.cli import main
from voc.pipelines.cli.common import Parser, UsageError
from voc.pipelines.options import ConfigError, VocOptions, validate
from voc.transforms.derived.settings import DEFAULT_SETTINGS, EventTimeSettings

DURATION_FLAGS = {
    "--max-out-of-orderness": "max_out_of_orderness",
    "--allowed-lateness": "allowed_lateness",
    "--rollup-window": "rollup_window",
    "--join-horizon": "join_horizon",
    "--repeat-window": "repeat_window",
}


def config(*argv: str):
    return validate(PipelineOptions(list(argv)))


def run_parser() -> Parser:
    parser = Parser(prog="voc run")
    VocOptions._add_argparse_args(parser)
    return parser


# -- the duration type --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("1.5h", timedelta(minutes=90)),
        ("0s", timedelta(0)),
        ("0.25s", timedelta(milliseconds=250)),
        ("366d", timedelta(days=366)),
    ],
)
def test_durations_are_a_number_and_a_unit(text, expected):
    assert duration(text) == expected
    # Kept as text in the options (they travel as JSON), read back to the same value.
    assert duration(duration_flag(text)) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("10", "expected a duration like 90s, 10m, 2h or 7d, got '10'"),
        ("10w", "expected a duration like"),
        ("-5m", "expected a duration like"),
        ("nanm", "expected a duration like"),
        ("infd", "expected a duration like"),
        ("1e3s", "expected a duration like"),
        ("", "expected a duration like"),
        ("1234567890d", "expected a duration like"),
        ("367d", "must be at most 366 days, got 367d"),
        ("9000h", "must be at most 366 days"),
    ],
)
def test_anything_else_is_not_a_duration(text, fragment):
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(fragment)):
        duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(minutes=10), "10m"),
        (timedelta(hours=2), "2h"),
        (timedelta(days=7), "7d"),
        (timedelta(seconds=90), "90s"),
        (timedelta(minutes=90), "90m"),
        (timedelta(0), "0s"),
        (timedelta(microseconds=1), "0.000001s"),
        (timedelta(seconds=1, microseconds=500_000), "1.5s"),
    ],
)
def test_durations_are_written_in_their_largest_whole_unit(value, text):
    assert duration_text(value) == text


# -- good values ----------------------------------------------------------------------


def test_without_flags_the_settings_are_the_defaults():
    assert config().event_time == DEFAULT_SETTINGS
    assert config("--runner=DataflowRunner", "--project=p").event_time == DEFAULT_SETTINGS


def test_every_setting_comes_from_its_flag():
    settings = config(
        "--max-out-of-orderness=3m",
        "--allowed-lateness=30m",
        "--rollup-window=15m",
        "--join-horizon=2d",
        "--repeat-window=30d",
        "--alert-threshold=2.5",
        "--alert-min-count=12",
        "--state-shards=64",
    ).event_time
    assert settings == EventTimeSettings(
        max_out_of_orderness=timedelta(minutes=3),
        allowed_lateness=timedelta(minutes=30),
        rollup_window=timedelta(minutes=15),
        join_horizon=timedelta(days=2),
        repeat_window=timedelta(days=30),
        alert_threshold=2.5,
        alert_min_count=12,
        state_shards=64,
    )


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--max-out-of-orderness", "0s", timedelta(0)),  # in order: the newest read
        ("--allowed-lateness", "0s", timedelta(0)),
        ("--rollup-window", "1d", timedelta(days=1)),
        ("--rollup-window", "90s", timedelta(seconds=90)),
        ("--join-horizon", "12h", timedelta(hours=12)),
        ("--repeat-window", "366d", timedelta(days=366)),
    ],
)
def test_duration_flags_at_their_edges(flag, value, expected):
    assert getattr(config(f"{flag}={value}").event_time, DURATION_FLAGS[flag]) == expected


@pytest.mark.parametrize(
    ("flag", "value", "name", "expected"),
    [
        ("--alert-threshold", "0.01", "alert_threshold", 0.01),
        ("--alert-min-count", "1", "alert_min_count", 1),
        ("--state-shards", "1", "state_shards", 1),
        ("--state-shards", "1024", "state_shards", 1024),
    ],
)
def test_number_flags_at_their_edges(flag, value, name, expected):
    assert getattr(config(f"{flag}={value}").event_time, name) == expected


def test_settings_set_in_code_are_read_too():
    options = PipelineOptions([], rollup_window="30m", join_horizon=timedelta(days=3))
    settings = validate(options).event_time
    assert settings.rollup_window == timedelta(minutes=30)
    assert settings.join_horizon == timedelta(days=3)
    with pytest.raises(ConfigError, match=r"^--rollup-window: expected a duration like"):
        validate(PipelineOptions([], rollup_window="soon"))


def test_the_help_gives_each_default():
    text = " ".join(run_parser().format_help().split())
    for flag, name in DURATION_FLAGS.items():
        default = duration_text(getattr(DEFAULT_SETTINGS, name))
        assert re.search(rf"{flag} DURATION .*?default {default}\)", text), flag
    assert "(default 4)" in text and "1-1,000,000 (default 5)" in text
    assert "1-1,024 (default 16)" in text


# -- bad values: one line, exit 2 --------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value", "fragment"),
    [
        ("--max-out-of-orderness", "10", "expected a duration like"),
        ("--allowed-lateness", "-1h", "expected a duration like"),
        ("--rollup-window", "1 hour", "expected a duration like"),
        ("--join-horizon", "400d", "at most 366 days"),
        ("--repeat-window", "week", "expected a duration like"),
        ("--alert-threshold", "0", "must be above zero"),
        ("--alert-threshold", "-2", "must be zero or more"),
        ("--alert-threshold", "nan", "expected a finite number"),
        ("--alert-threshold", "high", "expected a number"),
        ("--alert-min-count", "0", "must be a positive whole number"),
        ("--alert-min-count", "2.5", "expected a whole number"),
        ("--alert-min-count", "1000001", "at most 1,000,000"),
        ("--state-shards", "0", "must be a positive whole number"),
        ("--state-shards", "1025", "at most 1,024"),
    ],
)
def test_a_value_of_the_wrong_form_is_one_line_and_exit_2(flag, value, fragment, capsys):
    with pytest.raises(UsageError, match=re.escape(f"argument {flag}: ")):
        run_parser().parse_args([f"{flag}={value}"])
    assert main(["run", f"{flag}={value}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert flag in err and fragment in err, err


@pytest.mark.parametrize(
    ("flag", "value", "fragment"),
    [
        ("--rollup-window", "7m", "--rollup-window 7m: rollup window 0:07:00 must divide a day"),
        ("--rollup-window", "25h", "--rollup-window 25h: rollup window 1 day, 1:00:00 must"),
        ("--rollup-window", "0s", "--rollup-window 0s: rollup window 0:00:00 must divide a day"),
        ("--join-horizon", "0s", "--join-horizon 0s: join horizon must be positive"),
        ("--repeat-window", "0m", "--repeat-window 0m: repeat window must be positive"),
    ],
)
def test_a_value_the_settings_refuse_names_its_flag_on_one_line(flag, value, fragment, capsys):
    with pytest.raises(ConfigError, match=f"^{re.escape(fragment)}"):
        config(f"{flag}={value}")
    assert main(["run", f"{flag}={value}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("voc run: ") and fragment in err, err


def test_the_command_line_says_one_line_without_a_traceback():
    assert_one_line_error(run_voc("run", "--rollup-window=7m"), "--rollup-window 7m", "divide")
    assert_one_line_error(run_voc("run", "--state-shards=2000"), "--state-shards", "1,024")


# -- the local source gets the bound ----------------------------------------------------


class _Stop(Exception):
    pass


def test_the_local_source_gets_the_watermark_bound(monkeypatch, tmp_path):
    made = {}

    def capture(subscriptions, **kwargs):
        made.update(kwargs)
        raise _Stop

    monkeypatch.setattr(local_driver, "PullSession", capture)
    options = PipelineOptions([f"--duckdb={tmp_path / 'v.duckdb'}", "--max-out-of-orderness=3m"])
    with pytest.raises(_Stop):
        local_driver.run_job(options)
    assert made["max_out_of_orderness"] == timedelta(minutes=3)
