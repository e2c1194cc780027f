"""The compiled libsvm reader (formats.libsvmnative) against the judge, parse_libsvm
(labelled=True): the same arrays bit for bit when it reads a text; when it stops at a bad
token, the judge fails on that same line; when it declines, the judge decides."""

from __future__ import annotations

import ctypes
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boostbox.errors import ParseError
from boostbox.formats import libsvmnative
from boostbox.formats.libsvm import parse_libsvm
from boostbox.formats.libsvmnative import Parsed, Stopped

SAME = [
    "1 1:0.5 3:2\n0 2:1\n",
    "1 0:1 3:2.5\n\n0 2:3\n",
    "1 0:1 3:2.5   \n  0 2:3\t\n",
    "1 0:1\r\n0 1:2\r\n",
    "1 0:1\r0 1:2\n",  # a lone CR ends a line, as str.splitlines does
    "1 0:1\x0b0 1:2\x0c2 3:4\x1c3 1:1\x1d4 1:1\x1e5 1:1\n",  # the other line breaks
    "1 0:1\x1f2:3\n",  # 0x1F separates tokens (str.split) but does not end a line
    "1\n2 4:0\n",
    "0.1 0:0.1 1:3.4028234e38 2:1.00000005960464477539\n",
    "-3 0:1e-5 1:-.5 2:+7 3:1e400 4:5. 5:1e-400 6:-0\n",
    "1 0:1 0:2\n",  # duplicates summed
    "1 3:1 1:2\n",  # unsorted: sorted
    "1:0.5 0:1\n0 1:2\n2:3 4:1\n",  # weights; 1 where a line has none
    "1 qid:3 0:1\n0 qid:x 1:2\n",  # qid tokens are skipped, whatever follows the colon
    "1 0:1 # comment 5:5\n# only a comment\n0 1:2#x\n",
    "nan 0:1e-5\n-inf 1:nan 2:inf 3:-NaN 4:Infinity 5:+iNf\n",
    "3 +2:1 -0:4 007:2\n",  # int() reads signs and leading zeros
    "1 8: 9:1\n0 2:\n",  # an index without a value is 0 (and counted)
    "1 4294967294:1\n",  # the largest index
    "1 0:123456789012345678901234567890 1:0.1234567890123456789012 2:1e-310 3:4.9e-324\n",
    "1 0:1e+22 1:9007199254740993 2:0.000000000000000000001 3:1e23 4:8.589973e9\n",
    "",
    "\n\n",
    "1 0:1",  # no final line break
]
ERRORS = [
    ("1 0:1 5\n", 1),
    ("1 0:1\nx 0:1\n", 2),
    ("1 0:1\n\n1 -1:2\n", 3),
    ("1 1:2:3\n", 1),
    ("1 0:1 a:b\n", 1),
    ("1 4294967295:1\n", 1),  # 2**32 - 1: beyond XGBoost's 32-bit feature ids
    ("1 18446744073709551616:1\n", 1),  # 2**64
    ("1:2:3 0:1\n", 1),
    (":1 0:1\n", 1),
    ("1: 0:1\n", 1),
    ("1 :5\n", 1),
    ("1 0:1e\n", 1),
    ("1 0:.\n", 1),
    ("1 0:0x10\n", 1),
    ("1 0:nan(1)\n", 1),
    ("1 0:1\x002\n", 1),
    ("1 0x1:2\n", 1),
    ("1 0:1\r\n0 1:inf0\r\n", 2),
]
DECLINED = [
    "1 0:1_0\n",  # Python's float reads it; the C reader leaves it to the judge
    "1 0:1 2:\u00e9\n",
    "1 0:1 # caf\u00e9\n",
    "1 0:" + "1" * 500 + "\n",
]


def native(library: ctypes.CDLL, text: str) -> Parsed | Stopped:
    return libsvmnative.parse_bytes(library, text.encode())


def assert_same(parsed: Parsed | Stopped, text: str) -> None:
    assert isinstance(parsed, Parsed), parsed
    x, y, w = parse_libsvm(text, labelled=True)
    assert parsed.matrix.shape == x.shape
    assert parsed.matrix.dtype == x.dtype == np.float32
    assert parsed.matrix.indices.dtype.kind == "i"
    np.testing.assert_array_equal(parsed.matrix.indptr, x.indptr)
    np.testing.assert_array_equal(parsed.matrix.indices, x.indices)
    np.testing.assert_array_equal(parsed.matrix.data.view(np.uint32), x.data.view(np.uint32))
    np.testing.assert_array_equal(parsed.labels.view(np.uint32), y.view(np.uint32))
    if w is None:
        assert parsed.weights is None
    else:
        assert parsed.weights is not None
        np.testing.assert_array_equal(parsed.weights.view(np.uint32), w.view(np.uint32))


def judge_error(text: str) -> ParseError:
    with pytest.raises(ParseError) as raised:
        parse_libsvm(text, labelled=True)
    return raised.value


@pytest.mark.parametrize("text", SAME)
def test_reads_what_the_judge_reads_bit_for_bit(native_libsvm: ctypes.CDLL, text: str) -> None:
    assert_same(native(native_libsvm, text), text)


def test_counts_indices_without_a_value(native_libsvm: ctypes.CDLL) -> None:
    parsed = native(native_libsvm, "1 0:1\n\n1 8: 9:1\n0 2:\n")
    assert isinstance(parsed, Parsed)
    assert (parsed.first_bare, parsed.bare_lines) == (3, 2)


@pytest.mark.parametrize(("text", "line"), ERRORS)
def test_stops_at_the_line_the_judge_refuses(
    native_libsvm: ctypes.CDLL, text: str, line: int
) -> None:
    stopped = native(native_libsvm, text)
    assert isinstance(stopped, Stopped) and stopped.error
    assert stopped.line == line == judge_error(text).line
    rest = text.encode()[stopped.offset :].decode()
    assert judge_error(rest.splitlines()[0]).column == judge_error(text).column


@pytest.mark.parametrize("text", DECLINED)
def test_declines_what_it_does_not_decide(native_libsvm: ctypes.CDLL, text: str) -> None:
    stopped = native(native_libsvm, text)
    assert isinstance(stopped, Stopped) and not stopped.error and stopped.line == 1


def _random_text(rows: int, seed: int, end: str = "\n") -> str:
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(rows):
        columns = np.sort(rng.choice(60, size=int(rng.integers(0, 12)), replace=False))
        values = rng.normal(size=columns.size) * 10.0 ** rng.integers(-30, 30, size=columns.size)
        pairs = " ".join(
            f"{c}:{float(v)!r}" if i % 3 else f"{c}:{v:.6f}"
            for i, (c, v) in enumerate(zip(columns.tolist(), values.tolist(), strict=True))
        )
        weight = f":{rng.random():.3g}" if rng.random() < 0.2 else ""
        lines.append(f"{rng.integers(0, 3)}{weight} {pairs}".rstrip())
        if rng.random() < 0.05:
            lines.append("# a comment" if rng.random() < 0.5 else "")
    return end.join(lines) + end


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("chunk", [5, 64, 1000, 1 << 23])
def test_chunks_and_growth_give_the_same_arrays(
    native_libsvm: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch, end: str, chunk: int
) -> None:
    """Small chunks cut lines, CRLF pairs and numbers; a small size hint makes the arrays
    grow many times; a line longer than a chunk doubles the buffer."""
    text = _random_text(400, chunk, end) + "1 " + "3:0.25 " * 50 + end
    monkeypatch.setattr(libsvmnative, "CHUNK_BYTES", chunk)
    parsed = libsvmnative.parse_file(native_libsvm, io.BytesIO(text.encode()), 1)
    assert_same(parsed, text)


def test_the_error_line_is_counted_across_chunks(
    native_libsvm: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _random_text(300, 3, "\r\n")
    bad = len(text.splitlines()) + 1
    text += "1 0:1 2:x\r\n" + _random_text(20, 4, "\r\n")
    monkeypatch.setattr(libsvmnative, "CHUNK_BYTES", 17)
    stopped = libsvmnative.parse_file(native_libsvm, io.BytesIO(text.encode()), len(text))
    assert isinstance(stopped, Stopped) and stopped.error
    assert stopped.line == bad == judge_error(text).line
    assert text.encode()[stopped.offset :].startswith(b"1 0:1 2:x\r\n")


TOKENS = st.sampled_from(
    ["0", "1", "7", "42", "-", "+", ".", "e", "E", ":", "_", "qid", "nan", "inf", "infinity"]
    + [" ", " ", "\t", "\n", "\n", "\r", "\r\n", "#", "\x0b", "\x1f", "x", "\x00", "\u00e9"]
    + ["4294967294", "4294967295", "18446744073709551616", "1e400", "1e-400", "0.1"]
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(TOKENS, max_size=40), chunk=st.integers(1, 64))
def test_fuzz_agrees_with_the_judge(
    native_libsvm: ctypes.CDLL, pieces: list[str], chunk: int
) -> None:
    """Same arrays, or both fail on the same line, or declined; chunked reads agree too."""
    text = "".join(pieces)
    got = native(native_libsvm, text)
    if isinstance(got, Parsed):
        assert_same(got, text)
    elif got.error:
        assert got.line == judge_error(text).line
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(libsvmnative, "CHUNK_BYTES", chunk)
        chunked = libsvmnative.parse_file(native_libsvm, io.BytesIO(text.encode()), chunk)
    assert type(chunked) is type(got)
    if isinstance(got, Stopped):
        assert chunked == got
    else:
        assert_same(chunked, text)


def test_a_missing_library_is_one_info_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger=libsvmnative.__name__)
    assert libsvmnative.load.__wrapped__(tmp_path / "absent.so") is None
    assert [r.levelname for r in caplog.records] == ["INFO"]
    assert "reading with NumPy" in caplog.records[0].getMessage()
