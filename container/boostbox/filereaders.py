"""One data file -> Dataset: gunzip by magic bytes, parse, check labels and weights.

Every error names the file, and the line (text) or row (Parquet) where it can.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from boostbox.dataset import Dataset
from boostbox.errors import DataError, ParseError
from boostbox.libsvmfast import parse_libsvm_fast
from boostbox.textformats import parse_csv, parse_libsvm

GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: Path) -> bytes:
    """A file's content, gunzipped when it starts with gzip's magic bytes (any name)."""
    data = path.read_bytes()
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: looks gzip-compressed but cannot be decompressed: {e}") from e
    return data


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 text (a BOM is dropped); binary data gets a hint about the ContentType."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(
            f"{path}: is not UTF-8 text (byte {e.start}); is the channel's ContentType right?"
        ) from e


def read_utf8(path: Path) -> bytes:
    """A text file's bytes, checked to be UTF-8 without keeping a decoded copy."""
    data = read_bytes(path)
    if not data.isascii():
        _decode(path, data)  # raises on invalid UTF-8; ASCII needs no check
    return data


def _data_line(text: str, row: int, is_data: Callable[[str], bool]) -> int:
    """The 1-based line number of the `row`-th data line (blank lines are not rows)."""
    seen = -1
    for number, line in enumerate(text.splitlines(), start=1):
        if is_data(line):
            seen += 1
            if seen == row:
                return number
    return row + 1


def _check_column(
    values: np.ndarray,
    what: str,
    path: Path,
    text: str | bytes | None,
    is_data: Callable[[str], bool],
) -> None:
    bad = np.flatnonzero(~np.isfinite(values) | ((values < 0) if what == "weight" else False))
    if bad.size:
        row = int(bad[0])
        if text is None:
            where = f"row {row + 1}"
        else:
            lines = _decode(path, text) if isinstance(text, bytes) else text
            where = f"line {_data_line(lines, row, is_data)}"
        problem = "is empty or NaN" if np.isnan(values[row]) else f"is {values[row]}"
        if what == "weight":
            problem += " (weights must be finite and >= 0)"
        raise DataError(f"{path}: {where}: the {what} {problem}.")


def _is_csv_data(line: str) -> bool:
    return bool(line.strip())


def _is_libsvm_data(line: str) -> bool:
    return bool(line.split("#", 1)[0].strip())


def read_csv(path: Path, weighted: bool) -> Dataset:
    """Label in column 0, then the weight when `weighted` (csv_weights=1), then features."""
    text = read_utf8(path)  # bytes: pandas parses them directly, no str copy
    try:
        table = parse_csv(text, source=str(path))
    except ParseError as e:
        raise DataError(str(e)) from e
    first = 2 if weighted else 1
    if table.shape[0] == 0:
        return Dataset(table, np.empty(0, np.float32), files=(str(path),))
    if table.shape[1] <= first:
        raise DataError(
            f"{path}: line 1 has {table.shape[1]} column(s): expected the label"
            f"{', the weight' if weighted else ''} and at least one feature."
        )
    labels = table[:, 0]
    _check_column(labels, "label", path, text, _is_csv_data)
    weights = table[:, 1] if weighted else None
    if weights is not None:
        _check_column(weights, "weight", path, text, _is_csv_data)
    return Dataset(table[:, first:], labels, weights, files=(str(path),))


def read_libsvm(path: Path) -> Dataset:
    """XGBoost's libsvm rule: the first token is label[:weight]; index i is column i."""
    data = read_utf8(path)
    parsed = parse_libsvm_fast(data)
    text: str | bytes = data
    if parsed is None:
        text = _decode(path, data)
        del data  # the Python parser needs only the str: do not hold both
        try:
            parsed = parse_libsvm(text, source=str(path), labelled=True)
        except ParseError as e:
            raise DataError(str(e)) from e
    features, labels, weights = parsed
    _check_column(labels, "label", path, text, _is_libsvm_data)
    if weights is not None:
        _check_column(weights, "weight", path, text, _is_libsvm_data)
    return Dataset(features, labels, weights, files=(str(path),))


def read_parquet(path: Path) -> Dataset:
    """Numeric columns only, the first is the label; column names become feature names."""
    try:
        table = pq.read_table(io.BytesIO(read_bytes(path)))
    except (pa.ArrowException, OSError) as e:
        raise DataError(f"{path}: is not a readable Parquet file: {e}") from e
    for number, (name, column) in enumerate(zip(table.column_names, table.columns, strict=True)):
        kind = column.type
        if not (
            pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
        ):
            raise DataError(
                f"{path}: column {number + 1} ('{name}') has type {kind}; boostbox needs numbers."
            )
    if table.num_columns < 2:
        raise DataError(f"{path}: has {table.num_columns} column(s): expected label + features.")
    frame = table.to_pandas()
    matrix = frame.to_numpy(dtype=np.float32, na_value=np.nan)
    labels = matrix[:, 0]
    _check_column(labels, "label", path, None, _is_csv_data)
    names = tuple(str(n) for n in table.column_names[1:])
    return Dataset(matrix[:, 1:], labels, None, feature_names=names, files=(str(path),))
