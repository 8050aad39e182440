"""The voc command line: help, and one-line errors with exit code 2 for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from voc.pipelines.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run_voc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voc.pipelines.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


COMMANDS = (
    "demo",
    "emulator",
    "generate",
    "run",
    "summary",
    "taxonomy",
    "tag",
    "eval",
    "discover",
    "learn",
    "retag",
    "dlq",
    "schema",
)


def test_help_lists_every_subcommand():
    result = run_voc("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_subcommand_has_help(command):
    result = run_voc(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: voc " + command in result.stdout


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_unknown_subcommand():
    assert_one_line_error(run_voc("frobnicate"), "invalid choice", "frobnicate")


def test_unknown_flag_of_a_subcommand():
    assert_one_line_error(run_voc("generate", "--out", "x", "--bogus"), "--bogus")


def test_unknown_flag_of_run_is_not_silently_dropped():
    # Beam's own option parser only logs and discards unknown flags.
    assert_one_line_error(run_voc("run", "--duckdb-path=x.duckdb"), "--duckdb-path")


def test_bad_flag_values():
    assert_one_line_error(run_voc("run", "--max-batch", "zero"), "--max-batch")
    assert_one_line_error(run_voc("generate", "-n", "-5", "--out", "x"), "positive")


def test_bad_output_path(tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "voc.duckdb"
    assert_one_line_error(run_voc("run", f"--duckdb={missing}"), "does not exist")
    assert_one_line_error(run_voc("generate", "--out", str(missing)), "does not exist")


def test_missing_taxonomy_file(tmp_path):
    assert_one_line_error(
        run_voc("run", f"--taxonomy={tmp_path / 'nope.yaml'}"), "nope.yaml", "no such file"
    )


def test_malformed_taxonomy_file(tmp_path):
    bad = tmp_path / "taxonomy.yaml"
    bad.write_text("version: 1\ncauses: [\n  - id: x\n", encoding="utf-8")
    assert_one_line_error(run_voc("run", f"--taxonomy={bad}"), "taxonomy.yaml")


def test_taxonomy_with_unknown_department(tmp_path):
    bad = tmp_path / "taxonomy.yaml"
    bad.write_text(
        "version: 1\n"
        "departments:\n  product: Product\n  support_ops: Support operations\n"
        "causes:\n"
        "  - id: crash\n    description: crashes\n    department: nowhere\n"
        "    patterns: ['\\bcrash']\n",
        encoding="utf-8",
    )
    assert_one_line_error(run_voc("run", f"--taxonomy={bad}"), "nowhere")


def test_summary_of_missing_or_foreign_file(tmp_path):
    assert_one_line_error(
        run_voc("summary", "--duckdb", str(tmp_path / "x.duckdb")), "no such file"
    )
    foreign = tmp_path / "foreign.duckdb"
    foreign.write_bytes(b"this is not a database")
    assert_one_line_error(run_voc("summary", "--duckdb", str(foreign)), "foreign.duckdb")


def test_eval_needs_a_data_dir(tmp_path):
    assert_one_line_error(run_voc("eval", "sentiment", "--data", str(tmp_path)), "_labelled.txt")


def test_emulator_env_without_an_emulator(tmp_path):
    assert_one_line_error(
        run_voc("emulator", "env", "--state-dir", str(tmp_path)), "no emulator recorded"
    )


def test_main_returns_exit_code_in_process(capsys):
    assert main(["generate", "--out", "x.jsonl", "--nope"]) == 2
    assert "--nope" in capsys.readouterr().err


def test_generate_jsonl_to_stdout():
    result = run_voc("generate", "-n", "50", "--out", "-")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) >= 45
    assert '"malformed"' in result.stderr


def _candidate(tmp_path: Path, change) -> Path:
    import json

    schema = json.loads(
        (ROOT / "schemas" / "events" / "survey.v2.json").read_text(encoding="utf-8")
    )
    schema.update({"$id": "voc/survey/3", "title": "survey v3"})
    change(schema)
    path = tmp_path / "survey.v3.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    return path


def test_schema_check_names_each_breaking_change_and_exits_1(tmp_path, capsys):
    def breaking(schema):
        schema["properties"]["csat"]["type"] = "string"
        schema["properties"].pop("language")
        schema["required"].remove("language")

    assert main(["schema", "check", str(_candidate(tmp_path, breaking))]) == 1
    out, err = capsys.readouterr()
    assert "property 'csat' changed type" in out and "property 'language' was removed" in out
    assert "2 problem(s) in survey.v3.json" in err


def test_schema_check_passes_an_additive_version_and_the_shipped_family(tmp_path, capsys):
    def additive(schema):
        schema["properties"]["touchpoint"] = {"type": "string", "maxLength": 64}

    assert main(["schema", "check", str(_candidate(tmp_path, additive))]) == 0
    assert "survey.v3.json: compatible" in capsys.readouterr().out
    assert main(["schema", "check"]) == 0
    assert "the shipped contracts: compatible" in capsys.readouterr().out


def test_schema_check_of_a_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main(["schema", "check", str(tmp_path / "survey.v3.json")]) == 2
    assert "no such file" in capsys.readouterr().err


# -- every flag: bounds, one-line errors, help ----------------------------------------


def test_unknown_flag_before_a_command_is_named():
    assert_one_line_error(run_voc("--bogus"), "unrecognized arguments: --bogus")
    assert_one_line_error(run_voc(), "required: COMMAND")


@pytest.mark.parametrize("command", ["dlq", "schema", "emulator"])
def test_unknown_flag_before_an_action_is_named(command, capsys):
    assert main([command, "--bogus"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --bogus" in err and err.count("\n") == 1
    assert main([command]) == 2
    assert "required: ACTION" in capsys.readouterr().err


def test_generate_into_an_existing_directory(tmp_path):
    assert_one_line_error(
        run_voc("generate", "-n", "5", "--out", str(tmp_path)), "--out", "is a directory"
    )


def test_demo_into_an_existing_directory(tmp_path, capsys):
    assert main(["demo", "-n", "5", "--duckdb", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--duckdb" in err and "is a directory" in err and err.count("\n") == 1


def test_generate_refuses_absurd_sizes():
    assert_one_line_error(
        run_voc("generate", "-n", "10000000000000", "--out", "-"), "-n/--events", "10,000,000"
    )


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_run_refuses_seconds_that_are_not_finite(value):
    # Every float option and more spellings: test_options.test_nan_and_infinity_are_never_seconds
    assert_one_line_error(
        run_voc("run", f"--max-linger={value}"), "--max-linger", "expected a finite number"
    )


def test_whole_number_flags_say_what_they_expect(capsys):
    assert_one_line_error(
        run_voc("run", "--max-batch", "abc"), "--max-batch", "expected a whole number, got 'abc'"
    )
    for argv in (["generate", "--seed", "abc", "--out", "-"], ["demo", "--seed", "1.5"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "--seed: expected a whole number" in err and "invalid int" not in err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "--max-batch", "100001"], "at most 100,000"),
        (["run", "--max-outstanding", "1000001"], "at most 1,000,000"),
        (["run", "--progress-every", "2592001"], "at most 2,592,000 seconds"),
        (["emulator", "start", "--port", "0"], "positive"),
        (["demo", "-n", "10000001"], "at most 10,000,000"),
    ],
)
def test_numbers_that_size_a_resource_are_bounded(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


def test_bad_value_of_a_beam_option_is_one_line():
    # Beam's own parser prints its whole usage and exits; voc run says one line.
    assert_one_line_error(run_voc("run", "--num_workers", "abc"), "--num_workers")


def test_emulator_refuses_a_port_out_of_range(tmp_path):
    assert_one_line_error(
        run_voc("emulator", "start", "--port", "99999", "--state-dir", str(tmp_path)),
        "--port",
        "at most 65,535",
    )
    assert not (tmp_path / "state.json").exists()


def test_emulator_refuses_a_port_in_use(tmp_path, capsys):
    import socket

    from voc.pipelines.dev.emulator import EmulatorError, start_emulator

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["emulator", "start", "--port", str(port), "--state-dir", str(tmp_path)]) == 2
        assert f"port {port} on 127.0.0.1 is already in use" in capsys.readouterr().err
    with pytest.raises(EmulatorError, match="not a TCP port"):
        start_emulator(tmp_path, port=70000)


def test_emulator_actions_have_their_own_help():
    result = run_voc("emulator", "start", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: voc emulator start")
    assert "--port PORT" in result.stdout and "1-65535" in result.stdout


def test_emulator_options_work_before_and_after_the_action(tmp_path, capsys):
    for argv in (
        ["emulator", "status", "--state-dir", str(tmp_path)],
        ["emulator", "--state-dir", str(tmp_path), "status"],
    ):
        assert main(argv) == 1
        assert capsys.readouterr().out == "not running\n"
    for argv in (
        ["emulator", "env", "--state-dir", str(tmp_path)],
        ["emulator", "--state-dir", str(tmp_path), "env"],
    ):
        assert main(argv) == 2
        assert f"no emulator recorded in {tmp_path}" in capsys.readouterr().err


def _parsers(parser, prog: str = "voc"):
    """(prog, parser) for the parser and every sub-command and action under it."""
    import argparse

    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{prog} {name}")


def test_every_argument_of_every_command_has_help():
    import argparse

    from voc.pipelines.cli import build_parser

    missing = []
    for prog, parser in _parsers(build_parser()[0]):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{prog} {c.dest}" for c in action._choices_actions if not c.help]
            elif not action.help:
                missing.append(f"{prog} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_limits_are_stated_in_help():
    from voc.pipelines.cli import build_parser

    helps = {prog: " ".join(p.format_help().split()) for prog, p in _parsers(build_parser()[0])}
    assert "1-10,000,000" in helps["voc generate"] and "1-10,000,000" in helps["voc demo"]
    assert "1-100,000" in helps["voc dlq list"]
    assert "at most 100 years" in helps["voc dlq purge"]
    assert "1-100,000" in helps["voc run"] and "1-1,000,000" in helps["voc run"]
    assert "SECONDS are finite, from 0 to 2,592,000" in helps["voc run"]
    assert "1-65535" in helps["voc emulator start"]
