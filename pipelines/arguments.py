"""Argument types, limits and checks shared by the job's options and the ``voc`` commands.

Kept free of Beam: the CLI imports it while building its parser, and Beam
logs import-time notices that must not reach a user who only mistyped a flag.

Every check here is a pure function of its input (and, for paths, of what is on
disk): a bad value becomes one line naming the problem, never a traceback from
deep inside a generator, DuckDB or the Pub/Sub client.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path


class ConfigError(ValueError):
    """A bad flag or configuration; the message is one line that names it."""


# The DuckDB file every command reads or writes unless told otherwise.
DEFAULT_DUCKDB = "voc.duckdb"

# Upper bounds for numbers that size a resource. Each is far above any sensible
# use and far below what would exhaust memory, overflow a timer or hang a command.
# voc generate / voc demo -n: the generator holds every message in memory, ~1.2 KB
# and ~60 us each, so the maximum needs ~12 GB and ~10 minutes.
MAX_EVENTS = 10_000_000
MAX_LIST_ROWS = 100_000  # voc dlq list --limit: rows printed to a terminal
MAX_BATCH = 100_000  # voc run --max-batch: messages in one bundle and one transaction
MAX_OUTSTANDING = 1_000_000  # voc run --max-outstanding: leased messages kept in memory
MAX_PORT = 65_535  # the largest TCP port
# Seconds options (--stop-when-idle, --max-linger, ...) end up as timer timeouts,
# which overflow long before float does.
MAX_SECONDS = 30 * 24 * 3600
# Durations of event time (--join-horizon, --allowed-lateness, ...): a year is far
# beyond any sensible use and keeps event-time arithmetic clear of datetime's limits.
MAX_DURATION = timedelta(days=366)
MAX_STATE_SHARDS = 1024  # voc run --state-shards: keyed-state shards per branch
MAX_ALERT_MIN_COUNT = 1_000_000  # voc run --alert-min-count: events in one window

# Pub/Sub's rule for topic and subscription ids: 3-255 characters, a letter first,
# then letters, digits and - _ . ~ + %; ids starting with "goog" are reserved.
_PUBSUB_ID_CHARS = re.compile(r"[A-Za-z0-9\-_.~+%]*")
PUBSUB_KINDS = ("topics", "subscriptions")


def whole_number(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """argparse type for a whole number in [low, high], saying which bound was broken.

    argparse's own ``type=int`` reports "invalid int value", which names a Python
    type rather than what the flag expects.
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if low == 1 and value < 1:
            raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low:,}, got {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:,}, got {text}")
        return value

    return parse


positive_int = whole_number(low=1)
any_int = whole_number()


def non_negative_float(text: str) -> float:
    """argparse type: a finite number, zero allowed (``float()`` also accepts nan and inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {text}")
    return value


def seconds(text: str) -> float:
    """argparse type: a duration in seconds, finite, from zero to :data:`MAX_SECONDS`."""
    value = non_negative_float(text)
    if value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_SECONDS:,} seconds (30 days), got {text}"
        )
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number above zero."""
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be above zero, got {text}")
    return value


# A number (at most 9 digits before and after the point) and its unit: 90s, 10m, 1.5h, 7d.
_DURATION = re.compile(r"([0-9]{1,9}(?:\.[0-9]{1,9})?)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def duration(text: str) -> timedelta:
    """argparse type: a duration with its unit (``90s``, ``10m``, ``2h``, ``7d``), from
    zero to :data:`MAX_DURATION`.

    The unit is required: a bare ``10`` would be seconds to one reader and minutes to
    the next, and these flags range from seconds (lateness) to days (horizons).
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"expected a duration like 90s, 10m, 2h or 7d, got {text!r}"
        )
    number, unit = match.groups()
    value = timedelta(seconds=float(number) * _UNIT_SECONDS[unit])
    if value > MAX_DURATION:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_DURATION.days} days, got {text}")
    return value


def duration_flag(text: str) -> str:
    """argparse type: a valid :func:`duration`, kept as the text given (``90s``).

    Pipeline options travel as JSON to the runner (Dataflow puts them in the job's
    description), where a timedelta cannot go; :func:`duration` reads it back.
    """
    duration(text)
    return text


def duration_text(value: timedelta) -> str:
    """A duration the way :func:`duration` reads it, in the largest whole unit."""
    micros = value // timedelta(microseconds=1)
    if micros == 0:
        return "0s"
    if micros % 1_000_000:
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}".rstrip("0") + "s"
    whole = micros // 1_000_000
    for unit in ("d", "h", "m"):
        if whole % _UNIT_SECONDS[unit] == 0:
            return f"{whole // _UNIT_SECONDS[unit]}{unit}"
    return f"{whole}s"


def output_file_problem(path: str) -> str | None:
    """Why ``path`` cannot be written as a file, or None.

    Checked before any work starts, so a mistyped path fails at once rather than
    with a traceback after minutes of generating or loading.
    """
    target = Path(path)
    if target.is_dir():
        return "is a directory, expected a file"
    if not target.parent.is_dir():
        return f"directory {target.parent} does not exist"
    return None


def pubsub_short_name(name: str, kind: str, project: str) -> str:
    """The short id of a topic or subscription of ``project``; ValueError names what is wrong.

    ``kind`` is ``"topics"`` or ``"subscriptions"``. Names end up inside resource
    paths (``projects/P/topics/NAME``), so a name like ``../../projects/other/...``
    or a full path into another project would address something the operator did
    not mean; only ids that follow Pub/Sub's naming rules, or a full path inside
    the configured project, are accepted.
    """
    if kind not in PUBSUB_KINDS:
        raise ValueError(f"kind must be one of {PUBSUB_KINDS}, not {kind!r}")
    short = name
    if name.startswith("projects/"):
        parts = name.split("/")
        if len(parts) != 4 or parts[2] != kind:
            raise ValueError(f"expected a short name or projects/{project}/{kind}/NAME")
        if parts[1] != project:
            raise ValueError(
                f"is in project {parts[1]!r}, not the configured project {project!r} "
                "(set --project, or give a short name)"
            )
        short = parts[3]
    problem = _pubsub_id_problem(short)
    if problem is not None:
        raise ValueError(problem)
    return short


def _pubsub_id_problem(short: str) -> str | None:
    if not 3 <= len(short) <= 255:
        return f"a name must be 3-255 characters long, got {len(short)}"
    if not short[0].isascii() or not short[0].isalpha():
        return f"a name must start with a letter, not {short[0]!r}"
    bad = _PUBSUB_ID_CHARS.sub("", short)
    if bad:
        return f"a name may contain only letters, digits and - _ . ~ + %, not {bad[0]!r}"
    if short.startswith("goog"):
        return "a name must not start with 'goog' (reserved by Google)"
    return None
