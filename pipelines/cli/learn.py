"""``voc learn``: train sentiment and cause models from the stream's own survey scores.

    voc learn --duckdb voc.duckdb --out model.json.gz [--taxonomy FILE | --taxonomy-pack NAME]
    voc learn --history history.jsonl --out model.json
    voc learn --explain model.json.gz

What is learned, from which labels and why, is in
:mod:`voc.pipelines.ops.learn_model`; the file and how it scores, in
:mod:`voc.transforms.learned_model`.
"""

from __future__ import annotations

from pathlib import Path

from voc.pipelines.cli.causes import add_taxonomy_options
from voc.pipelines.cli.common import UsageError, require_output_file, whole_number
from voc.transforms.learned_model import MIN_PER_CLASS as _MIN_PER_CLASS_DEFAULT
from voc.transforms.learned_model import MIN_PER_CLASS_FLOOR as _MIN_PER_CLASS_FLOOR


def add_parsers(commands) -> dict:
    learn = commands.add_parser(
        "learn",
        help="train sentiment and cause models from survey scores and rule tags",
        description="Train a sentiment model on comments labelled by their own survey "
        "scores (CSAT 1-2 negative, 3 neutral, 4-5 positive; else NPS 0-6/7-8/9-10; else "
        "CES 5-7/4/1-3) and a cause model on confident rule tags, for texts no rule "
        "matches. Writes a JSON model file (gzip when it ends .gz).",
    )
    source = learn.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--duckdb", metavar="FILE", help="a DuckDB file the pipeline wrote (read only)"
    )
    source.add_argument(
        "--history",
        metavar="FILE",
        help='a JSONL export: {"text": ..., "csat"|"nps"|"ces"|"label": ...} a line',
    )
    source.add_argument(
        "--explain", metavar="MODEL", help="print what a model file learned, and exit"
    )
    learn.add_argument("--out", metavar="MODEL", help="model file to write (.json or .json.gz)")
    learn.add_argument(
        "--min-per-class",
        type=whole_number(low=_MIN_PER_CLASS_FLOOR),
        default=_MIN_PER_CLASS_DEFAULT,
        metavar="N",
        help=f"fewest sentiment examples each class needs (default {_MIN_PER_CLASS_DEFAULT}, "
        f"at least {_MIN_PER_CLASS_FLOOR})",
    )
    learn.add_argument(
        "--top",
        type=whole_number(low=1, high=1000),
        default=15,
        metavar="N",
        help="with --explain: features shown per class (default 15)",
    )
    add_taxonomy_options(learn)
    return {"learn": learn_command}


def learn_command(args, _argv, _beam) -> int:
    if args.explain:
        return _explain(args)
    if not args.out:
        raise UsageError("voc learn: --out MODEL is required to train (or use --explain MODEL)")
    require_output_file("voc learn", "--out", args.out)
    source = Path(args.duckdb or args.history)
    flag = "--duckdb" if args.duckdb else "--history"
    if not source.is_file():
        raise UsageError(f"voc learn: {flag} {source}: no such file")
    reference = _taxonomy_reference(args)

    from voc.pipelines.ops.learn_model import (
        LearnError,
        LearnSettings,
        learn_from_duckdb,
        learn_from_history,
        read_history,
        save_model,
    )
    from voc.transforms.learned_model import ModelError
    from voc.transforms.taxonomy import TaxonomyError

    def progress(message: str) -> None:
        # stdout: stderr carries only the one line of an error
        print(f"voc learn: {message}", flush=True)

    try:
        settings = LearnSettings(min_per_class=args.min_per_class)
        if args.duckdb:
            model = learn_from_duckdb(source, reference, settings, log=progress)
        else:
            model = learn_from_history(read_history(source), reference, settings, log=progress)
        save_model(model, args.out)
    except (LearnError, ModelError, TaxonomyError) as error:
        raise UsageError(f"voc learn: {error}") from None
    except OSError as error:
        raise UsageError(f"voc learn: --out {args.out}: {error.strerror or error}") from None
    counts = model.sentiment_counts
    causes = (
        f"{len(model.cause_ids)} causes"
        if model.has_causes
        else f"no causes ({model.training.get('causes_skipped', 'too few weak labels')})"
    )
    print(
        f"voc learn: wrote {args.out} ({model.version}): sentiment "
        + ", ".join(f"{label} {count:,}" for label, count in counts.items())
        + f"; {causes}"
    )
    return 0


def _explain(args) -> int:
    if args.out:
        raise UsageError("voc learn: --explain reads a model; it takes no --out")
    from voc.pipelines.ops.explain_model import explain
    from voc.transforms.learned_model import ModelError, load_model

    try:
        model = load_model(args.explain)
    except ModelError as error:
        raise UsageError(f"voc learn: --explain {error}") from None
    print(explain(model, top=args.top))
    return 0


def _taxonomy_reference(args) -> str | None:
    from voc.transforms.taxonomy import PACK_PREFIX

    if args.taxonomy_pack:
        return PACK_PREFIX + args.taxonomy_pack
    if args.taxonomy and not Path(args.taxonomy).is_file():
        raise UsageError(f"voc learn: --taxonomy {args.taxonomy}: no such file")
    return args.taxonomy
