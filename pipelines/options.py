"""Options of the streaming job, and their validation.

``VocOptions`` is a ``PipelineOptions`` subclass, so the same flags work with
``voc run``, with a Dataflow flex template and in tests. :func:`validate`
turns every misconfiguration into a :class:`ConfigError` with one line naming
the problem before any work starts; the CLI prints it and exits with code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from apache_beam.options.pipeline_options import (
    GoogleCloudOptions,
    PipelineOptions,
    StandardOptions,
    _BeamArgumentParser,
)

from voc.pipelines.arguments import (
    DEFAULT_DUCKDB,
    MAX_ALERT_MIN_COUNT,
    MAX_BATCH,
    MAX_DURATION,
    MAX_OUTSTANDING,
    MAX_PORT,
    MAX_STATE_SHARDS,
    ConfigError,
    duration,
    duration_flag,
    duration_text,
    output_file_problem,
    positive_float,
    pubsub_short_name,
    seconds,
    whole_number,
)
from voc.pipelines.sink_choice import lake_sink
from voc.pipelines.topology import DEFAULT_PROJECT, TOPOLOGY
from voc.transforms.derived.settings import DEFAULT_SETTINGS, EventTimeSettings
from voc.transforms.parse_event import (
    DEFAULT_MAX_MESSAGE_BYTES,
    PUBSUB_MAX_MESSAGE_BYTES,
    ParseLimits,
)
from voc.transforms.pseudonymize_ids import (
    DEFAULT_KEY_FILE,
    KEY_ENV,
    PseudonymKeyError,
    load_key,
)
from voc.transforms.recovery_items import DEFAULT_RECOVERY_DUE
from voc.transforms.sinks.ducklake_catalog import LakeSpec
from voc.transforms.taxonomy import PACK_PREFIX

LOCAL_RUNNER = "BundleBasedDirectRunner"
# Runners that execute in this process, where the batched ack-after-commit source runs.
IN_PROCESS_RUNNERS = {"BundleBasedDirectRunner", "DirectRunner", "SwitchingDirectRunner"}


# The event-time flags: (flag, EventTimeSettings field, help). Durations are written
# 90s, 10m, 2h or 7d, and kept as text in the options (see arguments.duration_flag).
_EVENT_TIME_DURATIONS = (
    (
        "--max-out-of-orderness",
        "max_out_of_orderness",
        "the batched source's watermark trails the newest event time read by this much (an "
        "event at most this much older than one read before it is not late); Dataflow's "
        "read estimates its own",
    ),
    (
        "--allowed-lateness",
        "allowed_lateness",
        "how long after a rollup window's end (by the watermark) late data still updates it",
    ),
    ("--rollup-window", "rollup_window", "width of the event-time rollup windows; divides a day"),
    (
        "--join-horizon",
        "join_horizon",
        "an interaction's join state lives this long (event time) after its latest part",
    ),
    (
        "--repeat-window",
        "repeat_window",
        "a customer back within this long about the same cause is a repeat contact",
    ),
)


class VocOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("voc")
        group.add_argument(
            "--duckdb",
            default=DEFAULT_DUCKDB,
            help=f"DuckDB file to load (default: {DEFAULT_DUCKDB})",
        )
        group.add_argument(
            "--sink",
            choices=("duckdb", "ducklake"),
            default="duckdb",
            help="where the tables go: duckdb (the --duckdb file, one writer) or ducklake "
            "(--catalog and --data-path, many writers; docs/ducklake.md)",
        )
        group.add_argument(
            "--catalog",
            default=None,
            metavar="CATALOG",
            help="the DuckLake's PostgreSQL catalog, 'postgres:dbname=... host=...' "
            "(--sink ducklake)",
        )
        group.add_argument(
            "--data-path",
            dest="data_path",
            default=None,
            metavar="PATH",
            help="where the DuckLake's Parquet files go: a directory, gs://... or s3://... "
            "(--sink ducklake)",
        )
        group.add_argument(
            "--taxonomy",
            default=None,
            help="root-cause taxonomy YAML (default: the generic pack)",
        )
        group.add_argument(
            "--taxonomy-pack",
            dest="taxonomy_pack",
            default=None,
            help="a shipped industry pack instead of a file: generic, retail, saas, telecom, "
            "travel, banking, utilities",
        )
        group.add_argument(
            "--owners",
            default=None,
            metavar="FILE",
            help="owners registry YAML: each department's owner, contact, digest schedule and "
            "delivery, copied into the departments table at start (default: the packaged "
            "schemas/tagging/owners.yaml)",
        )
        group.add_argument(
            "--model",
            default=None,
            help="a learned model file from 'voc learn', blended into sentiment and used for "
            "texts no rule tags (default: rules only)",
        )
        group.add_argument(
            "--surveys-subscription",
            dest="surveys_subscription",
            default=TOPOLOGY["surveys"],
            help="subscription of survey events: short name or projects/P/subscriptions/S "
            "with P the --project",
        )
        group.add_argument(
            "--notes-subscription",
            dest="notes_subscription",
            default=TOPOLOGY["agent-notes"],
            help="subscription of agent-note events: short name or full path in the --project",
        )
        group.add_argument(
            "--source",
            choices=("auto", "batched", "native"),
            default="auto",
            help="batched: large bundles, ack after commit (in-process runners only); "
            "native: Beam's ReadFromPubSub; auto: batched on the DirectRunner, else native",
        )
        group.add_argument(
            "--stop-when-idle",
            dest="stop_when_idle",
            type=seconds,
            default=None,
            metavar="SECONDS",
            help="drain and stop once no message arrived for this long (batched source)",
        )
        group.add_argument(
            "--max-batch",
            dest="max_batch",
            type=whole_number(1, MAX_BATCH),
            default=1000,
            help=f"most messages per bundle, 1-{MAX_BATCH:,} (batched source; default 1000)",
        )
        group.add_argument(
            "--max-outstanding",
            dest="max_outstanding",
            type=whole_number(1, MAX_OUTSTANDING),
            default=5000,
            help=f"most messages pulled but not yet committed, 1-{MAX_OUTSTANDING:,} "
            "(batched source; default 5000)",
        )
        group.add_argument(
            "--max-linger",
            dest="max_linger",
            type=seconds,
            default=0.25,
            metavar="SECONDS",
            help="longest wait to fill a bundle (batched source; default 0.25)",
        )
        group.add_argument(
            "--id-attribute",
            dest="id_attribute",
            default="event_id",
            metavar="NAME",
            help="message attribute with a unique event id; Dataflow's native source drops "
            "re-publishes that repeat it (default: event_id; '' to use Pub/Sub message ids)",
        )
        group.add_argument(
            "--stop-grace",
            dest="stop_grace",
            type=seconds,
            default=30.0,
            metavar="SECONDS",
            help="once asked to stop, how long a write failing on a locked file or full "
            "disk is still retried before the job exits unacknowledged (default 30)",
        )
        group.add_argument(
            "--max-message-bytes",
            dest="max_message_bytes",
            type=whole_number(low=1024, high=PUBSUB_MAX_MESSAGE_BYTES),
            default=DEFAULT_MAX_MESSAGE_BYTES,
            metavar="BYTES",
            help="a message larger than this is a too_large dead letter that keeps its first "
            f"64 KiB, size and hash (default {DEFAULT_MAX_MESSAGE_BYTES:,}; at most "
            f"{PUBSUB_MAX_MESSAGE_BYTES:,}, Pub/Sub's own limit)",
        )
        group.add_argument(
            "--event-time-skew",
            dest="event_time_skew",
            type=seconds,
            default=ParseLimits().future_skew.total_seconds(),
            metavar="SECONDS",
            help="an event time further ahead of now than this is implausible_event_time "
            "(default 86400, a day)",
        )
        group.add_argument(
            "--event-time-horizon-days",
            dest="event_time_horizon_days",
            type=whole_number(low=1, high=36_500),
            default=ParseLimits().max_age.days,
            metavar="DAYS",
            help="an event time older than this is implausible_event_time (default 1825, "
            "five years)",
        )
        group.add_argument(
            "--pseudonym-key-file",
            dest="pseudonym_key_file",
            default=DEFAULT_KEY_FILE,
            metavar="PATH",
            help="key for pseudonymising identifiers that hold personal data (created with "
            f"a random key if missing; {KEY_ENV} overrides it; default {DEFAULT_KEY_FILE})",
        )
        for flag, name, about in _EVENT_TIME_DURATIONS:
            default = duration_text(getattr(DEFAULT_SETTINGS, name))
            group.add_argument(
                flag,
                dest=name,
                type=duration_flag,
                default=default,
                metavar="DURATION",
                help=f"{about} (like 90s, 10m, 2h, 7d; at most {MAX_DURATION.days} days; "
                f"default {default})",
            )
        group.add_argument(
            "--alert-threshold",
            dest="alert_threshold",
            type=positive_float,
            default=DEFAULT_SETTINGS.alert_threshold,
            help="an alert opens when a cause's window volume scores at least this far above "
            f"its baseline; above 0 (default {DEFAULT_SETTINGS.alert_threshold:g})",
        )
        group.add_argument(
            "--alert-min-count",
            dest="alert_min_count",
            type=whole_number(1, MAX_ALERT_MIN_COUNT),
            default=DEFAULT_SETTINGS.alert_min_count,
            help="fewest events in a window for an alert, "
            f"1-{MAX_ALERT_MIN_COUNT:,} (default {DEFAULT_SETTINGS.alert_min_count})",
        )
        group.add_argument(
            "--state-shards",
            dest="state_shards",
            type=whole_number(1, MAX_STATE_SHARDS),
            default=DEFAULT_SETTINGS.state_shards,
            help="keyed state of each event-time branch is sharded this many ways, "
            f"1-{MAX_STATE_SHARDS:,} (default {DEFAULT_SETTINGS.state_shards})",
        )
        group.add_argument(
            "--no-derived",
            dest="no_derived",
            action="store_true",
            help="store the facts only: no interactions, rollups, late events, alerts or "
            "repeat contacts (voc reconcile can derive them later)",
        )
        group.add_argument(
            "--recovery-due",
            dest="recovery_due",
            type=duration_flag,
            default=duration_text(DEFAULT_RECOVERY_DUE),
            metavar="DURATION",
            help="a detractor's or strongly negative survey's follow-up item is due this long "
            f"after the survey (like 4h, 2d; above zero, at most {MAX_DURATION.days} days; "
            f"default {duration_text(DEFAULT_RECOVERY_DUE)})",
        )
        group.add_argument(
            "--progress-every",
            dest="progress_every",
            type=seconds,
            default=0,
            metavar="SECONDS",
            help="print a progress line this often (0: never)",
        )
        group.add_argument(
            "--serve",
            dest="serve",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="serve the database read-only over Quack on localhost while the job runs, so "
            "owners can query it ('voc sql'); the token is in <duckdb>.live, readable by this "
            "user only (in-process runs only; default: --serve)",
        )
        group.add_argument(
            "--serve-port",
            dest="serve_port",
            type=whole_number(0, MAX_PORT),
            default=0,
            metavar="PORT",
            help=f"port of the SQL server on localhost, 0-{MAX_PORT} (default 0: a free one)",
        )


@dataclass(frozen=True)
class JobConfig:
    """Validated settings the driver acts on."""

    runner: str
    project: str
    subscriptions: tuple[str, str]
    duckdb: str
    taxonomy: str | None
    batched: bool
    model: str | None = None
    # The native source's id_label; None where the runner cannot use one (DirectRunner).
    id_attribute: str | None = None
    stop_grace: float = 30.0
    parse_limits: ParseLimits = field(default_factory=ParseLimits)
    # Read from VOC_PSEUDONYM_KEY or the key file; never printed.
    pseudonym_key: bytes | None = field(default=None, repr=False)
    # Watermark bound, lateness, windows and thresholds of the event-time branches.
    event_time: EventTimeSettings = DEFAULT_SETTINGS
    # False: facts only (--no-derived).
    derived: bool = True
    # Serve the file read-only over Quack on localhost (--serve, in-process runs only);
    # port 0: a free one.
    serve: bool = False
    serve_port: int = 0
    # A recovery item is due this long after its survey (--recovery-due).
    recovery_due: timedelta = DEFAULT_RECOVERY_DUE
    # The departments table's rows: the taxonomy's departments with their owners (--owners).
    departments: tuple[dict, ...] = ()
    # --sink ducklake: the lake the facts go to (None: the --duckdb file).
    lake: LakeSpec | None = None


def subscription_path(project: str, name: str) -> str:
    return name if name.startswith("projects/") else f"projects/{project}/subscriptions/{name}"


def _subscription(project: str, flag: str, name: str) -> str:
    """The full path of a subscription flag's value, refused unless it is a valid
    Pub/Sub name (or a path) inside the job's project."""
    try:
        return subscription_path(project, pubsub_short_name(name, "subscriptions", project))
    except ValueError as error:
        raise ConfigError(f"{flag} {name}: {error}") from None


def job_flags(project: str, subscriptions: Mapping[str, str], duckdb: str | Path) -> list[str]:
    """The flags that point a job at a project, its two subscriptions (keyed by topic,
    as in TOPOLOGY) and a DuckDB file: for the harnesses that start jobs themselves."""
    return [
        f"--project={project}",
        f"--surveys-subscription={subscriptions['surveys']}",
        f"--notes-subscription={subscriptions['agent-notes']}",
        f"--duckdb={duckdb}",
    ]


class _FlagParser(_BeamArgumentParser):
    """Beam's parser, with a bad value (``--num_workers abc``) as one line, not usage + exit."""

    def error(self, message: str):
        raise ConfigError(f"{message} (see 'voc run --help')")


def check_flags(argv: list[str]) -> None:
    """Reject flags no options class knows: Beam itself only logs and drops them."""
    parser = _FlagParser(allow_abbrev=False, add_help=False)
    seen = set()
    for cls in PipelineOptions.__subclasses__():
        if str(cls) not in seen:
            seen.add(str(cls))
            cls._add_argparse_args(parser)
    unknown = [arg for arg in parser.parse_known_args(argv)[1] if arg.startswith("-")]
    if unknown:
        raise ConfigError(f"unknown option {unknown[0].split('=')[0]} (see 'voc run --help')")


def taxonomy_reference(path: str | None, pack: str | None) -> str | None:
    """What the job carries to name its taxonomy: a file path, ``pack:NAME``, or None
    (the default pack); refused when both flags are given."""
    if path is not None and pack is not None:
        raise ConfigError("--taxonomy and --taxonomy-pack are alternatives; give one")
    return f"{PACK_PREFIX}{pack}" if pack is not None else path


def check_taxonomy(reference: str | None) -> None:
    """Load (and cache) the taxonomy now, so a bad file fails before any work starts."""
    from voc.transforms.tag_feedback import shared_taxonomy
    from voc.transforms.taxonomy import TaxonomyError

    is_pack = reference is not None and reference.startswith(PACK_PREFIX)
    if reference is not None and not is_pack and not Path(reference).is_file():
        raise ConfigError(f"--taxonomy {reference}: no such file")
    try:
        shared_taxonomy(reference)
    except TaxonomyError as error:
        flag = "--taxonomy-pack" if is_pack else "--taxonomy"
        raise ConfigError(f"{flag}: {error}") from None


def owned_departments(owners: str | None, taxonomy: str | None) -> tuple[dict, ...]:
    """The departments table's rows: the taxonomy's departments joined with the owners
    registry. A registry given with --owners must name only the taxonomy's departments;
    the packaged one (written for the generic pack) is used for those it shares."""
    from voc.transforms.owners_registry import OwnersRegistryError, department_rows, load_owners
    from voc.transforms.tag_feedback import shared_taxonomy

    known = shared_taxonomy(taxonomy).departments
    if owners is not None and not Path(owners).is_file():
        raise ConfigError(f"--owners {owners}: no such file")
    try:
        registry = load_owners(owners, known if owners is not None else None)
    except OwnersRegistryError as error:
        raise ConfigError(f"--owners: {error}") from None
    return tuple(department_rows(known, registry))


def check_model(path: str | None) -> None:
    """Load (and cache) the learned model now: a missing, tampered or under-trained
    model fails before any work starts, on one line."""
    if path is None:
        return
    from voc.transforms.learned_model import ModelError
    from voc.transforms.tag_feedback import shared_model

    if not Path(path).is_file():
        raise ConfigError(f"--model {path}: no such file")
    try:
        shared_model(path)
    except ModelError as error:
        raise ConfigError(f"--model {path}: {error}") from None


def event_time_settings(voc: VocOptions) -> EventTimeSettings:
    """The event-time settings from the flags; ConfigError names the flag that breaks
    a rule of :class:`EventTimeSettings` (a rollup window that does not divide a day,
    a zero horizon, ...).

    Each flag's value is checked alone against the defaults first, so the error names
    the flag at fault rather than the settings as a whole.
    """
    flags = {name: flag for flag, name, _ in _EVENT_TIME_DURATIONS}
    values = {name: _duration_option(flag, getattr(voc, name)) for name, flag in flags.items()}
    values |= {
        "alert_threshold": voc.alert_threshold,
        "alert_min_count": voc.alert_min_count,
        "state_shards": voc.state_shards,
    }
    for name, value in values.items():
        try:
            dataclasses.replace(DEFAULT_SETTINGS, **{name: value})
        except ValueError as error:
            flag = flags.get(name, f"--{name.replace('_', '-')}")
            shown = getattr(voc, name)
            raise ConfigError(f"{flag} {shown}: {error}") from None
    try:
        return EventTimeSettings(**values)
    except ValueError as error:  # a rule across flags
        raise ConfigError(f"event-time flags: {error}") from None


def _duration_option(flag: str, value: str | timedelta) -> timedelta:
    """A duration option's value: text from the command line (checked there already),
    or whatever a caller set in code (``PipelineOptions(rollup_window="30m")``)."""
    if isinstance(value, timedelta):
        return value
    try:
        return duration(str(value))
    except argparse.ArgumentTypeError as error:
        raise ConfigError(f"{flag}: {error}") from None


def recovery_due(voc: VocOptions) -> timedelta:
    """``--recovery-due`` as a duration; zero is refused (every item would be overdue
    the moment it is made)."""
    due = _duration_option("--recovery-due", voc.recovery_due)
    if due <= timedelta(0):
        raise ConfigError(f"--recovery-due {voc.recovery_due}: must be above zero")
    return due


def _serve_port(value: object) -> int:
    """``--serve-port`` as set in code or on the command line: 0 (any free port) to 65535."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PORT:
        raise ConfigError(f"--serve-port {value}: expected a port number, 0-{MAX_PORT}")
    return value


def validate(options: PipelineOptions) -> JobConfig:
    """Check everything that can be checked before the job starts."""
    voc = options.view_as(VocOptions)
    standard = options.view_as(StandardOptions)
    runner = standard.runner or LOCAL_RUNNER
    standard.runner = runner
    standard.streaming = True
    project = (
        options.view_as(GoogleCloudOptions).project
        or os.environ.get("PUBSUB_PROJECT_ID")
        or DEFAULT_PROJECT
    )
    options.view_as(GoogleCloudOptions).project = project

    if voc.source == "batched" and runner not in IN_PROCESS_RUNNERS:
        raise ConfigError(f"--source batched runs only on the DirectRunner, not {runner}")
    batched = voc.source == "batched" or (voc.source == "auto" and runner in IN_PROCESS_RUNNERS)
    if voc.stop_when_idle is not None and not batched:
        raise ConfigError("--stop-when-idle needs the batched source (DirectRunner)")

    surveys = _subscription(project, "--surveys-subscription", voc.surveys_subscription)
    notes = _subscription(project, "--notes-subscription", voc.notes_subscription)
    event_time = event_time_settings(voc)
    due = recovery_due(voc)

    taxonomy = taxonomy_reference(voc.taxonomy, voc.taxonomy_pack)
    check_taxonomy(taxonomy)
    departments = owned_departments(voc.owners, taxonomy)
    check_model(voc.model)

    serve_port = _serve_port(voc.serve_port)
    lake = lake_sink(
        getattr(voc, "sink", None),
        getattr(voc, "catalog", None),
        getattr(voc, "data_path", None),
        in_process=runner in IN_PROCESS_RUNNERS,
    )

    problem = output_file_problem(voc.duckdb)
    if problem is not None:
        raise ConfigError(f"--duckdb {voc.duckdb}: {problem}")

    try:
        pseudonym_key = load_key(voc.pseudonym_key_file)
    except PseudonymKeyError as error:
        raise ConfigError(f"--pseudonym-key-file: {error}") from None

    return JobConfig(
        runner=runner,
        project=project,
        subscriptions=(surveys, notes),
        duckdb=str(Path(voc.duckdb)),
        taxonomy=taxonomy,
        batched=batched,
        model=str(Path(voc.model)) if voc.model else None,
        id_attribute=(voc.id_attribute or None) if runner not in IN_PROCESS_RUNNERS else None,
        stop_grace=voc.stop_grace,
        parse_limits=ParseLimits(
            max_bytes=voc.max_message_bytes,
            future_skew=timedelta(seconds=voc.event_time_skew),
            max_age=timedelta(days=voc.event_time_horizon_days),
        ),
        pseudonym_key=pseudonym_key,
        event_time=event_time,
        derived=not voc.no_derived,
        # Owners read a lake directly (VOC_STORE), not through the job.
        serve=bool(voc.serve) and batched and lake is None,
        serve_port=serve_port,
        recovery_due=due,
        departments=departments,
        lake=lake,
    )
