"""application/json: rows in as `{"instances": [...]}`, `{"features": [...]}` or a bare list.

Accepted bodies (numbers or null, null meaning missing):
- `{"instances": [[1, 2], [3, 4]]}` or `{"instances": [{"features": [1, 2]}, ...]}`
- `{"features": [1, 2]}` (one row) or `{"features": [[1, 2], [3, 4]]}`
- `[[1, 2], [3, 4]]` (rows); a flat `[1, 2]` is ONE row, also inside "instances".
Out: `{"predictions": [{"score": 0.43}, ...]}` (softprob: "score" is a list); custom outputs
use their own key ({"margin": ...}, {"contributions": [...]}, {"leaf": [...]}); with
SAGEMAKER_INFERENCE_OUTPUT each object holds the selected keys. NaN and infinities are
written as null (valid JSON). In batch mode (SAGEMAKER_BATCH) every record is one line,
newline-terminated, so the output has exactly one line per input record: the bare value
(official behaviour) or the selected object.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from boostbox.errors import BadRequest
from boostbox.formats import overflow_is_inf
from boostbox.serving.codecs.common import plain_rows, text
from boostbox.serving.outputs import Output

MEDIA = "application/json"


def _number(value: Any, where: str, column: int) -> float:
    if value is None:
        return math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an integer literal beyond float64 (1e400 already is inf)
            raise BadRequest(
                f"{where}, column {column}: {str(value)[:20]}... ({len(str(value))} digits) "
                "is beyond the float range."
            ) from None
    if isinstance(value, str):  # numeric strings pass, as they do through NumPy's fast path
        try:
            return float(value)
        except ValueError:
            pass
    raise BadRequest(f"{where}, column {column}: {json.dumps(value)[:40]} is not a number.")


def _row(value: Any, where: str) -> list[float]:
    if isinstance(value, dict):
        if "features" not in value:
            raise BadRequest(f"{where}: an object row needs a 'features' list.")
        value = value["features"]
    if not isinstance(value, list):
        raise BadRequest(f"{where}: a row must be a list of numbers.")
    return [_number(v, where, i) for i, v in enumerate(value, start=1)]


def rows(document: Any, where: str = "row") -> list[Any]:
    """The rows a JSON value stands for (lists or {"features": [...]} objects)."""
    if isinstance(document, dict):
        if "instances" in document:
            document = document["instances"]
        elif "features" in document:
            document = document["features"]
        else:
            raise BadRequest("A JSON object body needs an 'instances' or 'features' key.")
    if not isinstance(document, list) or not document:
        raise BadRequest("The JSON body holds no rows: send a list of rows.")
    if all(isinstance(v, list | dict) for v in document):
        return document
    return [document]


@overflow_is_inf
def matrix(found: list[Any], label: str = "row") -> np.ndarray:
    """Rows -> 2-D float32, naming the row and column of the first bad value."""
    try:
        result = np.asarray(found, dtype=np.float32)
        if result.ndim == 2:
            return result
    except (ValueError, TypeError, OverflowError):
        pass  # nulls, objects, strings, ragged rows, huge ints: convert row by row below
    converted = [_row(r, f"{label} {i}") for i, r in enumerate(found, start=1)]
    width = len(converted[0])
    for i, r in enumerate(converted, start=1):
        if len(r) != width:
            raise BadRequest(f"{label} {i} has {len(r)} values; {label} 1 has {width}.")
    return np.asarray(converted, dtype=np.float32).reshape(len(converted), width)


def load(content: str, where: str = "JSON body") -> Any:
    try:
        return json.loads(content)
    except json.JSONDecodeError as e:
        raise BadRequest(f"Malformed {where}: {e.msg} at line {e.lineno}, column {e.colno}.") from e
    except RecursionError as e:  # the decoder recurses once per nesting level
        raise BadRequest(f"Malformed {where}: nested too deeply for a row of numbers.") from e


def decode(body: bytes, params: Mapping[str, str]) -> np.ndarray:
    """A JSON document -> 2-D float32 rows."""
    return matrix(rows(load(text(body, params, MEDIA))))


def dumps(value: Any) -> str:
    """Compact JSON with NaN and infinities as null."""
    out = json.dumps(value, separators=(",", ":"))
    if "NaN" in out or "Infinity" in out:
        out = out.replace("-Infinity", "null").replace("Infinity", "null").replace("NaN", "null")
    return out


def records(output: Output) -> list[Any]:
    """Per-record JSON values: {"score": v} style objects, or the selected keys."""
    if output.records is not None:
        return output.records
    return [{output.key: value} for value in plain_rows(output)]


def encode(output: Output, batch: bool) -> bytes:
    if batch:
        lines = output.records if output.records is not None else plain_rows(output)
        return "".join(dumps(line) + "\n" for line in lines).encode()
    return dumps({"predictions": records(output)}).encode()
