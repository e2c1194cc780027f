"""application/x-recordio-protobuf: SageMaker's RecordIO-wrapped `Record` protobufs.

In: one Record per row (dense or sparse `features["values"]`), read by the shared
`boostbox.formats.recordio` reader that training uses too. Out: one Record per prediction
whose `label` map holds float32 tensors: {"score": [...]} (or the custom output's key, or
each selected SAGEMAKER_INFERENCE_OUTPUT key), as the official container writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sagemaker_training.record_pb2 import Record

from boostbox.errors import BadRequest, ParseError
from boostbox.formats import Matrix
from boostbox.formats.recordio import frame, read_records
from boostbox.serving.codecs.common import plain_rows
from boostbox.serving.outputs import Output

MEDIA = "application/x-recordio-protobuf"


def decode(body: bytes, params: Mapping[str, str]) -> Matrix:
    """Records -> dense float32 rows, or CSR when any record is sparse; labels are ignored."""
    try:
        matrix, _labels = read_records(body)
    except ParseError as e:
        raise BadRequest(f"Malformed {MEDIA} body: {e}") from e
    return matrix


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
        frames.append(frame(record.SerializeToString()))
    return b"".join(frames)
