"""The ``voc`` command line.

    voc demo                         generate, publish, run, summarise (embedded defaults)
    voc emulator start|stop|env      a local Pub/Sub emulator with the voc topics
    voc generate -n 5000 --out F     realistic events as JSONL (or --publish)
    voc run [options]                the streaming job
    voc backfill --input GLOB        load saved messages (history) through the same steps
    voc reconcile --duckdb F         rebuild (or --check) the derived tables from the facts
    voc summary --duckdb F           per-department summary of a DuckDB file
    voc sql [QUERY|--file F]         read-only SQL, through the running job or the file
    voc taxonomy check|explain|packs check a taxonomy, explain its rules, list the packs
    voc tag --data FILE              tag a JSONL/CSV/TSV export without Pub/Sub or DuckDB
    voc eval causes|sentiment        tagging quality against labelled texts
    voc discover --since 7d          rising phrases in unclassified feedback
    voc learn --duckdb F --out M     train sentiment and cause models from survey scores
    voc retag --since D [--dry-run]  re-tag stored feedback as a version; --promote V, --list
    voc dlq list|replay|purge        dead letters: by reason, re-publish after a fix, retention
    voc recovery list|contact|...    the follow-up queue of detractors, worked while the job runs
    voc fix record|acknowledge|list  what owners did about a cause, and whether the fix worked
    voc schema check [FILE ...]      breaking changes in event contracts
    voc digest --department D|--all  department digests (html, md), --deliver by email/webhook
    voc schedule show|install        the digests' schedules as crontab lines or systemd timers
    voc lake maintain --catalog C    dedupe, compact and expire a DuckLake sink

One module per command group (``job``, ``owners``, ``sql``, ``causes``, ``learn``, ``dlq``,
``schema``, ``dev``),
each adding its parsers and naming the function behind each command; what they
share (the one-line error, exit codes, argument types, defaults) is in
:mod:`voc.pipelines.cli.common`. Errors in flags or configuration print one
line and exit with code 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from voc.pipelines.cli import (
    backfill,
    causes,
    dev,
    digest,
    dlq,
    job,
    lake,
    learn,
    owners,
    recovery,
    retag,
    schema,
    sql,
)
from voc.pipelines.cli.common import EXIT_FAILED, EXIT_USAGE, Parser, UsageError

# Command groups in the order `voc --help` lists their commands.
GROUPS = (
    dev,
    job,
    backfill,
    owners,
    sql,
    recovery,
    causes,
    learn,
    retag,
    dlq,
    schema,
    digest,
    lake,
)

Command = Callable[..., int]
JOB_COMMANDS = ("run", "reconcile")


def build_parser(command: str | None = None) -> tuple[Parser, dict[str, Command]]:
    """Every command's parser; ``command`` names the one about to run, if known.

    The job's flags come from its Beam options class, and importing it loads Beam,
    seconds of start-up that an owner's ``voc sql`` should not pay; they are added
    only when the job's commands (or every command, ``command=None``) are wanted.
    """
    parser = Parser(prog="voc", description="Voice-of-customer feedback pipeline.")
    commands = parser.add_commands("command", "COMMAND")
    handlers: dict[str, Command] = {}
    for group in GROUPS:
        if group is job:
            handlers.update(job.add_parsers(commands, command in (None, *JOB_COMMANDS)))
        else:
            handlers.update(group.add_parsers(commands))
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    from voc.pipelines.logs import configure_logging

    configure_logging()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(argv)
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("voc: interrupted", file=sys.stderr)
        return 130


# Errors that mean "your flags or config are wrong" (exit 2) and "the job failed"
# (exit 1), by module and class. Looked up only in modules already imported: an error
# can only be of a class whose module was loaded, and importing these up front would
# load Beam into every command (seconds before `voc sql` could answer).
USAGE_ERRORS = (
    ("voc.pipelines.options", "ConfigError"),
    ("voc.transforms.taxonomy", "TaxonomyError"),
    ("voc.pipelines.dev.emulator", "EmulatorError"),
)
JOB_ERRORS = (("voc.pipelines.local_driver", "JobFailed"),)


def _is_one_of(error: BaseException, classes: Sequence[tuple[str, str]]) -> bool:
    for module, name in classes:
        loaded = sys.modules.get(module)
        if loaded is not None and isinstance(error, getattr(loaded, name)):
            return True
    return False


def _dispatch(argv: list[str]) -> int:
    parser, handlers = build_parser(argv[0] if argv else "")
    if argv[:1] in (["run"], ["reconcile"]):
        args, beam_args = parser.parse_known_args(argv)
    else:
        args, beam_args = parser.parse_args(argv), []
    try:
        return handlers[args.command](args, argv[1:], beam_args)
    except Exception as error:
        if isinstance(error, FileNotFoundError) or _is_one_of(error, USAGE_ERRORS):
            raise UsageError(f"voc {args.command}: {error}") from None
        if _is_one_of(error, JOB_ERRORS):
            print(f"voc {args.command}: {error}", file=sys.stderr)
            return EXIT_FAILED
        raise
