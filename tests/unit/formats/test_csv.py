"""The shared CSV/libsvm parsers: values, NaN, delimiters, and errors that name the place."""

from __future__ import annotations

import math

import numpy as np
import pytest

from boostbox.errors import ParseError
from boostbox.formats.csv import SMALL_TEXT, parse_csv, sniff_delimiter


def big(text_line: str, lines: int) -> str:
    return (text_line + "\n") * lines


def test_csv_values_and_empty_cells_are_nan() -> None:
    out = parse_csv("1,2,3\n4,,6\n")
    assert out.dtype == np.float32
    assert out.shape == (2, 3)
    assert math.isnan(out[1, 1])
    assert out[1, 2] == 6


@pytest.mark.parametrize("size", ["small", "large"])
def test_csv_paths_agree(size: str) -> None:
    lines = 3 if size == "small" else SMALL_TEXT
    text = big("1.5,,3e2,-4", lines)
    out = parse_csv(text)
    assert out.shape == (lines, 4)
    np.testing.assert_array_equal(out[-1], np.array([1.5, np.nan, 300, -4], dtype=np.float32))


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("1,2\n", ","),
        ("1\t2\n", "\t"),
        ("1;2\n", ";"),
        ("1|2\n", "|"),
        ("1 2\n", " "),
        ("7\n", ","),
    ],
)
def test_delimiter_is_sniffed(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter
    assert parse_csv(text).shape[0] == 1


def test_blank_lines_and_crlf_are_skipped() -> None:
    assert parse_csv("1,2\r\n\r\n3,4\r\n").tolist() == [[1, 2], [3, 4]]


def test_empty_text_is_an_empty_matrix() -> None:
    assert parse_csv("").shape == (0, 0)


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize(
    ("bad_line", "expected", "column"),
    [
        ("1,2,x,4", "column 3: 'x' is not a number", 3),
        ("1,2,3", "has 3 columns, expected 4", None),
        ("1,2,3,4,5", "has 5 columns, expected 4", None),
    ],
)
def test_csv_errors_name_line_and_column(
    size: str, bad_line: str, expected: str, column: int | None
) -> None:
    good = 2 if size == "small" else SMALL_TEXT
    text = big("1,2,3,4", good) + bad_line + "\n"
    with pytest.raises(ParseError, match=expected) as info:
        parse_csv(text, source="f.csv", first_line=10)
    assert info.value.line == 10 + good
    assert info.value.column == column
    assert f"f.csv: line {10 + good}" in str(info.value)


def test_header_row_is_named() -> None:
    with pytest.raises(ParseError, match="line 1 looks like a header row") as info:
        parse_csv("label,a,b\n1,2,3\n")
    assert info.value.line == 1


def test_explicit_delimiter_and_quotes() -> None:
    assert parse_csv('"1";"2"\n', delimiter=";").tolist() == [[1, 2]]


@pytest.mark.parametrize("kind", ["str", "bytes"])
@pytest.mark.parametrize(
    "body",
    [
        "1,2,3\n4,,6\n",
        "1;2\r\n\r\n3;4\r\n",
        "1\t2\n \t \n3\t4\n",
        "1 2\n3 4\n",
        "1,2,3\n4,5\n6,7,8\n",
        "1,2\n3,4,5\n",
        "  \n\n1,2\n",
        "1,2\n3,nan\n-NaN,\n",
    ],
)
@pytest.mark.parametrize("lines", [1, SMALL_TEXT])
def test_csv_fast_path_agrees_with_the_python_path(kind: str, body: str, lines: int) -> None:
    """Large (pandas) and small (Python) inputs, text or bytes: the same matrix or error."""
    text = body * lines
    data: str | bytes = text.encode() if kind == "bytes" else text
    reference = textformats_python(text)
    if isinstance(reference, ParseError):
        with pytest.raises(ParseError) as info:
            parse_csv(data, source="f")
        assert str(info.value) == str(reference)
    else:
        np.testing.assert_array_equal(parse_csv(data, source="f"), reference)


def textformats_python(text: str) -> np.ndarray | ParseError:
    """The Python path's answer (the reference semantics) or its error."""
    from boostbox.formats.csv import _parse_csv_python

    try:
        return _parse_csv_python(text, "f", 1, sniff_delimiter(text))
    except ParseError as e:
        return e


def test_short_row_after_many_names_its_line_with_bytes() -> None:
    data = big("1,2,3", SMALL_TEXT).encode() + b"4,5\n" + big("1,2,3", 10).encode()
    with pytest.raises(ParseError, match=f"line {SMALL_TEXT + 1} has 2 columns") as info:
        parse_csv(data, source="f.csv")
    assert info.value.line == SMALL_TEXT + 1


def test_delimiter_is_sniffed_past_a_long_blank_head() -> None:
    assert sniff_delimiter("\n" * 70_000 + "1;2\n") == ";"
    assert sniff_delimiter(b"1|2\n" + b"3,4\n" * 20_000) == "|"


def test_invalid_utf8_bytes_are_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not valid utf-8 text"):
        parse_csv(b"1,2\n\xff,3\n")


@pytest.mark.parametrize("lines", [1, SMALL_TEXT])
def test_utf8_bom_is_dropped_from_bytes(lines: int) -> None:
    out = parse_csv(b"\xef\xbb\xbf" + big("1,2", lines).encode())
    assert out.shape == (lines, 2)
