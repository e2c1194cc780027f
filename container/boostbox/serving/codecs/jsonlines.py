"""application/jsonlines: one row per line in, one JSON object per record and line out.

Each input line is a list of numbers (null = missing), `{"features": [...]}`, or any body
application/json accepts (its rows are appended). Output lines are `{"score": v}` (or the
custom output's key, or the SAGEMAKER_INFERENCE_OUTPUT keys), newline-terminated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from boostbox.errors import BadRequest
from boostbox.serving.codecs import json
from boostbox.serving.codecs.common import text
from boostbox.serving.outputs import Output

MEDIA = "application/jsonlines"


def decode(body: bytes, params: Mapping[str, str]) -> np.ndarray:
    found: list[Any] = []
    for number, line in enumerate(text(body, params, MEDIA).splitlines(), start=1):
        if line.strip():
            document = json.load(line, where=f"JSON line {number}")
            if isinstance(document, list) and not all(isinstance(v, list) for v in document):
                found.append(document)
            else:
                found.extend(json.rows(document))
    if not found:
        raise BadRequest("The jsonlines body holds no rows.")
    return json.matrix(found, label="record")


def encode(output: Output, batch: bool) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in json.records(output)).encode()
