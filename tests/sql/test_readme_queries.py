"""The README's example queries run, and are the files in sql/queries they name.

Owners copy these queries first, so each must at least run on a freshly
migrated, empty file; naming its sql/queries file (whose fixture
tests/sql/test_views_and_queries.py checks row by row) and matching it keeps the
README from drifting away from the tested text.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from voc import sql
from voc.transforms.sinks.duckdb_schema import prepare

README = Path(__file__).parents[2] / "README.md"
SECTION = "### Example queries"
_BLOCK = re.compile(r"^```sql\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_SOURCE = re.compile(r"^-- .*\(sql/queries/([a-z][a-z0-9_]*)\.sql\)$")


def example_queries(readme: str) -> list[str]:
    """The ```sql blocks of the README's example-query subsection, in order.

    The subsection runs from its heading to the next heading of any level, so a
    query elsewhere in the README (which may use now()) is not taken for one.
    """
    start = readme.index(f"\n{SECTION}\n")
    body = readme[start + len(SECTION) + 2 :]
    following = re.search(r"^#{1,3} ", body, re.MULTILINE)
    return _BLOCK.findall(body[: following.start()] if following else body)


def without_leading_comments(text: str) -> str:
    """The statement itself: leading ``--`` lines, surrounding blanks and the ``;`` dropped."""
    lines = text.strip().splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    return "\n".join(lines).strip().rstrip(";").rstrip()


QUERIES = example_queries(README.read_text(encoding="utf-8"))


def test_the_readme_has_four_to_six_example_queries():
    assert 4 <= len(QUERIES) <= 6, QUERIES


def test_the_subsection_ends_at_the_next_heading():
    readme = f"{SECTION}\n\n```sql\nselect 1;\n```\n\n## Next\n\n```sql\nselect 2;\n```\n"
    assert example_queries("intro\n" + readme) == ["select 1;\n"]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.splitlines()[0])
def test_each_example_is_the_query_file_it_names(query: str):
    source = _SOURCE.match(query.splitlines()[0])
    assert source, f"the first line must name its sql/queries file: {query.splitlines()[0]!r}"
    assert without_leading_comments(query) == without_leading_comments(sql.query(source[1]))


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.splitlines()[0])
def test_each_example_runs_on_an_empty_migrated_file(query: str, tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "voc.duckdb"))
    try:
        prepare(con)
        cursor = con.execute(query)
        assert cursor.description, "the query returns no columns"
        assert cursor.fetchall() == []
    finally:
        con.close()
