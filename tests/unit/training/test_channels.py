"""Channels -> Dataset: content types, compression, folders, hidden files, widths."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from boostbox.config import ChannelConfig
from boostbox.errors import DataError
from boostbox.training.channels import Dataset, align, list_files, load_channel, parse_content_type
from tests.unit.training.builders import (
    csv_text,
    gz,
    libsvm_text,
    parquet_bytes,
    regression,
)

X, Y = regression(rows=20, features=3)
HALF = 10


def layout(folder: Path, files: dict[str, str | bytes]) -> Path:
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return folder


FORMATS: dict[str, tuple[str, dict[str, str | bytes]]] = {
    "csv": ("text/csv", {"a.csv": csv_text(X, Y)}),
    "csv_params": ("text/csv; charset=utf-8; label_size=1", {"a.csv": csv_text(X, Y)}),
    "csv_split_nested": (
        "text/csv",
        {"a.csv": csv_text(X[:HALF], Y[:HALF]), "x/y/b.csv": csv_text(X[HALF:], Y[HALF:])},
    ),
    "csv_gzip": ("text/csv", {"a.csv.gz": gz(csv_text(X, Y))}),
    "csv_gzip_no_suffix": ("text/csv", {"part-0000": gz(csv_text(X, Y))}),
    "libsvm": ("text/libsvm", {"a.libsvm": libsvm_text(X, Y)}),
    "x_libsvm": ("text/x-libsvm", {"a": libsvm_text(X, Y)}),
    "libsvm_gzip": ("libsvm", {"a.gz": gz(libsvm_text(X, Y))}),
    "parquet": ("application/x-parquet", {"a.parquet": parquet_bytes(X, Y)}),
    "parquet_split": (
        "application/x-parquet",
        {
            "a.parquet": parquet_bytes(X[:HALF], Y[:HALF]),
            "b/c.parquet": parquet_bytes(X[HALF:], Y[HALF:]),
        },
    ),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_formats_load_the_same_rows(tmp_path: Path, name: str) -> None:
    content_type, files = FORMATS[name]
    folder = layout(tmp_path / "train", files)
    data = load_channel(folder, ChannelConfig("train", content_type))
    assert data.rows == 20
    assert data.num_features == 3
    features: Any = data.features
    dense = features.toarray() if sp.issparse(features) else np.asarray(features)
    np.testing.assert_allclose(dense, X, rtol=1e-4)
    np.testing.assert_allclose(data.labels, Y, rtol=1e-4)
    if "parquet" in name:
        assert data.feature_names == ("f0", "f1", "f2")


def test_csv_weights_column(tmp_path: Path) -> None:
    weights = np.linspace(0.5, 2, 20)
    folder = layout(tmp_path / "train", {"a.csv": csv_text(X, Y, weights)})
    data = load_channel(folder, ChannelConfig("train", "text/csv"), csv_weights=True)
    assert data.num_features == 3
    assert data.weights is not None
    np.testing.assert_allclose(data.weights, weights, rtol=1e-4)


def test_libsvm_weights_and_widths_across_files(tmp_path: Path) -> None:
    folder = layout(tmp_path / "t", {"a": "1:2 0:1\n", "b": "0 5:1\n"})
    data = load_channel(folder, ChannelConfig("t", "text/libsvm"))
    assert data.features.shape == (2, 6)
    assert data.weights is not None and data.weights.tolist() == [2, 1]


def test_hidden_files_are_skipped_with_a_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = layout(
        tmp_path / "train",
        {"a.csv": csv_text(X, Y), ".DS_Store": b"\x00\x01junk", ".hidden/b.csv": "x,y\n"},
    )
    with caplog.at_level(logging.INFO):
        data = load_channel(folder, ChannelConfig("train", "text/csv"))
    assert data.rows == 20
    assert ".DS_Store" in caplog.text and ".hidden" in caplog.text


def test_three_levels_allowed_four_rejected(tmp_path: Path) -> None:
    ok = layout(tmp_path / "ok", {"a/b/c/x.csv": "1,2\n"})
    assert [p.name for p in list_files(ok, "train")] == ["x.csv"]
    deep = layout(tmp_path / "deep", {"a/b/c/d/x.csv": "1,2\n"})
    with pytest.raises(DataError, match="nested more than 3 levels"):
        list_files(deep, "train")


def test_missing_folder_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="has no data folder"):
        load_channel(tmp_path / "nope", ChannelConfig("train", "text/csv"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="Channel 'train' is empty: .* has no files"):
        load_channel(tmp_path / "empty", ChannelConfig("train", "text/csv"))


@pytest.mark.parametrize(
    ("raw", "media", "params"),
    [
        ("text/csv", "text/csv", {}),
        ("Text/CSV; charset=utf-8", "text/csv", {"charset": "utf-8"}),
        ("text/csv;label_size=1", "text/csv", {"label_size": "1"}),
        ("csv", "csv", {}),
        ("application/x-parquet", "application/x-parquet", {}),
    ],
)
def test_content_type_parameters(raw: str, media: str, params: dict[str, str]) -> None:
    assert parse_content_type(raw, "train") == (media, params)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "application/json",
            "supported: application/x-parquet, application/x-recordio-protobuf, text/csv",
        ),
        ("image/png", "cannot read"),
        ("text/csv; label_size=0", "label_size=0 is not supported"),
        ("text/csv; label_size=2", "label_size=2 is not supported"),
    ],
)
def test_bad_content_types(raw: str, expected: str) -> None:
    with pytest.raises(DataError, match=expected):
        parse_content_type(raw, "train")


@pytest.mark.parametrize(
    ("files", "content_type", "expected"),
    [
        ({"a.csv": "1,2,3\n1,2,3\n\n1,,3\n"}, "text/csv", "a.csv: line 4: the weight is empty"),
        ({"a.csv": "1,2,3\n1,2,3\n,2,3\n"}, "text/csv", "a.csv: line 3: the label is empty"),
        ({"a.csv": "1,-2,3\n"}, "text/csv", "weights must be finite and >= 0"),
        ({"a.csv": "1\n2\n"}, "text/csv", "expected the label, the weight and at least one"),
        ({"a.bin": b"\x00\xff\xfe"}, "text/csv", "is not valid utf-8 text"),
        ({"a.gz": b"\x1f\x8bnot really"}, "text/csv", "cannot be decompressed"),
        ({"a": "1 0:1\nnan 0:2\n"}, "text/libsvm", "a: line 2: the label is empty or NaN"),
        ({"a": "1 0:1\n1 0:x\n"}, "text/libsvm", "line 2, column 2"),
        ({"a.parquet": b"PAR1 broken"}, "application/x-parquet", "not a readable Parquet"),
        (
            {"a.csv": "1,2,3\n", "b.csv": "1,2,3,4\n"},
            "text/csv",
            "b.csv has 3 feature columns but .*a.csv has 2",
        ),
    ],
)
def test_file_errors_name_the_file(
    tmp_path: Path, files: dict[str, str | bytes], content_type: str, expected: str
) -> None:
    folder = layout(tmp_path / "train", files)
    with pytest.raises(DataError, match=expected) as info:
        load_channel(folder, ChannelConfig("train", content_type), csv_weights="weight" in expected)
    assert str(folder) in str(info.value) or "Channel 'train'" in str(info.value)


def test_parquet_text_column_is_named(tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "train" / "a.parquet"
    path.parent.mkdir()
    pd.DataFrame({"label": [1.0], "name": ["x"]}).to_parquet(path)
    with pytest.raises(DataError, match=r"column 2 \('name'\) has type"):
        load_channel(path.parent, ChannelConfig("train", "application/x-parquet"))


def test_align_pads_sparse_and_refuses_dense_mismatch() -> None:
    labels = np.zeros(1, np.float32)
    narrow = Dataset(sp.csr_matrix(np.ones((1, 2), np.float32)), labels)
    wide = Dataset(sp.csr_matrix(np.ones((1, 4), np.float32)), labels)
    a, b = align(narrow, wide)
    assert a.num_features == b.num_features == 4
    dense = Dataset(np.ones((1, 3), np.float32), labels)
    with pytest.raises(DataError, match="Channel 'validation' has 4 features"):
        align(dense, wide)
    a, b = align(dense, narrow)
    assert b.num_features == 3


def test_parquet_null_label_names_the_row(tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "train" / "a.parquet"
    path.parent.mkdir()
    pd.DataFrame({"label": [1.0, None], "f": [1.0, 2.0]}).to_parquet(path)
    with pytest.raises(DataError, match="a.parquet: row 2: the label is empty or NaN"):
        load_channel(path.parent, ChannelConfig("train", "application/x-parquet"))
