"""The voc job as a Dataflow Flex Template: its parameters, its metadata, its launch.

A Flex Template passes every parameter as ``--name=value``. voc's own flags are
written with dashes (``--surveys-subscription``) and some take no value
(``--no-derived``), so the template's parameters are the options' argparse
destinations (``surveys_subscription``, letters, digits and underscores: names
any template tooling accepts), with booleans as ``true``/``false``, and
:func:`voc_flags` turns them back into the flags ``voc run`` knows. Beam's own
options (``--project``, ``--region``, ``--temp_location``, ...) pass through.

``metadata.json`` is generated from :class:`VocOptions` itself, so a new option
cannot be forgotten: ``python infra/dataflow/flex_template.py --check`` (and
tests/infra) fails while the file is out of date; without ``--check`` it rewrites
the file.

The launch (:func:`build_job`) differs from ``voc run`` in two ways: it never
waits for the job (a streaming job never finishes, and the template launcher only
submits), and it refuses to start without a fixed pseudonymisation key, because
the launcher's container is new at every launch and a key created there would give
every customer a new pseudonym at each job update.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

METADATA = Path(__file__).with_name("metadata.json")
TEMPLATE_NAME = "voc-streaming"
TEMPLATE_DESCRIPTION = (
    "voc: survey and agent-note feedback from Pub/Sub, parsed, redacted, tagged with "
    "sentiment and root causes, stored idempotently on event_id; event-time joins, "
    "rollups and alerts. Options are the flags of 'voc run' (docs/deploy.md)."
)
# Parameters the template insists on although 'voc run' has defaults for them:
# the local default of each is wrong on Dataflow (see the module docstring).
REQUIRED_ON_DATAFLOW = {"pseudonym_key_file"}
# Where a parameter names a Pub/Sub resource, the console offers a picker.
PARAM_TYPES = {
    "surveys_subscription": "PUBSUB_SUBSCRIPTION",
    "notes_subscription": "PUBSUB_SUBSCRIPTION",
}
TRUE_FALSE = "^(true|false)$"
_NUMBER = r"^[0-9]+(\.[0-9]+)?$"
# Types of pipelines/arguments.py, by name: what each accepts, as a regex.
_TYPE_REGEXES = {
    "parse": "^[0-9]+$",  # whole_number(low, high): the bounds are checked at launch
    "seconds": _NUMBER,
    "positive_float": _NUMBER,
    "non_negative_float": _NUMBER,
    "duration_flag": r"^[0-9]{1,9}(\.[0-9]{1,9})?[smhd]$",
}
_SUBSCRIPTION = (
    r"^(projects/[a-z][-a-z0-9:.]{4,61}/subscriptions/)?[A-Za-z][-A-Za-z0-9_.~+%]{2,254}$"
)


class TemplateError(ValueError):
    """A launch that must not go ahead; the message is one line."""


@dataclass(frozen=True)
class Parameter:
    """One VocOptions option as a template parameter."""

    name: str  # the argparse destination: the template's parameter name
    flag: str  # the flag 'voc run' takes
    kind: str  # "value", "store_true" or "boolean" (--x / --no-x)
    help: str
    regex: str | None
    param_type: str | None


def voc_parameters() -> list[Parameter]:
    """Every option VocOptions declares, in declaration order."""
    from voc.pipelines.options import VocOptions

    parser = argparse.ArgumentParser(add_help=False)
    VocOptions._add_argparse_args(parser)
    parameters = []
    for action in parser._actions:
        flag = next(s for s in action.option_strings if s.startswith("--"))
        if isinstance(action, argparse.BooleanOptionalAction):
            kind, regex = "boolean", TRUE_FALSE
        elif isinstance(action, argparse._StoreTrueAction):
            kind, regex = "store_true", TRUE_FALSE
        else:
            kind, regex = "value", _value_regex(action)
        parameters.append(
            Parameter(
                name=action.dest,
                flag=flag,
                kind=kind,
                help=" ".join((action.help or "").split()),
                regex=regex,
                param_type=PARAM_TYPES.get(action.dest),
            )
        )
    return parameters


def _value_regex(action: argparse.Action) -> str | None:
    if action.choices:
        return "^(" + "|".join(str(choice) for choice in action.choices) + ")$"
    if action.dest in PARAM_TYPES:
        return _SUBSCRIPTION
    return _TYPE_REGEXES.get(getattr(action.type, "__name__", ""))


def _label(flag: str) -> str:
    words = flag.lstrip("-").replace("-", " ")
    return words[0].upper() + words[1:]


def metadata() -> dict:
    """The template's metadata.json, from the options themselves."""
    entries = []
    for parameter in voc_parameters():
        entry = {
            "name": parameter.name,
            "label": _label(parameter.flag),
            "helpText": f"{parameter.flag}: {parameter.help}",
            "isOptional": parameter.name not in REQUIRED_ON_DATAFLOW,
        }
        if parameter.regex:
            entry["regexes"] = [parameter.regex]
        if parameter.param_type:
            entry["paramType"] = parameter.param_type
        entries.append(entry)
    return {
        "name": TEMPLATE_NAME,
        "description": TEMPLATE_DESCRIPTION,
        "streaming": True,
        "supportsAtLeastOnce": False,
        "supportsExactlyOnce": True,
        "parameters": entries,
    }


def metadata_text() -> str:
    return json.dumps(metadata(), indent=2, ensure_ascii=False) + "\n"


def voc_flags(argv: Iterable[str], parameters: list[Parameter] | None = None) -> list[str]:
    """The launcher's arguments with voc's template parameters turned into voc's flags.

    ``--surveys_subscription=S`` becomes ``--surveys-subscription=S``; a boolean
    ``--serve=false`` becomes ``--no-serve``, ``--no_derived=true`` becomes
    ``--no-derived`` (``false``: left out). Everything else (Beam's options, flags
    already written the voc way) is passed on unchanged.
    """
    by_name = {p.name: p for p in parameters or voc_parameters()}
    out = []
    for arg in argv:
        name, has_value, value = arg[2:].partition("=")
        parameter = by_name.get(name) if arg.startswith("--") and has_value else None
        if parameter is None:
            out.append(arg)
        elif parameter.kind == "value":
            out.append(f"{parameter.flag}={value}")
        else:
            out.extend(_boolean_flag(parameter, value))
    return out


def _boolean_flag(parameter: Parameter, value: str) -> list[str]:
    if value.lower() not in ("true", "false"):
        raise TemplateError(f"--{parameter.name}={value}: expected true or false")
    on = value.lower() == "true"
    if parameter.kind == "store_true":
        return [parameter.flag] if on else []
    return [parameter.flag if on else "--no-" + parameter.flag[2:]]


def read_key_from(path: str) -> str:
    """The pseudonymisation key's text from a file the launcher can read: gs://
    through Beam's file systems (the worker service account's access), else local."""
    from apache_beam.io.filesystems import FileSystems

    try:
        with FileSystems.open(path) as handle:
            return handle.read().decode("ascii", errors="replace").strip()
    except Exception as error:  # a missing object or no access: one line, not a trace
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise TemplateError(f"--pseudonym_key_file {path}: cannot read: {first}") from None


def fix_pseudonym_key(flags: list[str]) -> None:
    """Put the key where voc reads it first (``VOC_PSEUDONYM_KEY``), or refuse to launch."""
    from voc.transforms.pseudonymize_ids import KEY_ENV

    if os.environ.get(KEY_ENV):
        return
    given = [f.split("=", 1)[1] for f in flags if f.startswith("--pseudonym-key-file=")]
    if not given:
        raise TemplateError(
            "--pseudonym_key_file is required on Dataflow (e.g. gs://BUCKET/secrets/"
            "pseudonym.key): a key created by the launcher would change at every launch"
        )
    os.environ[KEY_ENV] = read_key_from(given[-1])


def build_job(argv: list[str]):
    """The pipeline and its validated config, built exactly as a launch builds it;
    the caller runs it (or a test translates it without submitting)."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from voc.pipelines.options import validate
    from voc.pipelines.streaming import build_pipeline

    # No check_flags here (voc run's refusal of unknown flags): the launcher adds
    # Beam and service flags of its own, and the service already checks the
    # template's parameters against metadata.json.
    flags = voc_flags(argv)
    fix_pseudonym_key(flags)
    options = PipelineOptions(flags)
    if not options.view_as(StandardOptions).runner:
        options.view_as(StandardOptions).runner = "DataflowRunner"
    config = validate(options)
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, config)
    return pipeline, config


def production_problem(config) -> str | None:
    """Why a validated job must not be launched on Dataflow, or None.

    A DuckDB file on a worker's disk has one writer per worker and is lost with the
    worker; only the DuckLake sink is shared by many workers and outlives them.
    """
    if getattr(config, "lake", None) is None:
        return (
            "on Dataflow the sink is --sink ducklake with --catalog and --data-path "
            "(a DuckDB file on a worker's disk is lost with the worker)"
        )
    return None


def launch(argv: list[str]) -> int:
    """Submit the job; never wait for it (the launcher only submits)."""
    from voc.pipelines.options import ConfigError

    try:
        pipeline, config = build_job(argv)
        problem = production_problem(config)
        if problem is not None:
            raise TemplateError(problem)
    except (ConfigError, TemplateError) as error:
        print(f"voc template: {error}", file=sys.stderr)
        return 2
    pipeline.run()
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="write or check infra/dataflow/metadata.json")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = metadata_text()
    if args.check:
        if not METADATA.is_file() or METADATA.read_text(encoding="utf-8") != text:
            print(
                f"{METADATA} is out of date: run python {Path(__file__).as_posix()}",
                file=sys.stderr,
            )
            return 1
        return 0
    METADATA.write_text(text, encoding="utf-8")
    print(f"wrote {METADATA} ({len(metadata()['parameters'])} parameters)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
