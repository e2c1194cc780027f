"""application/x-recordio-protobuf: SageMaker's RecordIO-wrapped `Record` protobufs.

In: one Record per row, as the SageMaker SDK's serializers (and the training toolkit's
`_write_numpy_to_dense_tensor` / `_write_spmatrix_to_sparse_tensor`) write them; the
`features["values"]` tensor is dense (values) or sparse (keys + values + shape).
Out: one Record per prediction whose `label` map holds float32 tensors: {"score": [...]}
(or the custom output's key, or each selected SAGEMAKER_INFERENCE_OUTPUT key), as the
official container writes selected outputs.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from sagemaker_training.record_pb2 import Record

from boostbox.errors import BadRequest
from boostbox.serving.codecs.common import plain_rows
from boostbox.serving.outputs import Output

MEDIA = "application/x-recordio-protobuf"
MAGIC = 0xCED7230A
_HEADER = struct.Struct("<II")


def _frames(body: bytes) -> Iterator[bytes]:
    """Payloads of RecordIO frames: magic, length (low 29 bits), payload, padding to 4 bytes."""
    offset = 0
    while offset < len(body):
        if len(body) - offset < _HEADER.size:
            raise BadRequest(f"Malformed {MEDIA} body: truncated frame header at byte {offset}.")
        magic, length = _HEADER.unpack_from(body, offset)
        if magic != MAGIC:
            raise BadRequest(f"Malformed {MEDIA} body: no RecordIO magic at byte {offset}.")
        length &= (1 << 29) - 1
        start = offset + _HEADER.size
        if start + length > len(body):
            raise BadRequest(f"Malformed {MEDIA} body: frame at byte {offset} is truncated.")
        yield body[start : start + length]
        offset = start + length + (-length % 4)


def _tensor(record: Any, number: int) -> tuple[list[float], list[int], list[int]]:
    if "values" not in record.features:
        raise BadRequest(f"Record {number} has no features['values'] tensor.")
    value = record.features["values"]
    kind = value.WhichOneof("value")
    if kind not in ("float32_tensor", "float64_tensor", "int32_tensor"):
        raise BadRequest(f"Record {number}: features['values'] holds no numeric tensor.")
    tensor = getattr(value, kind)
    return list(tensor.values), list(tensor.keys), list(tensor.shape)


def decode(body: bytes, params: Mapping[str, str]) -> np.ndarray | sp.csr_matrix:
    """Records -> dense float32 rows, or CSR when any record is sparse."""
    rows: list[tuple[list[float], list[int], list[int]]] = []
    for number, payload in enumerate(_frames(body), start=1):
        record = Record()
        try:
            record.ParseFromString(payload)
        except DecodeError as e:
            raise BadRequest(f"Malformed {MEDIA} body: record {number}: {e}") from e
        rows.append(_tensor(record, number))
    if not rows:
        raise BadRequest(f"The {MEDIA} body holds no records.")
    if not any(keys for _, keys, _ in rows):
        width = len(rows[0][0])
        for number, (values, _, _) in enumerate(rows, start=1):
            if len(values) != width:
                raise BadRequest(f"Record {number} has {len(values)} values; record 1 has {width}.")
        return np.asarray([values for values, _, _ in rows], dtype=np.float32)
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    width = 0
    for number, (values, keys, shape) in enumerate(rows, start=1):
        if keys and len(keys) != len(values):
            raise BadRequest(f"Record {number} has {len(keys)} keys but {len(values)} values.")
        row_keys = keys or list(range(len(values)))
        indices += row_keys
        data += values
        indptr.append(len(indices))
        width = max(width, shape[0] if shape else 0, max(row_keys, default=-1) + 1)
    return sp.csr_matrix(
        (np.asarray(data, dtype=np.float32), np.asarray(indices), np.asarray(indptr)),
        shape=(len(rows), width),
    )


def _frame(payload: bytes) -> bytes:
    return _HEADER.pack(MAGIC, len(payload)) + payload + b"\x00" * (-len(payload) % 4)


def encode(output: Output, batch: bool) -> bytes:
    """One Record per prediction; every value is a float32 tensor in the `label` map."""
    if output.records is not None:
        items: list[dict[str, Any]] = output.records
    else:
        items = [{output.key: value} for value in plain_rows(output)]
    frames = []
    record = Record()
    for item in items:
        record.Clear()
        for key, value in item.items():
            flat = np.asarray(value, dtype=np.float32).reshape(-1)
            record.label[key].float32_tensor.values.extend(flat.tolist())
        frames.append(_frame(record.SerializeToString()))
    return b"".join(frames)
