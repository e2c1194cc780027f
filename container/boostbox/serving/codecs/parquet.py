"""application/x-parquet: every column is a feature, in file order (no label column).

Read by the shared `boostbox.formats.parquet` reader, with the same type rule as training.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from boostbox.errors import BadRequest, ParseError
from boostbox.formats.parquet import read_table

MEDIA = "application/x-parquet"


def decode(body: bytes, params: Mapping[str, str]) -> np.ndarray:
    """A Parquet file -> 2-D float32; nulls are missing values."""
    try:
        matrix, _names = read_table(body)
    except ParseError as e:
        raise BadRequest(f"Malformed {MEDIA} body: {e}") from e
    if matrix.shape[1] == 0:
        raise BadRequest("The Parquet body has no columns.")
    return matrix
