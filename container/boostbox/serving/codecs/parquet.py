"""application/x-parquet: every column is a feature, in file order (no label column)."""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np

from boostbox.errors import BadRequest

MEDIA = "application/x-parquet"


def decode(body: bytes, params: Mapping[str, str]) -> np.ndarray:
    """A Parquet file -> 2-D float32; nulls are missing values."""
    import pyarrow as pa  # lazily: ~40 MB a worker that gets no Parquet request never pays
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(body))
    except (pa.ArrowException, OSError) as e:
        raise BadRequest(f"Malformed {MEDIA} body: {e}") from e
    columns = []
    for number, (name, column) in enumerate(
        zip(table.column_names, table.columns, strict=True), start=1
    ):
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
    if not columns:
        raise BadRequest("The Parquet body has no columns.")
    return np.column_stack(columns).astype(np.float32, copy=False)
