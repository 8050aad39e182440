"""Running `voc` in-process in CLI tests, and the one-line-error contract they check."""

from __future__ import annotations

from dataclasses import dataclass

from voc.pipelines.cli import main


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run_in_process(capsys, *args: str) -> Ran:
    """``voc ARGS`` in this process (fast: no interpreter start), its output captured."""
    code = main(list(args))
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


def assert_one_line_error(result: Ran, *fragments: str) -> None:
    """Bad input: exit 2, one line on stderr naming the problem, no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
