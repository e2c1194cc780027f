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


def _plain_numbers(rows: int, seed: int) -> str:
    """Numbers written the ways clients write them: fixed, %g, 17 digits, ints, exponents,
    float32 extremes and beyond, negative zero, empty cells."""
    rng = np.random.default_rng(seed)
    values = rng.normal(scale=10.0 ** rng.integers(-40, 38, size=(rows, 6)))
    styles = [
        lambda v: f"{v:.6f}",
        lambda v: f"{v:g}",
        lambda v: f"{v:.17g}",
        lambda v: str(int(v)) if abs(v) < 1e18 else f"{v:e}",
        lambda v: repr(float(np.float32(v))),
        lambda v: f"{v:.9e}".replace("e+", "E"),
    ]
    extremes = ["3.4028235e38", "3.4028236e38", "1e39", "-1e39", "1.4e-45", "7e-46", "-0", ""]
    lines = []
    for i, row in enumerate(values.tolist()):
        cells = [styles[(i + j) % len(styles)](v) for j, v in enumerate(row)]
        cells.append(extremes[i % len(extremes)])
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(5))
def test_arrow_path_agrees_with_the_python_path(seed: int) -> None:
    """pyarrow reads plain numbers to the same float32 values as Python's float() does."""
    from boostbox.formats.csv import _parse_csv_arrow

    text = _plain_numbers(2000, seed)
    with np.errstate(over="ignore"):  # beyond float32: inf, as parse_csv makes it silently
        fast = _parse_csv_arrow(text.encode(), ",")
        reference = textformats_python(text)
    assert fast is not None
    assert isinstance(reference, np.ndarray)
    np.testing.assert_array_equal(fast, reference)
    np.testing.assert_array_equal(np.signbit(fast), np.signbit(reference))


@pytest.mark.parametrize(
    "odd",
    ["NA", "nan", " 1", "1 ", "1_0", "x", '"1"', "0x1p3", "1e", ".", "-", "1,2"],
)
def test_arrow_path_leaves_anything_else_to_the_other_parsers(odd: str) -> None:
    """A cell that is not a plain number (or a ragged row) is declined or read as Python does."""
    from boostbox.formats.csv import _parse_csv_arrow

    text = big("1,2", SMALL_TEXT) + f"3,{odd}\n" + big("4,5", 10)
    fast = _parse_csv_arrow(text.encode(), ",")
    reference = textformats_python(text)
    if fast is not None:
        assert isinstance(reference, np.ndarray)
        np.testing.assert_array_equal(fast, reference)
    expected = parse_csv(text, source="f") if isinstance(reference, np.ndarray) else None
    if expected is not None:
        np.testing.assert_array_equal(expected, reference)
