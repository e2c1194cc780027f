"""One implementation per wire/file format, shared by training readers and serving codecs.

mediatypes (parse 'text/csv; charset=...'), text (bytes -> str: charset, BOM), csv, libsvm
(the Python parser that defines the format, plus a C-speed fast path), parquet and recordio
(SageMaker's RecordIO-wrapped protobuf). A file in a channel and a request body with the same
bytes mean the same matrix; parsers raise `errors.ParseError` naming the place, which
training turns into a DataError naming the file and serving into a 400.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

type Matrix = np.ndarray | sp.csr_matrix
"""Dense float32 rows (CSV, Parquet, dense records) or sparse CSR rows (libsvm, sparse records)."""
