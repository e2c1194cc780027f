"""A fast path for labelled libsvm files: scikit-learn's Cython reader, checked and optional.

`textformats.parse_libsvm` defines the format and names bad lines, but runs token by token
in Python (~19 us a 28-feature line). Training files go through
`sklearn.datasets.load_svmlight_file` first (~14 us a line, and no decoded str copy), only
on input both readers read alike; anything else (weights, qid, odd line breaks, see `_plain`)
or any error returns None and the Python parser decides. sklearn is already imported by
xgboost in training; serving never imports this module.
"""

from __future__ import annotations

import io
import logging

import numpy as np
import scipy.sparse as sp

logger = logging.getLogger(__name__)

SCAN_BLOCK = 1 << 22
"""Bytes checked at a time for control characters (bounds the temporary mask)."""

HEAD_BYTES = 65536
"""The first line is looked at in this head: a weighted file skips the fast path at once."""

TAB, LF, CR = 9, 10, 13


def _plain(data: bytes) -> bool:
    """ASCII, lines split only by LF or CRLF, no qid and no label:weight on the first line.

    Python's splitlines/split also break on VT, FF, FS..US and lone CR, which sklearn reads
    differently; sklearn accepts qid only right after the label; weights it cannot read.
    """
    if not data.isascii() or b"qid" in data:
        return False
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return False
    view = np.frombuffer(data, dtype=np.uint8)
    for start in range(0, view.size, SCAN_BLOCK):
        block = view[start : start + SCAN_BLOCK]
        if np.any((block < 32) & (block != TAB) & (block != LF) & (block != CR)):
            return False
    for line in data[:HEAD_BYTES].splitlines():
        tokens = line.split(b"#", 1)[0].split()
        if tokens:
            return b":" not in tokens[0]  # label:weight: sklearn would refuse the file
    return True


def parse_libsvm_fast(
    data: bytes,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray | None] | None:
    """(X float32 CSR, labels float32, no weights) as parse_libsvm(labelled=True), or None."""
    if not _plain(data):
        return None
    from sklearn.datasets import load_svmlight_file  # heavy; training files only

    try:
        loaded, labels = load_svmlight_file(io.BytesIO(data), zero_based=True, dtype=np.float32)
    except Exception as e:  # any refusal means "not provably the same": defer to Python
        logger.debug("libsvm fast path declined (%s); using the Python parser.", e)
        return None
    indices = np.asarray(loaded.indices, dtype=np.int64)
    width = int(indices.max()) + 1 if indices.size else 0
    matrix = sp.csr_matrix(
        (
            np.asarray(loaded.data, dtype=np.float32),
            indices,
            np.asarray(loaded.indptr, dtype=np.int64),
        ),
        shape=(loaded.shape[0], width),
    )
    matrix.sum_duplicates()
    return matrix, np.asarray(labels, dtype=np.float32), None
