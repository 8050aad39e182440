"""``voc learn`` as a user runs it (the command line's own entry point, in process),
on a real DuckDB file and a real JSONL history: exit codes, one-line errors, files."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import duckdb
import pytest

from tests.pipelines.cli_results import assert_one_line_error, run_in_process
from tests.pipelines.ops.test_learn_model import _history, write_generated_duckdb
from voc.pipelines.cli import main
from voc.transforms.learned_model import load_model


@pytest.fixture
def run_voc(capsys):
    return lambda *args: run_in_process(capsys, *args)


@pytest.fixture(scope="module")
def history_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("learn-cli") / "voc.duckdb"
    write_generated_duckdb(path, 2500, seed=21)
    return path


def test_learn_from_duckdb_writes_a_model_explain_reads_it(
    run_voc, history_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "model.json.gz"
    result = run_voc("learn", "--duckdb", str(history_db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    model = load_model(out)
    assert f"wrote {out} ({model.version})" in result.stdout
    assert "causes" in result.stdout.splitlines()[-1]

    explained = run_voc("learn", "--explain", str(out), "--top", "3")
    assert explained.returncode == 0, explained.stderr
    assert model.version in explained.stdout
    negative = next(line for line in explained.stdout.splitlines() if "  negative (" in line)
    shown = [part.rsplit(" (", 1)[0] for part in negative.split("): ", 1)[1].split(", ")]
    assert len(shown) == 3 and set(shown) <= set(model.features)


def test_learn_from_a_jsonl_history(run_voc, tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    with history.open("w", encoding="utf-8") as handle:
        for record in _history(2500, seed=22):
            handle.write(json.dumps(record) + "\n")
    out = tmp_path / "model.json"
    result = run_voc(
        "learn", "--history", str(history), "--out", str(out), "--taxonomy-pack", "generic"
    )
    assert result.returncode == 0, result.stderr
    model = load_model(out)
    assert model.training["source"] == "history"
    assert model.taxonomy["name"] == "generic"


def test_too_few_examples_is_one_line_and_exit_2(run_voc, history_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.json"
    result = run_voc(
        "learn", "--duckdb", str(history_db), "--out", str(out), "--min-per-class", "100000"
    )
    assert_one_line_error(result, "voc learn: too few sentiment examples", "at least 100,000")
    assert not out.exists()


def test_bad_flags_and_files_are_one_line_errors(run_voc, history_db: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "model.json")
    assert_one_line_error(run_voc("learn"), "one of the arguments --duckdb --history --explain")
    assert_one_line_error(
        run_voc("learn", "--duckdb", str(history_db), "--history", "h.jsonl", "--out", out),
        "not allowed with argument",
    )
    assert_one_line_error(run_voc("learn", "--duckdb", str(history_db)), "--out MODEL")
    assert_one_line_error(
        run_voc("learn", "--duckdb", str(tmp_path / "none.duckdb"), "--out", out),
        "--duckdb",
        "no such file",
    )
    assert_one_line_error(
        run_voc("learn", "--history", str(tmp_path / "none.jsonl"), "--out", out), "no such file"
    )
    assert_one_line_error(
        run_voc("learn", "--duckdb", str(history_db), "--out", out, "--min-per-class", "3"),
        "--min-per-class",
        "at least 10",
    )
    assert_one_line_error(
        run_voc("learn", "--duckdb", str(history_db), "--out", str(tmp_path / "no" / "m.json")),
        "does not exist",
    )
    assert_one_line_error(
        run_voc("learn", "--duckdb", str(history_db), "--out", out, "--taxonomy-pack", "nope"),
        "unknown taxonomy pack 'nope'",
    )
    assert_one_line_error(
        run_voc("learn", "--duckdb", str(history_db), "--out", out, "--taxonomy", "none.yaml"),
        "--taxonomy none.yaml: no such file",
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine", "csat": 4}\n{"text": "odd", "csat": 11}\n', "utf-8")
    assert_one_line_error(
        run_voc("learn", "--history", str(bad), "--out", out),
        f"{bad}:2: csat 11 is outside its scale 1-5",
    )
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert_one_line_error(
        run_voc("learn", "--duckdb", str(empty), "--out", out), "not a voc DuckDB file"
    )
    assert not Path(out).exists()


def test_explain_refuses_what_is_not_a_model(run_voc, tmp_path: Path) -> None:
    a_pickle = tmp_path / "model.pkl"
    a_pickle.write_bytes(pickle.dumps({"format": "voc-learned-model"}))
    assert_one_line_error(run_voc("learn", "--explain", str(a_pickle)), "is a pickle, not JSON")
    text = tmp_path / "notes.txt"
    text.write_text("hello", "utf-8")
    assert_one_line_error(run_voc("learn", "--explain", str(text)), "not JSON")
    assert_one_line_error(
        run_voc("learn", "--explain", str(tmp_path / "missing.json")), "no such file"
    )
    assert_one_line_error(
        run_voc("learn", "--explain", str(text), "--out", "x.json"), "takes no --out"
    )


def test_learn_help(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["learn", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "usage: voc learn" in out
    for flag in ("--duckdb", "--history", "--explain", "--out", "--min-per-class", "--taxonomy"):
        assert flag in out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "learn" in capsys.readouterr().out
