"""``voc run --recovery-due``: validated like the other duration flags, carried to the sink."""

from __future__ import annotations

from datetime import timedelta

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from voc.pipelines.options import ConfigError, VocOptions, check_flags, recovery_due, validate


def test_the_default_is_a_day_and_a_value_reaches_the_job_config():
    assert validate(PipelineOptions([])).recovery_due == timedelta(hours=24)
    assert validate(PipelineOptions(["--recovery-due=90m"])).recovery_due == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("0s", "--recovery-due 0s: must be above zero"),
        ("2", "expected a duration like 90s, 10m, 2h or 7d"),
        ("400d", "must be at most 366 days"),
    ],
)
def test_bad_values_are_one_line(value, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(")) as raised:
        check_flags([f"--recovery-due={value}"])
        recovery_due(PipelineOptions([f"--recovery-due={value}"]).view_as(VocOptions))
    assert "\n" not in str(raised.value)
