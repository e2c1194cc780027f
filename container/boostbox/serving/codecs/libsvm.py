"""text/libsvm (and text/x-libsvm): `[label] index:value ...` lines; labels are ignored.

Uses the shared `boostbox.formats.libsvm.parse_libsvm`: index i is column i, exactly as
XGBoost's libsvm reader and boostbox training read files, so a libsvm request lines up with
a libsvm-trained model. A first token without ':' is a label and is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

import scipy.sparse as sp

from boostbox.errors import ParseError
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
