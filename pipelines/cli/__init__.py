"""The ``voc`` command line.

    voc demo                         generate, publish, run, summarise (embedded defaults)
    voc emulator start|stop|env      a local Pub/Sub emulator with the voc topics
    voc generate -n 5000 --out F     realistic events as JSONL (or --publish)
    voc run [options]                the streaming job
    voc reconcile --duckdb F         rebuild (or --check) the derived tables from the facts
    voc summary --duckdb F           per-department summary of a DuckDB file
    voc taxonomy check|explain|packs check a taxonomy, explain its rules, list the packs
    voc tag --data FILE              tag a JSONL/CSV/TSV export without Pub/Sub or DuckDB
    voc eval causes|sentiment        tagging quality against labelled texts
    voc discover --since 7d          rising phrases in unclassified feedback
    voc learn --duckdb F --out M     train sentiment and cause models from survey scores
    voc dlq list|replay|purge        dead letters: by reason, re-publish after a fix, retention
    voc schema check [FILE ...]      breaking changes in event contracts

One module per command group (``job``, ``owners``, ``causes``, ``learn``, ``dlq``, ``schema``,
``dev``),
each adding its parsers and naming the function behind each command; what they
share (the one-line error, exit codes, argument types, defaults) is in
:mod:`voc.pipelines.cli.common`. Errors in flags or configuration print one
line and exit with code 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from voc.pipelines.cli import causes, dev, dlq, job, learn, owners, schema
from voc.pipelines.cli.common import EXIT_FAILED, EXIT_USAGE, Parser, UsageError

# Command groups in the order `voc --help` lists their commands.
GROUPS = (dev, job, owners, causes, learn, dlq, schema)

Command = Callable[..., int]


def build_parser() -> tuple[Parser, dict[str, Command]]:
    parser = Parser(prog="voc", description="Voice-of-customer feedback pipeline.")
    commands = parser.add_commands("command", "COMMAND")
    handlers: dict[str, Command] = {}
    for group in GROUPS:
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


def _dispatch(argv: list[str]) -> int:
    from voc.pipelines.dev.emulator import EmulatorError
    from voc.pipelines.local_driver import JobFailed
    from voc.pipelines.options import ConfigError
    from voc.transforms.taxonomy import TaxonomyError

    parser, handlers = build_parser()
    if argv[:1] in (["run"], ["reconcile"]):
        args, beam_args = parser.parse_known_args(argv)
    else:
        args, beam_args = parser.parse_args(argv), []
    try:
        return handlers[args.command](args, argv[1:], beam_args)
    except (ConfigError, TaxonomyError, EmulatorError, FileNotFoundError) as error:
        raise UsageError(f"voc {args.command}: {error}") from None
    except JobFailed as error:
        print(f"voc {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILED
