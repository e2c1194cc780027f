"""application/x-parquet: every column is a feature (no label column), matched by name.

Read by the shared `boostbox.formats.parquet` reader, with the same type rule as training;
columns pandas wrote for its index (`__index_level_0__`, or a named index) are dropped
there. The column names go on with the rows: a model that knows its feature names gets its
columns by name (reordered as needed), never silently by position (serving.features).
"""

from __future__ import annotations

from collections.abc import Mapping

from boostbox.errors import BadRequest, ParseError
from boostbox.formats.parquet import read_table
from boostbox.serving.codecs.common import Frame

MEDIA = "application/x-parquet"


def decode(body: bytes, params: Mapping[str, str]) -> Frame:
    """A Parquet file -> 2-D float32 rows with their column names; nulls are missing values."""
    try:
        matrix, names = read_table(body)
    except ParseError as e:
        raise BadRequest(f"Malformed {MEDIA} body: {e}") from e
    if matrix.shape[1] == 0:
        raise BadRequest("The Parquet body has no feature columns.")
    return Frame(matrix, names)
