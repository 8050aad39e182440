"""``voc schema check``: name every breaking change of a candidate event contract."""

from __future__ import annotations

import sys
from pathlib import Path

from voc.pipelines.cli.common import UsageError, add_actions


def add_parsers(commands) -> dict:
    actions = add_actions(
        commands,
        "schema",
        help="check event contracts for breaking changes",
        description="Check a candidate contract (schemas/events/<event_type>.v<N>.json) "
        "against version N-1, or, without files, every shipped contract version against the "
        "one before.",
    )
    check = actions.add_parser("check", help="exit 1 and name each breaking change")
    check.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="candidate contracts, named <event_type>.v<N>.json (default: the shipped ones)",
    )
    return {"schema": schema_command}


def schema_command(args, _argv, _beam) -> int:
    from voc.schemas.compatibility import check_candidate, check_contract_family

    for path in args.files:
        if not Path(path).is_file():
            raise UsageError(f"voc schema check: {path}: no such file")
    problems = (
        [p for path in args.files for p in check_candidate(path)]
        if args.files
        else check_contract_family()
    )
    for problem in problems:
        print(problem)
    checked = ", ".join(Path(f).name for f in args.files) or "the shipped contracts"
    if problems:
        print(f"voc schema check: {len(problems)} problem(s) in {checked}", file=sys.stderr)
        return 1
    print(f"voc schema check: {checked}: compatible")
    return 0
