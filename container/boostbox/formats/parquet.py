"""Parquet: numeric columns -> float32 rows, one type rule for training files and requests.

Integer, floating, boolean, decimal and all-null columns are read; nulls are missing
values (NaN). Values are rounded to float32 exactly as the same number written as CSV text
would be (int64 16777217 -> 16777216.0), never refused for it. Any other type (strings,
dates, nested) is a ParseError naming the column. Columns holding a pandas index
(`__index_level_0__`, or a named index listed in the file's pandas metadata) are not
features and are dropped, in training files and requests alike.

The bytes are read on the calling thread only: `ParquetFile` over an Arrow BufferReader,
no pre-buffering, no threads. `pq.read_table(io.BytesIO(...))` goes through the dataset
scanner and pyarrow's IO thread pool, whose threads may release the last reference to a
Python-owned buffer after the read returned; during interpreter shutdown that aborts the
process (SIGABRT, `terminate called without an active exception`, see boostbox.process).

The row counts the footer claims are checked before any column is read: pyarrow allocates
for the rows a row group claims (measured: a 3-row file whose footer claims 2e9 rows asks
for 4 GiB, 3e9 for 8 GiB), and a few bytes of run-length-encoded levels can honestly hold
billions of rows. More than MAX_ROWS rows in one file, or a row group claiming more rows
than a column of it holds values, is a ParseError.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from boostbox.errors import ParseError
from boostbox.formats import overflow_is_inf

INDEX_COLUMN = re.compile(r"^__index_level_\d+__$")
MAX_ROWS = 2**31 - 1
"""Rows one Parquet file may hold (8 GiB per column as float32); more: several files."""


def index_columns(schema: pa.Schema) -> set[str]:
    """Columns that hold a pandas index, by pandas' naming or the file's pandas metadata."""
    names = {name for name in schema.names if INDEX_COLUMN.match(name)}
    raw = (schema.metadata or {}).get(b"pandas")
    if raw:
        try:
            listed = json.loads(raw).get("index_columns", [])
        except (ValueError, AttributeError):
            listed = []
        names.update(entry for entry in listed if isinstance(entry, str))
    return names


def _numeric(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_null(kind)
        or pa.types.is_decimal(kind)
    )


def _check_rows(metadata: pq.FileMetaData, max_rows: int) -> None:
    """Refuse, before reading, a footer claiming more than `max_rows` rows, a negative count,
    or a row group with more rows than a column of it holds values (pyarrow would allocate
    for the claimed rows, then read fewer)."""
    groups = [metadata.row_group(i) for i in range(metadata.num_row_groups)]
    counts = [metadata.num_rows] + [group.num_rows for group in groups]
    if min(counts) < 0:
        raise ParseError(f"its metadata claims {min(counts):,} rows (a corrupt footer).")
    claimed = max(counts[0], sum(counts[1:]))
    if claimed > max_rows:
        raise ParseError(
            f"its metadata claims {claimed:,} rows; boostbox reads at most {max_rows:,} rows "
            "from one Parquet file (split the data into several files)."
        )
    for number, group in enumerate(groups, start=1):
        for column in range(group.num_columns):
            values = group.column(column).num_values
            if values < group.num_rows:
                raise ParseError(
                    f"row group {number} claims {group.num_rows:,} rows but its column "
                    f"{column + 1} holds {values:,} values (a corrupt footer)."
                )


@overflow_is_inf
def read_table(data: bytes, max_rows: int = MAX_ROWS) -> tuple[np.ndarray, tuple[str, ...]]:
    """A Parquet file's bytes -> (2-D float32 array, column names); at most `max_rows` rows."""
    try:
        reader = pq.ParquetFile(pa.BufferReader(data), pre_buffer=False)
        _check_rows(reader.metadata, max_rows)
        table = reader.read(use_threads=False)
    except (pa.ArrowException, OSError) as e:
        raise ParseError(f"is not a readable Parquet file: {e}") from e
    dropped = index_columns(table.schema)
    if dropped:
        table = table.drop_columns([n for n in table.column_names if n in dropped])
    columns = []
    for number, (name, column) in enumerate(
        zip(table.column_names, table.columns, strict=True), start=1
    ):
        if not _numeric(column.type):
            raise ParseError(
                f"column {number} ('{name}') has type {column.type}; boostbox needs numbers.",
                column=number,
            )
        as_float = pc.cast(column, pa.float64(), safe=False).fill_null(float("nan"))
        columns.append(as_float.to_numpy().astype(np.float32))
    names = tuple(str(n) for n in table.column_names)
    if not columns:
        return np.empty((table.num_rows, 0), dtype=np.float32), names
    return np.column_stack(columns), names
