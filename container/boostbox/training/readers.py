"""One data file -> Dataset, through a registry keyed by format (as serving's codecs are).

Every reader gunzips by magic bytes, parses with the shared `boostbox.formats` parser that
serving uses for the same media type, and checks labels and weights. Every error names the
file, and the line (text) or row (Parquet, RecordIO) where it can.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp

from boostbox.errors import DataError, ParseError
from boostbox.formats import libsvmnative, text
from boostbox.formats.csv import parse_csv
from boostbox.formats.libsvm import parse_libsvm, parse_libsvm_fast, warn_bare
from boostbox.formats.parquet import read_table
from boostbox.formats.recordio import read_records
from boostbox.training.dataset import Dataset

logger = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
INF_SCAN_ROWS = 1 << 16
"""Rows checked for infinite features at a time (a bool mask of this many rows)."""
LINE_WINDOW = 1 << 20
"""Text looked at for a refused line (the whole rest of the file if the line is longer)."""

type Rows = tuple[sp.csr_matrix, np.ndarray, np.ndarray | None]
"""A libsvm file read: (features CSR, labels, weights or None)."""


@dataclass(frozen=True)
class ReadOptions:
    """What a reader needs besides the file: media-type parameters and csv_weights."""

    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """The ContentType's parameters (charset, ...)."""
    csv_weights: bool = False


type Reader = Callable[[Path, ReadOptions], Dataset]


def read_bytes(path: Path) -> bytes:
    """A file's content, gunzipped when it starts with gzip's magic bytes (any name)."""
    data = path.read_bytes()
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: looks gzip-compressed but cannot be decompressed: {e}") from e
    return data


def _text(path: Path, data: bytes, options: ReadOptions) -> str:
    try:
        return text.decode(data, options.params, str(path))
    except ParseError as e:
        raise DataError(f"{e} Is the channel's ContentType right?") from e


def text_content(path: Path, data: bytes, options: ReadOptions) -> str | bytes:
    """Text (a file or a batch of its lines): bytes when plain UTF-8 (parsers take them),
    else decoded text."""
    if data.isascii() and text.is_utf8(options.params):
        return data
    return _text(path, data, options)


def _read_text(path: Path, options: ReadOptions) -> str | bytes:
    return text_content(path, read_bytes(path), options)


def _data_line(content: str, row: int, is_data: Callable[[str], bool]) -> int:
    """The 1-based line number of the `row`-th data line (blank lines are not rows)."""
    seen = -1
    for number, line in enumerate(content.splitlines(), start=1):
        if is_data(line):
            seen += 1
            if seen == row:
                return number
    return row + 1


def _where(
    row: int, content: str | bytes | None, is_data: Callable[[str], bool], first_line: int = 1
) -> str:
    """'line N' in a text file (blank/comment lines counted; `content` starts at line
    `first_line`), else 'row N' (1-based)."""
    if content is None:
        return f"row {row + first_line}"
    lines = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    return f"line {_data_line(lines, row, is_data) + first_line - 1}"


def _check_column(
    values: np.ndarray,
    what: str,
    path: Path,
    content: str | bytes | None,
    is_data: Callable[[str], bool],
    first_line: int = 1,
) -> None:
    bad = np.flatnonzero(~np.isfinite(values) | ((values < 0) if what == "weight" else False))
    if bad.size:
        row = int(bad[0])
        where = _where(row, content, is_data, first_line)
        problem = "is empty or NaN" if np.isnan(values[row]) else f"is {values[row]}"
        if what == "weight":
            problem += " (weights must be finite and >= 0)"
        raise DataError(f"{path}: {where}: the {what} {problem}.")


def _first_inf(features: np.ndarray | sp.spmatrix) -> tuple[int, int] | None:
    """(row, feature index) of the first infinite feature value, None when there is none."""
    if sp.issparse(features):
        csr = sp.csr_matrix(features)
        bad = np.flatnonzero(np.isinf(csr.data))
        if not bad.size:
            return None
        row = int(np.searchsorted(csr.indptr, bad[0], side="right") - 1)
        return row, int(csr.indices[bad[0]])
    for start in range(0, features.shape[0], INF_SCAN_ROWS):  # bounded temporary memory
        found = np.argwhere(np.isinf(features[start : start + INF_SCAN_ROWS]))
        if found.size:
            return start + int(found[0][0]), int(found[0][1])
    return None


def _check_features(
    features: np.ndarray | sp.spmatrix,
    path: Path,
    content: str | bytes | None,
    is_data: Callable[[str], bool],
    name: Callable[[int], str],
    first_line: int = 1,
) -> None:
    """XGBoost refuses infinite features (NaN is its missing value): name the first one."""
    found = _first_inf(features)
    if found is not None:
        row, index = found
        where = _where(row, content, is_data, first_line)
        raise DataError(
            f"{path}: {where}: {name(index)} is infinite (or beyond float32's range); "
            "XGBoost cannot train on it (leave a missing value out or empty)."
        )


def _is_csv_data(line: str) -> bool:
    return bool(line.strip())


def _is_libsvm_data(line: str) -> bool:
    return bool(line.split("#", 1)[0].strip())


def _drop_trailing_empty(table: np.ndarray, path: Path, first: int) -> np.ndarray:
    """A comma ending every row adds a last column with no value anywhere: not a feature."""
    if table.shape[1] > first + 1 and np.isnan(table[:, -1]).all():
        logger.warning(
            "%s: the last column (%d) is empty in every row (a trailing comma?): dropped, "
            "not trained as a feature.",
            path,
            table.shape[1],
        )
        return table[:, :-1]
    return table


def read_csv(path: Path, options: ReadOptions) -> Dataset:
    """Label in column 0, then the weight when csv_weights=1, then features."""
    return csv_dataset(path, _read_text(path, options), options)


def csv_dataset(
    path: Path,
    content: str | bytes,
    options: ReadOptions,
    *,
    first_line: int = 1,
    delimiter: str | None = None,
) -> Dataset:
    """read_csv on text already read: a whole file, or a batch of lines from `first_line`."""
    try:
        table = parse_csv(content, source=str(path), first_line=first_line, delimiter=delimiter)
    except ParseError as e:
        raise DataError(str(e)) from e
    weighted = options.csv_weights
    first = 2 if weighted else 1
    if table.shape[0] == 0:
        return Dataset(table, np.empty(0, np.float32), files=(str(path),))
    table = _drop_trailing_empty(table, path, first)
    if table.shape[1] <= first:
        raise DataError(
            f"{path}: line {first_line} has {table.shape[1]} column(s): expected the label"
            f"{', the weight' if weighted else ''} and at least one feature."
        )
    labels = table[:, 0]
    _check_column(labels, "label", path, content, _is_csv_data, first_line)
    weights = table[:, 1] if weighted else None
    if weights is not None:
        _check_column(weights, "weight", path, content, _is_csv_data, first_line)
    features = table[:, first:]
    _check_features(
        features, path, content, _is_csv_data, lambda i: f"column {i + first + 1}", first_line
    )
    return Dataset(features, labels, weights, files=(str(path),))


def _check_libsvm(
    parsed: Rows, path: Path, content: str | bytes | None, first_line: int = 1
) -> None:
    features, labels, weights = parsed
    _check_column(labels, "label", path, content, _is_libsvm_data, first_line)
    if weights is not None:
        _check_column(weights, "weight", path, content, _is_libsvm_data, first_line)
    _check_features(features, path, content, _is_libsvm_data, lambda i: f"index {i}", first_line)


def _judge_line(path: Path, options: ReadOptions, stopped: libsvmnative.Stopped) -> None:
    """The compiled reader refused a line: the Python parser words the error (DataError)."""
    content = _read_text(path, options)  # a file that does not decode fails here, as before
    window = content[stopped.offset : stopped.offset + LINE_WINDOW]
    if len(window) == LINE_WINDOW and len(window.splitlines()) < 2:  # the line goes on
        window = content[stopped.offset :]
    text = window.decode("ascii") if isinstance(window, bytes) else window
    line = text.splitlines()[0] if text else ""
    try:
        parse_libsvm(line, source=str(path), first_line=stopped.line, labelled=True)
    except ParseError as e:
        raise DataError(str(e)) from e
    logger.debug("%s: line %d: the Python parser reads it; it reads the file.", path, stopped.line)


def _read_native(path: Path, options: ReadOptions) -> Rows | None:
    """The compiled reader's result, or None where the Python parser must read the file."""
    library = libsvmnative.load()
    if library is None or not text.is_utf8(options.params):
        return None
    with path.open("rb") as f:
        gzipped = f.read(2) == GZIP_MAGIC
        f.seek(0)
        got = None if gzipped else libsvmnative.parse_file(library, f, path.stat().st_size)
    if got is None:
        got = libsvmnative.parse_bytes(library, read_bytes(path))
    if isinstance(got, libsvmnative.Stopped):
        if got.error:
            _judge_line(path, options, got)
        return None
    if got.bare_lines:
        warn_bare(str(path), got.first_bare, got.bare_lines)
    return got.matrix, got.labels, got.weights


def read_libsvm(path: Path, options: ReadOptions) -> Dataset:
    """XGBoost's libsvm rule: the first token is label[:weight]; index i is column i."""
    parsed = _read_native(path, options)
    if parsed is not None:
        try:  # values are checked first; the text is read again only to name a bad line
            _check_libsvm(parsed, path, None)
        except DataError:
            _check_libsvm(parsed, path, _read_text(path, options))
            raise
        return Dataset(parsed[0], parsed[1], parsed[2], files=(str(path),))
    return libsvm_dataset(path, _read_text(path, options))


def libsvm_dataset(path: Path, content: str | bytes, *, first_line: int = 1) -> Dataset:
    """read_libsvm on text already read: a whole file, or a batch of lines from `first_line`."""
    parsed = parse_libsvm_fast(content) if isinstance(content, bytes) else None
    if parsed is None:
        if isinstance(content, bytes):
            content = content.decode("ascii")  # the Python parser needs only the str
        try:
            parsed = parse_libsvm(content, source=str(path), first_line=first_line, labelled=True)
        except ParseError as e:
            raise DataError(str(e)) from e
    _check_libsvm(parsed, path, content, first_line)
    features, labels, weights = parsed
    return Dataset(features, labels, weights, files=(str(path),))


def read_parquet(path: Path, options: ReadOptions) -> Dataset:
    """Numeric columns only, the first is the label; column names become feature names."""
    return parquet_dataset(path, read_bytes(path))


def parquet_dataset(path: Path, body: bytes) -> Dataset:
    """read_parquet on the bytes of a whole Parquet file."""
    try:
        matrix, names = read_table(body)
    except ParseError as e:
        raise DataError(f"{path}: {e}") from e
    if matrix.shape[1] < 2:
        raise DataError(f"{path}: has {matrix.shape[1]} column(s): expected label + features.")
    labels = matrix[:, 0]
    _check_column(labels, "label", path, None, _is_csv_data)
    _check_features(
        matrix[:, 1:], path, None, _is_csv_data, lambda i: f"column {i + 2} ('{names[i + 1]}')"
    )
    return Dataset(matrix[:, 1:], labels, None, feature_names=names[1:], files=(str(path),))


def read_recordio(path: Path, options: ReadOptions) -> Dataset:
    """RecordIO-protobuf records: features['values'] dense or sparse, label['values']."""
    return recordio_dataset(path, read_bytes(path))


def recordio_dataset(path: Path, body: bytes, *, first_record: int = 1) -> Dataset:
    """read_recordio on whole frames: a file, or a batch of its records from `first_record`."""
    try:
        features, labels = read_records(body, first=first_record)
    except ParseError as e:
        raise DataError(f"{path}: {e}") from e
    _check_column(labels, "label", path, None, _is_csv_data, first_record)
    _check_features(features, path, None, _is_csv_data, lambda i: f"feature {i}", first_record)
    return Dataset(features, labels, None, files=(str(path),))


READERS: Mapping[str, Reader] = MappingProxyType(
    {
        "text/csv": read_csv,
        "text/libsvm": read_libsvm,
        "text/x-libsvm": read_libsvm,
        "application/x-parquet": read_parquet,
        "application/x-recordio-protobuf": read_recordio,
    }
)
"""Canonical media type -> reader; channels.py maps the spellings SageMaker accepts."""
