"""text/libsvm (and text/x-libsvm): `[label] index:value ...` lines; labels are ignored.

Uses the shared `boostbox.formats.libsvm.parse_libsvm`: index i is column i, exactly as
XGBoost's libsvm reader and boostbox training read files, so a libsvm request lines up with
a libsvm-trained model. A first token without ':' is a label and is dropped.

With BOOSTBOX_LIBSVM_ONE_BASED=true every index i is column i - 1 instead (clients writing
1-based libsvm to a model trained on dense CSV/Parquet columns); index 0 is then a 400.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

from boostbox.errors import BadRequest, ParseError
from boostbox.formats.libsvm import parse_libsvm
from boostbox.serving.codecs.common import bad_request, text

MEDIA = "text/libsvm"


def decode(body: bytes, params: Mapping[str, str]) -> sp.csr_matrix:
    """libsvm lines -> float32 CSR (absent entries are missing values)."""
    try:
        matrix, _labels, _weights = parse_libsvm(text(body, params, MEDIA), source="request")
    except ParseError as e:
        raise bad_request(MEDIA, e) from e
    return matrix


def from_one_based(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Shift every column index down by one (BOOSTBOX_LIBSVM_ONE_BASED); index 0 is a 400."""
    if matrix.nnz and matrix.indices.min() == 0:
        row = int(np.searchsorted(matrix.indptr, np.flatnonzero(matrix.indices == 0)[0], "right"))
        raise BadRequest(
            f"Malformed {MEDIA} body: record {row} has index 0, but BOOSTBOX_LIBSVM_ONE_BASED=true "
            "makes indices 1-based."
        )
    return sp.csr_matrix(
        (matrix.data, matrix.indices - 1, matrix.indptr),
        shape=(matrix.shape[0], max(matrix.shape[1] - 1, 0)),
    )
