"""application/x-parquet: every column is a feature (no label column), matched by name.

Columns pandas wrote for its index (`__index_level_0__`, or a named index, as recorded in
the file's pandas metadata) are not features and are dropped. The column names go on with
the rows: a model that knows its feature names gets its columns by name (reordered as
needed), never silently by position (serving.features).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from boostbox.errors import BadRequest
from boostbox.serving.codecs.common import Frame

MEDIA = "application/x-parquet"
INDEX_COLUMN = re.compile(r"^__index_level_\d+__$")


def index_columns(schema: pa.Schema) -> set[str]:
    """Columns that hold a pandas index, by the file's pandas metadata or pandas' naming."""
    names = {name for name in schema.names if INDEX_COLUMN.match(name)}
    raw = (schema.metadata or {}).get(b"pandas")
    if raw:
        try:
            listed = json.loads(raw).get("index_columns", [])
        except ValueError:
            listed = []
        names.update(entry for entry in listed if isinstance(entry, str))
    return names


def decode(body: bytes, params: Mapping[str, str]) -> Frame:
    """A Parquet file -> 2-D float32 rows with their column names; nulls are missing values."""
    try:
        table = pq.read_table(io.BytesIO(body))
    except (pa.ArrowException, OSError) as e:
        raise BadRequest(f"Malformed {MEDIA} body: {e}") from e
    dropped = index_columns(table.schema)
    columns = []
    names = []
    for number, (name, column) in enumerate(
        zip(table.column_names, table.columns, strict=True), start=1
    ):
        if name in dropped:
            continue
        kind = column.type
        if not (
            pa.types.is_integer(kind)
            or pa.types.is_floating(kind)
            or pa.types.is_boolean(kind)
            or pa.types.is_null(kind)
            or pa.types.is_decimal(kind)
        ):
            raise BadRequest(
                f"Parquet column {number} ('{name}') has type {kind}; features must be numeric."
            )
        filled = column.cast(pa.float32()).fill_null(float("nan"))
        columns.append(filled.to_numpy())
        names.append(str(name))
    if not columns:
        raise BadRequest("The Parquet body has no feature columns.")
    return Frame(np.column_stack(columns).astype(np.float32, copy=False), tuple(names))
