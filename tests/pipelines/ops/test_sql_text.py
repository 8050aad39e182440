"""SQL text: values written in as literals read back as themselves in DuckDB, and
``?``/``;`` inside strings, quoted names and comments are left alone."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voc.pipelines.ops.sql_text import (
    bind,
    literal,
    placeholders,
    script_statements,
    split_statements,
)

CON = duckdb.connect()


def read_back(value: object) -> object:
    return CON.execute(f"select {literal(value)}").fetchone()[0]


texts = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**100), max_value=2**100),
    st.floats(allow_nan=False),
    texts,
    st.binary(max_size=64),
    st.dates(),
    st.datetimes(),
    st.decimals(min_value=-(10**18), max_value=10**18, places=4, allow_nan=False),
    st.timedeltas(min_value=timedelta(days=-(10**5)), max_value=timedelta(days=10**5)),
)


@settings(max_examples=300, deadline=None)
@given(scalars)
def test_each_literal_reads_back_as_its_value(value):
    assert read_back(value) == value


@settings(max_examples=40, deadline=None)
@given(st.datetimes(timezones=st.timezones()))
def test_aware_datetimes_keep_their_instant(value):
    # Compared in UTC: Python never finds a time in a DST gap equal across zones (PEP 495).
    assert read_back(value) == value.astimezone(UTC)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.integers(-1000, 1000), st.none()), max_size=8), st.lists(texts))
def test_lists_read_back(numbers, strings):
    assert read_back(numbers) == numbers
    assert read_back(strings) == strings


@settings(max_examples=200, deadline=None)
@given(texts, texts)
def test_a_bound_string_is_one_value_never_sql(first, second):
    """Whatever a string holds (quotes, ?, ;, --, */), it arrives as data."""
    sql = "select ? as a, '?;' as b /* ? */, ? as c -- ?"
    assert CON.execute(bind(sql, [first, second])).fetchone() == (first, "?;", second)


def test_special_values():
    assert math.isnan(read_back(float("nan")))
    assert read_back(float("inf")) == float("inf")
    assert read_back(float("-inf")) == float("-inf")
    assert read_back(uuid.UUID(int=5)) == uuid.UUID(int=5)
    assert read_back(time(13, 5, 7, 12)) == time(13, 5, 7, 12)
    assert read_back({"a": 1, "b": "x'y"}) == {"a": 1, "b": "x'y"}
    assert read_back(datetime(2026, 1, 5, 9, tzinfo=timezone(timedelta(hours=5, minutes=30)))) == (
        datetime(2026, 1, 5, 3, 30, tzinfo=UTC)
    )
    assert read_back(date(1, 1, 1)) == date(1, 1, 1)
    assert read_back(Decimal("-0.0001")) == Decimal("-0.0001")


def test_a_negative_number_after_a_minus_is_not_a_comment():
    assert CON.execute(bind("select 5-?", [-1])).fetchone()[0] == 6
    assert CON.execute(bind("select 5-?", [-1.5])).fetchone()[0] == 6.5
    assert CON.execute(bind("select 5-?", [Decimal("-2")])).fetchone()[0] == 7


@pytest.mark.parametrize(
    "value", [object(), {1: "a"}, "a\x00b", Decimal("nan"), time(1, tzinfo=UTC)]
)
def test_values_without_a_literal_are_refused(value):
    with pytest.raises(TypeError):
        literal(value)


def test_the_number_of_values_must_match():
    assert placeholders("select ?, '?', \"?\", $$?$$, e'\\'?' -- ?\n /* ? /* ? */ */") == 1
    with pytest.raises(ValueError, match=r"1 \? parameters but 2"):
        bind("select ?", [1, 2])


def test_statements_split_on_semicolons_outside_strings_and_comments():
    statements, rest = split_statements("select 1; select ';' -- ;\n; /* ; */ ; select 'open;")
    assert statements == ["select 1", "select ';' -- ;"]
    assert rest == " select 'open;"
    assert split_statements("select 1; -- bye\n") == (["select 1"], "")
    assert split_statements("select 1; /* unfinished") == (["select 1"], " /* unfinished")
    assert script_statements("select 1;\nselect 2") == ["select 1", "select 2"]
    assert script_statements("-- nothing\n;") == []
