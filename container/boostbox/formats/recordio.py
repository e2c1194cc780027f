"""application/x-recordio-protobuf: SageMaker's RecordIO-wrapped `Record` protobufs.

One Record per row, as the SageMaker SDK (`RecordSet`, `write_numpy_to_dense_tensor`,
`write_spmatrix_to_sparse_tensor`) and the training toolkit write them: `features["values"]`
is a dense (values) or sparse (keys + values + shape) tensor; a training record's label sits
in `label["values"]`. Frames: magic, length (low 29 bits), payload, padding to 4 bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from sagemaker_training.record_pb2 import Record

from boostbox.errors import ParseError
from boostbox.formats import Matrix, overflow_is_inf

MAGIC = 0xCED7230A
_HEADER = struct.Struct("<II")

type Row = tuple[list[float], list[int], list[int]]
"""values, keys (empty when dense), shape."""


def frames(body: bytes) -> Iterator[bytes]:
    """The payloads of the RecordIO frames in `body`."""
    offset = 0
    while offset < len(body):
        if len(body) - offset < _HEADER.size:
            raise ParseError(f"truncated frame header at byte {offset}.")
        magic, length = _HEADER.unpack_from(body, offset)
        if magic != MAGIC:
            raise ParseError(f"no RecordIO magic at byte {offset}.")
        length &= (1 << 29) - 1
        start = offset + _HEADER.size
        if start + length > len(body):
            raise ParseError(f"frame at byte {offset} is truncated.")
        yield body[start : start + length]
        offset = start + length + (-length % 4)


def frame(payload: bytes) -> bytes:
    """One RecordIO frame around `payload`."""
    return _HEADER.pack(MAGIC, len(payload)) + payload + b"\x00" * (-len(payload) % 4)


def _tensor(record: Any, number: int) -> Row:
    if "values" not in record.features:
        raise ParseError(f"record {number} has no features['values'] tensor.")
    value = record.features["values"]
    kind = value.WhichOneof("value")
    if kind not in ("float32_tensor", "float64_tensor", "int32_tensor"):
        raise ParseError(f"record {number}: features['values'] holds no numeric tensor.")
    tensor = getattr(value, kind)
    return list(tensor.values), list(tensor.keys), list(tensor.shape)


def _label(record: Any) -> float:
    """The record's label['values'] scalar, NaN when it has none (request bodies)."""
    if "values" not in record.label:
        return float("nan")
    value = record.label["values"]
    kind = value.WhichOneof("value")
    values = list(getattr(value, kind).values) if kind else []
    return float(values[0]) if values else float("nan")


def _dense(rows: list[Row]) -> np.ndarray:
    width = len(rows[0][0])
    for number, (values, _, _) in enumerate(rows, start=1):
        if len(values) != width:
            raise ParseError(f"record {number} has {len(values)} values; record 1 has {width}.")
    return np.asarray([values for values, _, _ in rows], dtype=np.float32)


def _sparse(rows: list[Row]) -> sp.csr_matrix:
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    width = 0
    for number, (values, keys, shape) in enumerate(rows, start=1):
        if keys and len(keys) != len(values):
            raise ParseError(f"record {number} has {len(keys)} keys but {len(values)} values.")
        row_keys = keys or list(range(len(values)))
        indices += row_keys
        data += values
        indptr.append(len(indices))
        width = max(width, shape[0] if shape else 0, max(row_keys, default=-1) + 1)
    return sp.csr_matrix(
        (np.asarray(data, dtype=np.float32), np.asarray(indices), np.asarray(indptr)),
        shape=(len(rows), width),
    )


@overflow_is_inf
def read_records(body: bytes, *, first: int = 1) -> tuple[Matrix, np.ndarray]:
    """Records -> (dense float32 rows, or CSR when any record is sparse; float32 labels).
    `first` numbers the first record in messages (a batch of a longer stream)."""
    rows: list[Row] = []
    labels: list[float] = []
    record = Record()
    for number, payload in enumerate(frames(body), start=first):
        record.Clear()
        try:
            record.ParseFromString(payload)
        except DecodeError as e:
            raise ParseError(f"record {number}: {e}") from e
        rows.append(_tensor(record, number))
        labels.append(_label(record))
    if not rows:
        raise ParseError("holds no records.")
    matrix = _sparse(rows) if any(keys for _, keys, _ in rows) else _dense(rows)
    return matrix, np.asarray(labels, dtype=np.float32)
