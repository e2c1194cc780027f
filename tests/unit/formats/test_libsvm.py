"""The shared libsvm/libsvm parsers: values, NaN, delimiters, and errors that name the place."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from boostbox.errors import ParseError
from boostbox.formats.libsvm import parse_libsvm


def test_libsvm_labels_weights_and_missing_labels() -> None:
    x, y, w = parse_libsvm("1 0:1 3:2.5\n0:1 2:3  # comment\n\n")
    assert x.shape == (2, 4)
    assert x.dtype == np.float32
    assert y[0] == 1 and math.isnan(y[1])
    assert w is None
    assert x.toarray()[1].tolist() == [1, 0, 3, 0]


def test_libsvm_labelled_reads_label_weight() -> None:
    x, y, w = parse_libsvm("1:0.5 0:1\n0 1:2\n", labelled=True)
    assert y.tolist() == [1, 0]
    assert w is not None and w.tolist() == [0.5, 1.0]
    assert x.shape == (2, 2)


def test_libsvm_qid_is_ignored() -> None:
    x, _, _ = parse_libsvm("1 qid:3 0:1\n")
    assert x.toarray().tolist() == [[1]]


@pytest.mark.filterwarnings("ignore:.*Text file input has been deprecated:UserWarning")
def test_libsvm_index_rule_matches_xgboost_reader(tmp_path: Path) -> None:
    """Index i is column i, as XGBoost's own reader: 1-based data leaves column 0 empty."""
    text = "1 1:0.5 3:2\n0 2:1\n"
    path = tmp_path / "d.libsvm"
    path.write_text(text)
    theirs = xgb.DMatrix(f"{path}?format=libsvm")
    ours, labels, _ = parse_libsvm(text)
    assert ours.shape == (theirs.num_row(), theirs.num_col()) == (2, 4)
    assert labels.tolist() == theirs.get_label().tolist()
    assert ours.getcol(0).nnz == 0


@pytest.mark.parametrize(
    ("text", "expected", "column"),
    [
        ("1 0:1\nx 1:2\n", "line 2, column 1: 'x' is not a label", 1),
        ("1 0:1 a:b\n", "line 1, column 3: 'a:b' is not index:value", 3),
        ("1 0:1 5\n", "line 1, column 3: '5' is not index:value", 3),
        ("1 -1:2\n", "'-1:2' is not index:value", 2),
    ],
)
def test_libsvm_errors_name_line_and_column(text: str, expected: str, column: int) -> None:
    with pytest.raises(ParseError, match=expected) as info:
        parse_libsvm(text)
    assert info.value.column == column
