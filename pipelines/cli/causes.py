"""Commands for the people who own a taxonomy, and for trying one before deploying it.

    voc taxonomy check [FILE | --taxonomy-pack NAME]   every problem, one line each
    voc taxonomy explain "text" [...]                  which rules fire, where, and why not
    voc taxonomy packs                                 the shipped industry packs
    voc tag --data FILE [--out FILE] [--model MODEL]   tag an export, no Pub/Sub or DuckDB
    voc eval causes --data FILE [--json]               precision/recall against labels
    voc eval sentiment --data FILE|DIR [--json]        sentiment accuracy, macro-F1, confusions
    voc discover --since 7d [--duckdb FILE]            rising phrases in unclassified feedback

Every command that reads a taxonomy takes ``--taxonomy FILE`` or
``--taxonomy-pack NAME`` (default: the generic pack).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from voc.pipelines.cli.common import DEFAULT_DUCKDB, EXIT_FAILED, UsageError, add_actions


def add_parsers(commands) -> dict:
    actions = add_actions(
        commands, "taxonomy", help="check a taxonomy, explain its rules on a text, list packs"
    )
    check = actions.add_parser("check", help="print every problem (file:line: field: problem)")
    check.add_argument("file", nargs="?", metavar="FILE", help="taxonomy YAML to check")
    check.add_argument("--taxonomy-pack", metavar="NAME", help="check a shipped pack instead")
    explain = actions.add_parser("explain", help="show which rules fire on a text, and why not")
    explain.add_argument("text", help="the feedback text")
    add_taxonomy_options(explain)
    actions.add_parser("packs", help="list the shipped industry packs")

    tag = commands.add_parser("tag", help="tag a JSONL/CSV/TSV file of texts, one JSON line each")
    tag.add_argument("--data", required=True, metavar="FILE", help="file with a 'text' column")
    tag.add_argument("--out", default="-", metavar="FILE", help="output JSONL (default: stdout)")
    tag.add_argument(
        "--model", metavar="MODEL", help="blend in a learned model, as 'voc run --model' does"
    )
    add_taxonomy_options(tag)

    evaluate = add_actions(commands, "eval", help="measure tagging against labelled texts")
    causes = evaluate.add_parser("causes", help="root-cause precision, recall and coverage")
    causes.add_argument(
        "--data", required=True, metavar="FILE", help="JSONL/CSV/TSV with text and label(s)"
    )
    causes.add_argument("--json", action="store_true", help="print the report as JSON")
    add_taxonomy_options(causes)
    sentiment = evaluate.add_parser(
        "sentiment", help="sentiment accuracy, macro-F1 and confusions: plain VADER vs voc"
    )
    sentiment.add_argument(
        "--data",
        required=True,
        metavar="FILE|DIR",
        help="JSONL/CSV/TSV with text and label (kind optional), or a directory of "
        "*_labelled.txt files",
    )
    sentiment.add_argument("--json", action="store_true", help="print the report as JSON")
    learned = sentiment.add_mutually_exclusive_group()
    learned.add_argument(
        "--model", metavar="MODEL", help="also score with this learned model (voc learn)"
    )
    learned.add_argument(
        "--history",
        metavar="FILE",
        help="learn a model from this history export (text + csat/nps/ces or label) "
        "and also score with it",
    )

    discover = commands.add_parser(
        "discover", help="phrases rising in unclassified feedback, as a taxonomy snippet"
    )
    discover.add_argument("--since", default="7d", help="recent window: 7d, 48h, 2w (default 7d)")
    discover.add_argument(
        "--duckdb", default=DEFAULT_DUCKDB, help=f"DuckDB file to read (default: {DEFAULT_DUCKDB})"
    )
    discover.add_argument(
        "--top", type=int, default=15, help="how many phrases to propose (default 15)"
    )
    discover.add_argument(
        "--min-count", type=int, default=3, help="fewest recent texts a phrase needs (default 3)"
    )
    add_taxonomy_options(discover)
    return {
        "taxonomy": taxonomy_command,
        "tag": tag_command,
        "eval": eval_command,
        "discover": discover_command,
    }


def add_taxonomy_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--taxonomy", metavar="FILE", help="taxonomy YAML")
    group.add_argument("--taxonomy-pack", metavar="NAME", help="a shipped pack (default: generic)")


def load_chosen_taxonomy(command: str, args):
    """The taxonomy the flags name; any problem is a one-line usage error."""
    from voc.transforms.taxonomy import TaxonomyError, load_taxonomy

    try:
        return load_taxonomy(args.taxonomy, pack=args.taxonomy_pack)
    except TaxonomyError as error:
        raise UsageError(f"{command}: {error}") from None


def taxonomy_command(args, _argv, _beam) -> int:
    from voc.transforms.taxonomy import available_packs, check_taxonomy

    if args.action == "packs":
        from voc.transforms.taxonomy import load_taxonomy

        for name in available_packs():
            taxonomy = load_taxonomy(pack=name)
            print(f"{name:<12} {taxonomy.release:<8} {len(taxonomy.cause_ids):>3} causes")
        return 0
    if args.action == "check":
        if args.file and args.taxonomy_pack:
            raise UsageError("voc taxonomy check: give FILE or --taxonomy-pack, not both")
        if not args.file and not args.taxonomy_pack:
            raise UsageError("voc taxonomy check: name a FILE or a --taxonomy-pack")
        problems = check_taxonomy(args.file, pack=args.taxonomy_pack)
        for problem in problems:
            print(problem)
        if problems:
            return 2
        print(f"{args.file or args.taxonomy_pack}: ok")
        return 0
    from voc.pipelines.ops.explain_causes import explain

    print(explain(args.text, load_chosen_taxonomy("voc taxonomy explain", args)))
    return 0


def tag_command(args, _argv, _beam) -> int:
    from voc.pipelines.cli.common import require_output_file
    from voc.pipelines.ops.tag_file import tag_rows
    from voc.pipelines.ops.text_files import TextFileError, read_rows

    taxonomy = load_chosen_taxonomy("voc tag", args)
    if args.out != "-":
        require_output_file("voc tag", "--out", args.out)
    if not Path(args.data).is_file():
        raise UsageError(f"voc tag: --data {args.data}: no such file")
    if args.model is not None and not Path(args.model).is_file():
        raise UsageError(f"voc tag: --model {args.model}: no such file")
    model = load_sentiment_model("voc tag", args)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")  # noqa: SIM115
    try:
        count = 0
        for line in tag_rows(read_rows(args.data), taxonomy, model):
            out.write(line)
            out.write("\n")
            count += 1
    except TextFileError as error:
        raise UsageError(f"voc tag: {error}") from None
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"voc tag: {count} texts tagged with {taxonomy.label}", file=sys.stderr)
    return 0


def eval_command(args, _argv, _beam) -> int:
    if args.action == "sentiment":
        return eval_sentiment_command(args)
    from voc.pipelines.ops.cause_evaluation import evaluate_causes, format_report, read_labelled
    from voc.pipelines.ops.text_files import TextFileError

    taxonomy = load_chosen_taxonomy("voc eval causes", args)
    if not Path(args.data).is_file():
        raise UsageError(f"voc eval causes: --data {args.data}: no such file")
    try:
        report = evaluate_causes(read_labelled(args.data), taxonomy).to_dict()
    except TextFileError as error:
        raise UsageError(f"voc eval causes: {error}") from None
    if report["texts"] == 0:
        raise UsageError(f"voc eval causes: --data {args.data}: no texts")
    print(json.dumps(report, indent=2, sort_keys=True) if args.json else format_report(report))
    return 0


def eval_sentiment_command(args) -> int:
    from voc.pipelines.ops.sentiment_evaluation import (
        LABELLED_SUFFIX,
        evaluate_sentiment,
        format_report,
        read_sentiment_data,
    )
    from voc.pipelines.ops.text_files import TextFileError

    command = "voc eval sentiment"
    data = Path(args.data)
    if data.is_dir():
        if not any(data.glob(f"*{LABELLED_SUFFIX}")):
            raise UsageError(f"{command}: --data {args.data}: no *{LABELLED_SUFFIX} files there")
    elif not data.is_file():
        raise UsageError(f"{command}: --data {args.data}: no such file or directory")
    for flag, path in (("--model", args.model), ("--history", args.history)):
        if path is not None and not Path(path).is_file():
            raise UsageError(f"{command}: {flag} {path}: no such file")
    try:
        examples = read_sentiment_data(data)
    except TextFileError as error:
        raise UsageError(f"{command}: {error}") from None
    if not examples:
        raise UsageError(f"{command}: --data {args.data}: no texts")
    model = load_sentiment_model(command, args)
    report = evaluate_sentiment(examples, model=model)
    print(json.dumps(report, indent=2, sort_keys=True) if args.json else format_report(report))
    return 0


def load_sentiment_model(command: str, args):
    """The learned model ``--model`` names or ``--history`` learns; None without either.
    A model file or history that cannot give a model is a one-line usage error."""
    if args.model is not None:
        from voc.transforms.learned_model import ModelError, load_model

        try:
            return load_model(args.model)
        except (ModelError, OSError) as error:
            problem = str(error)  # ModelError names the file itself
            if not problem.startswith(f"{args.model}:"):
                problem = f"{args.model}: {problem}"
            raise UsageError(f"{command}: --model {problem}") from None
    if getattr(args, "history", None) is not None:
        from voc.pipelines.ops.learn_model import learn_from_history, read_history

        try:
            return learn_from_history(read_history(args.history))
        except ValueError as error:  # ModelError: too few examples per class, ...
            raise UsageError(f"{command}: --history {args.history}: {error}") from None
    return None


def discover_command(args, _argv, _beam) -> int:
    from voc.pipelines.ops.discover_phrases import DiscoverError, discover, parse_window

    try:
        window = parse_window(args.since)
    except ValueError as error:
        raise UsageError(f"voc discover: --since {args.since}: {error}") from None
    if args.top < 1 or args.min_count < 1:
        raise UsageError("voc discover: --top and --min-count must be at least 1")
    if not Path(args.duckdb).is_file():
        raise UsageError(f"voc discover: --duckdb {args.duckdb}: no such file")
    taxonomy = load_chosen_taxonomy("voc discover", args)
    try:
        print(discover(args.duckdb, window, taxonomy, top=args.top, min_count=args.min_count))
    except DiscoverError as error:
        print(f"voc discover: {error}", file=sys.stderr)
        return EXIT_FAILED
    return 0
