"""The libsvm fast path gives parse_libsvm's exact result, or declines (None)."""

from __future__ import annotations

import numpy as np
import pytest

from boostbox.formats.libsvm import parse_libsvm, parse_libsvm_fast

TAKEN = [
    "1 1:0.5 3:2\n0 2:1\n",  # 1-based: column 0 stays empty
    "1 0:1 3:2.5\n\n0 2:3\n",  # empty line
    "1 0:1 3:2.5   \n  0 2:3\t\n",  # trailing and leading blanks, a tab
    "1 0:1 # comment 5:5\n0 1:2\n",
    "1 0:1\r\n0 1:2\r\n",
    "1\n2 4:0\n",  # a label-only line; an explicit zero stays stored
    "nan 0:1e-5\n-inf 1:nan 2:inf\n+3 +2:1_0\n",
    "0.1 0:0.1 1:3.4028234e38 2:1.00000005960464477539\n",
    "",
    "\n\n",
]
DECLINED = [
    "1:0.5 0:1\n0 1:2\n",  # weights
    "1 0:1\n0:1 1:2\n",  # a first token with ':' is label:weight in training files
    "1 qid:3 0:1\n",
    "1 0:1 0:2\n",  # duplicates: Python sums them
    "1 3:1 1:2\n",  # unsorted
    "1 0:1\r0 1:2\n",  # a lone CR is a line break for Python
    "1 0:1\x0c0 1:2\n",
    "1 0:1 5\n",
    "x 0:1\n",
    "1 -1:2\n",
    "1 1:2:3\n",
    "1 0:1 a:b\n",
    "1 0:1 2:é\n",
]


def same(data: str) -> None:
    fast = parse_libsvm_fast(data.encode())
    assert fast is not None
    x, y, w = parse_libsvm(data, labelled=True)
    fx, fy, fw = fast
    assert fx.shape == x.shape and fx.dtype == x.dtype
    assert fx.indices.dtype == x.indices.dtype and fx.indptr.dtype == x.indptr.dtype
    np.testing.assert_array_equal(fx.indptr, x.indptr)
    np.testing.assert_array_equal(fx.indices, x.indices)
    np.testing.assert_array_equal(fx.data, x.data)
    np.testing.assert_array_equal(fy, y)
    assert fy.dtype == y.dtype
    assert fw is None and w is None


@pytest.mark.parametrize("data", TAKEN)
def test_fast_path_matches_the_python_parser(data: str) -> None:
    same(data)


@pytest.mark.parametrize("data", DECLINED)
def test_fast_path_declines_what_it_cannot_match(data: str) -> None:
    assert parse_libsvm_fast(data.encode()) is None


def test_fast_path_matches_on_random_sparse_rows() -> None:
    rng = np.random.default_rng(7)
    lines = []
    for _ in range(300):
        columns = np.sort(rng.choice(40, size=rng.integers(0, 8), replace=False))
        values = rng.normal(size=columns.size).astype(np.float32)
        pairs = " ".join(
            f"{c}:{v!r}" for c, v in zip(columns.tolist(), values.tolist(), strict=True)
        )
        lines.append(f"{rng.integers(0, 3)} {pairs}".rstrip())
    same("\n".join(lines) + "\n")
