"""Reading analysts' JSONL/CSV/TSV exports: format by name or first character, gold
labels in every spelling, and every malformed row an error naming file and line
(a skipped row would change the figures without anyone knowing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voc.pipelines.ops.text_files import TextFileError, labels_of, read_rows


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(TextFileError) as caught:
        list(read_rows(path))
    return str(caught.value)


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("name", ["rows.jsonl", "rows.ndjson", "rows.json", "ROWS.JSONL"])
def test_jsonl_by_suffix(tmp_path, name):
    path = write(tmp_path, name, '{"text": "late", "labels": ["delivery"]}\n{"text": "ok"}\n')
    assert list(read_rows(path)) == [
        {"text": "late", "labels": ["delivery"], "_line": 1},
        {"text": "ok", "_line": 2},
    ]


def test_jsonl_skips_blank_lines_and_keeps_physical_line_numbers(tmp_path):
    path = write(tmp_path, "rows.jsonl", '{"text": "a"}\n\n   \n{"text": "b"}\r\n')
    assert [(row["text"], row["_line"]) for row in read_rows(path)] == [("a", 1), ("b", 4)]


@pytest.mark.parametrize("name", ["rows.csv", "rows.CSV"])
def test_csv_by_suffix(tmp_path, name):
    path = write(tmp_path, name, 'text,label\nlate again,delivery\n"a, b",\n')
    assert list(read_rows(path)) == [
        {"text": "late again", "label": "delivery", "_line": 2},
        {"text": "a, b", "label": "", "_line": 3},
    ]


def test_csv_with_crlf_line_ends(tmp_path):
    path = write(tmp_path, "rows.csv", "text,label\r\nlate,delivery\r\nfine,\r\n")
    assert [(row["text"], row["label"], row["_line"]) for row in read_rows(path)] == [
        ("late", "delivery", 2),
        ("fine", "", 3),
    ]


@pytest.mark.parametrize("name", ["rows.tsv", "rows.tab"])
def test_tsv_by_suffix(tmp_path, name):
    path = write(tmp_path, name, "id\ttext\tlabels\n7\tlate, very late\ta;b\n")
    assert list(read_rows(path)) == [
        {"id": "7", "text": "late, very late", "labels": "a;b", "_line": 2},
    ]


@pytest.mark.parametrize("name", ["export", "export.txt", "export.data"])
def test_json_lines_are_recognised_by_their_first_character(tmp_path, name):
    path = write(tmp_path, name, '{"text": "late"}\n')
    assert list(read_rows(path)) == [{"text": "late", "_line": 1}]


@pytest.mark.parametrize("name", ["export", "export.txt"])
def test_anything_else_without_a_known_suffix_is_csv(tmp_path, name):
    path = write(tmp_path, name, "text,label\nlate,delivery\n")
    assert list(read_rows(path)) == [{"text": "late", "label": "delivery", "_line": 2}]


def test_the_suffix_wins_over_the_content(tmp_path):
    # a .csv that starts with "{" is still a CSV (and has no 'text' header)
    path = write(tmp_path, "rows.csv", '{"text": "late"}\n')
    assert error_of(path) == f"{path}:1: the header needs a 'text' column"


def test_rows_are_read_lazily(tmp_path):
    # the rows before a bad line are yielded before the error is raised
    path = write(tmp_path, "rows.jsonl", '{"text": "a"}\n{"text": "b"}\nnot json\n')
    rows = read_rows(path)
    assert next(rows)["text"] == "a"
    assert next(rows)["text"] == "b"
    with pytest.raises(TextFileError, match=r":3: not JSON"):
        next(rows)


def test_non_ascii_text_is_read_as_utf8(tmp_path):
    path = write(tmp_path, "rows.csv", "text,label\nEl paquete no llegó \u2013 \U0001f621,\n")
    assert [row["text"] for row in read_rows(path)] == ["El paquete no llegó \u2013 \U0001f621"]


def test_multi_line_quoted_field_is_one_row(tmp_path):
    path = write(tmp_path, "rows.csv", 'text,label\n"line one\nline two",a|b\nplain,\n')
    rows = list(read_rows(path))
    assert [(row["text"], row["label"]) for row in rows] == [
        ("line one\nline two", "a|b"),
        ("plain", ""),
    ]
    assert rows[1]["_line"] == 4


def test_multi_line_row_is_numbered_by_its_first_line(tmp_path):
    # "_line" is how a report points back at a text (file:line); for a row whose
    # quoted text spans lines 2-3 it must be 2, where the row starts, not 3 (csv's
    # line_num is the last physical line read, the middle of the customer's text)
    path = write(tmp_path, "rows.csv", 'text,label\n"line one\nline two",a\nplain,\n')
    assert [row["_line"] for row in read_rows(path)] == [2, 4]


def test_csv_with_a_utf8_byte_order_mark(tmp_path):
    # Excel's "CSV UTF-8" export starts with a BOM; the header is still "text"
    path = write(tmp_path, "export.csv", b"\xef\xbb\xbftext,label\nlate,delivery\n")
    assert list(read_rows(path)) == [{"text": "late", "label": "delivery", "_line": 2}]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "content", "where", "message"),
    [
        ("rows.jsonl", '{"text": "a"}\n{"text": "b",\n', 2, "not JSON ("),
        ("rows.jsonl", '{"text": "a"}\n[1, 2]\n', 2, "each line must be a JSON object"),
        ("rows.jsonl", '"just text"\n', 1, "each line must be a JSON object"),
        ("rows.jsonl", '{"labels": ["a"]}\n', 1, "needs a 'text' string"),
        ("rows.jsonl", '{"text": null}\n', 1, "needs a 'text' string"),
        ("rows.jsonl", '{"text": 42}\n', 1, "needs a 'text' string"),
        ("rows.csv", "comment,label\nlate,delivery\n", 1, "the header needs a 'text' column"),
        ("rows.csv", "", 1, "the header needs a 'text' column"),
        ("rows.tsv", "text,label\nlate,delivery\n", 1, "the header needs a 'text' column"),
        ("rows.csv", "text,label\nok,a\nlate,delivery,extra\n", 3, "more fields than"),
        ("rows.csv", "label,text\nonly-a-label\n", 2, "needs a 'text' string"),
        ("export", '{"text": "a"}\n{bad\n', 2, "not JSON ("),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path, name, content, where, message):
    path = write(tmp_path, name, content)
    error = error_of(path)
    assert error.startswith(f"{path}:{where}: ")
    assert message in error
    assert "\n" not in error


def test_invalid_utf8_names_the_file(tmp_path):
    path = write(tmp_path, "rows.csv", b"text,label\nok,a\nbad \xff\xfe,b\n")
    error = error_of(path)
    assert error.startswith(str(path))
    assert "not valid UTF-8" in error
    assert "invalid start byte" in error


def test_invalid_utf8_in_jsonl_is_a_text_file_error(tmp_path):
    path = write(tmp_path, "rows.jsonl", b'{"text": "caf\xe9"}\n')
    assert "not valid UTF-8" in error_of(path)


def test_invalid_utf8_names_the_line(tmp_path):
    # every malformed row names file and line; a bad byte on line 3 is no different
    path = write(tmp_path, "rows.csv", b"text,label\nok,a\nbad \xff\xfe,b\n")
    assert error_of(path).startswith(f"{path}:3: ")


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.jsonl"
    assert error_of(path) == f"{path}: No such file or directory"


def test_unterminated_quote_is_an_error_not_rows_swallowed(tmp_path):
    # The quote opened on line 2 is never closed; csv (not strict) reads the rest of
    # the file into that one field, and the rows of lines 3 and 4 silently vanish.
    path = write(tmp_path, "rows.csv", 'text,label\n"oops,a\nok,b\nalso ok,c\n')
    error = error_of(path)
    assert error.startswith(f"{path}:")


# --------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"labels": ["delivery", "billing"]}, ["delivery", "billing"]),
        ({"labels": [" delivery ", "", "  "]}, ["delivery"]),
        ({"labels": []}, []),
        ({"labels": "delivery|billing"}, ["delivery", "billing"]),
        ({"labels": "delivery;billing"}, ["delivery", "billing"]),
        ({"labels": "delivery,billing"}, ["delivery", "billing"]),
        ({"labels": " delivery | billing ;login"}, ["delivery", "billing", "login"]),
        ({"label": "delivery"}, ["delivery"]),
        ({"label": ""}, []),
        ({"label": "  "}, []),
        ({"label": "|"}, []),
        # "labels" wins over "label" when a row has both
        ({"labels": ["a"], "label": "b"}, ["a"]),
    ],
)
def test_labels_of(row, expected):
    assert labels_of({"text": "t", **row}, "f.jsonl:3") == expected


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"text": "t"}, "f.jsonl:3: no 'labels' or 'label' field"),
        ({"text": "t", "labels": None}, "f.jsonl:3: no 'labels' or 'label' field"),
        ({"text": "t", "labels": ["a", 1]}, "f.jsonl:3: labels must be strings"),
        ({"text": "t", "labels": 5}, "f.jsonl:3: labels must be a list or text, got int"),
        (
            {"text": "t", "label": {"id": "a"}},
            "f.jsonl:3: labels must be a list or text, got dict",
        ),
    ],
)
def test_bad_labels_name_where(row, message):
    with pytest.raises(TextFileError) as caught:
        labels_of(row, "f.jsonl:3")
    assert str(caught.value) == message


def test_labels_of_a_csv_row(tmp_path):
    path = write(tmp_path, "rows.csv", 'text,labels\nlate,"delivery,billing"\nfine,\n')
    rows = list(read_rows(path))
    assert [labels_of(row, "x") for row in rows] == [["delivery", "billing"], []]
