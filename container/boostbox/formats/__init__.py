"""One implementation per wire/file format, shared by training readers and serving codecs.

mediatypes (parse 'text/csv; charset=...'), text (bytes -> str: charset, BOM), csv, libsvm
(the Python parser that defines the format, plus a C-speed fast path), parquet and recordio
(SageMaker's RecordIO-wrapped protobuf). A file in a channel and a request body with the same
bytes mean the same matrix; parsers raise `errors.ParseError` naming the place, which
training turns into a DataError naming the file and serving into a 400.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

type Matrix = np.ndarray | sp.csr_matrix
"""Dense float32 rows (CSV, Parquet, dense records) or sparse CSR rows (libsvm, sparse records)."""


def overflow_is_inf[**P, R](parse: Callable[P, R]) -> Callable[P, R]:
    """A parser's numbers beyond float32 become +-inf silently (numpy would warn on the
    cast); training then names the cell, serving answers 400. Applied to every parser."""

    @functools.wraps(parse)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with np.errstate(over="ignore", invalid="ignore"):
            return parse(*args, **kwargs)

    return wrapped
