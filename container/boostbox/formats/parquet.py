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


@overflow_is_inf
def read_table(data: bytes) -> tuple[np.ndarray, tuple[str, ...]]:
    """A Parquet file's bytes -> (2-D float32 array, column names)."""
    try:
        reader = pq.ParquetFile(pa.BufferReader(data), pre_buffer=False)
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
