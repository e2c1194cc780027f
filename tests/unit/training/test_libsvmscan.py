"""The NumPy libsvm reader against the judge, `parse_libsvm(labelled=True)`: same matrix and
labels bit for bit on what it accepts, None (the judge decides) on everything else."""

from __future__ import annotations

import numpy as np
import pytest

from boostbox.formats import libsvmscan
from boostbox.formats.libsvm import parse_libsvm
from boostbox.formats.libsvmscan import scan_libsvm


def _random_file(rows: int, seed: int, crlf: bool = False) -> bytes:
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(rows):
        width = int(rng.integers(0, 12))
        columns = np.sort(rng.choice(40, size=width, replace=False))
        values = rng.normal(size=width) * 10.0 ** rng.integers(-8, 8, size=width)
        label = float(rng.choice([0, 1, 2.5, -3e-7]))
        pairs = " ".join(
            f"{c}:{float(v)!r}" if i % 3 else f"{c}:{v:.6g}"
            for i, (c, v) in enumerate(zip(columns, values, strict=True))
        )
        separator = "\t" if rng.random() < 0.1 else " "
        lines.append(f"{label}{separator}{pairs}".rstrip() + ("  " if rng.random() < 0.1 else ""))
        if rng.random() < 0.05:
            lines.append("")
    end = "\r\n" if crlf else "\n"
    return (end.join(lines) + end).encode()


def _assert_same(data: bytes) -> None:
    scanned = scan_libsvm(data)
    assert scanned is not None
    matrix, labels = scanned
    judge, judge_labels, weights = parse_libsvm(data.decode(), labelled=True)
    assert weights is None
    assert matrix.shape == judge.shape
    np.testing.assert_array_equal(labels, judge_labels)
    assert labels.dtype == np.float32 and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix.indptr, judge.indptr)
    np.testing.assert_array_equal(matrix.indices, judge.indices)
    np.testing.assert_array_equal(matrix.data, judge.data)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("crlf", [False, True])
def test_random_files_match_the_python_parser(seed: int, crlf: bool) -> None:
    _assert_same(_random_file(300, seed, crlf))


def test_blocks_cut_at_line_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(libsvmscan, "BLOCK_BYTES", 37)  # many blocks, cuts mid-line
    _assert_same(_random_file(200, 9))
    _assert_same(b"1 1:2\n0 3:4")  # no final line end
    _assert_same(b"1 " + b"1:2 " * 40 + b"\n0 3:4\n")  # a line longer than a block


def test_duplicates_and_empty_input_as_the_python_parser() -> None:
    _assert_same(b"1 3:1 3:2 0:5\n")
    _assert_same(b"\n\n")
    _assert_same(b"")
    _assert_same(b"1\n0 2:1\n")  # a line with a label only


@pytest.mark.parametrize(
    "data",
    [
        b"1:0.5 2:3\n",  # label:weight
        b"1 qid:3 2:3\n",
        b"1 2:3 # comment\n",
        b"1 -2:3\n",  # negative index (the judge names the line)
        b"1 +2:3\n",
        b"1 2.0:3\n",
        b"1 2e0:3\n",
        b"1 :3\n",
        b"1 2:3:4 5\n",
        b"1 2 3:4\n",
        b"1 2:abc\n",
        b"1 2:0x10\n",
        b"1 2:nan\n",
        b"x 2:3\n",
        b"1 2:3\x0b4:5\n",  # vertical tab: Python's split() breaks there
        b"1 12345678901234567:3\n",
    ],
)
def test_anything_unproven_is_declined(data: bytes) -> None:
    assert scan_libsvm(data) is None
