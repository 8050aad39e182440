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


def test_help_lists_every_subcommand():
    result = run_voc("--help")
    assert result.returncode == 0
    for command in ("demo", "emulator", "generate", "run", "summary", "eval", "dlq", "schema"):
        assert command in result.stdout


@pytest.mark.parametrize(
    "command", ["demo", "emulator", "generate", "run", "summary", "eval", "dlq", "schema"]
)
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
    assert_one_line_error(run_voc("eval", "--data", str(tmp_path)), "_labelled.txt")


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
