"""The `X-Amzn-SageMaker-Custom-Attributes` header: per-request output choice.

SageMaker passes this header through to the container unchanged (InvokeEndpoint's
`CustomAttributes`, at most 1024 visible ASCII characters). boostbox reads it as
`key=value` pairs separated by commas or semicolons; keys and values are case-insensitive
and surrounding spaces are ignored. One key is defined:

    output=prediction     the model's usual prediction (default; SAGEMAKER_INFERENCE_OUTPUT
                          applies only to this output)
    output=margin         untransformed scores (before sigmoid/softmax/exp); one value per
                          row, or one per class for multi:* models
    output=contributions  SHAP feature contributions (xgboost pred_contribs): per row
                          num_feature + 1 values, the last being the bias; multi-class
                          models give num_class such groups (class-major)
    output=interactions   SHAP interaction values (pred_interactions): per row a
                          (num_feature + 1) x (num_feature + 1) matrix (per class for
                          multi-class), flattened row-major in CSV
    output=leaf           leaf index reached in every tree (pred_leaf), one integer per tree

Examples: `output=contributions`, `output = margin;`. An unknown key, an unknown value, a
repeated key or a pair without '=' is a 400 naming it. An empty header means the default.
Every output is encoded in the negotiated Accept type; JSON uses the output's name as the
key of each record (`{"predictions": [{"contributions": [...]}]}`).
"""

from __future__ import annotations

import functools
import re

from boostbox.errors import BadRequest
from boostbox.serving.predictor import OutputKind

HEADER = "X-Amzn-SageMaker-Custom-Attributes"
_SEPARATORS = re.compile(r"[,;]")


@functools.lru_cache(maxsize=128)
def parse(header: str | None) -> OutputKind:
    """The requested output kind; 400 on anything not understood."""
    if header is None or not header.strip():
        return OutputKind.PREDICTION
    seen: dict[str, str] = {}
    for part in _SEPARATORS.split(header):
        if not part.strip():
            continue
        key, equals, value = part.partition("=")
        key, value = key.strip().lower(), value.strip().lower()
        if not equals or not key:
            raise BadRequest(f"{HEADER}: '{part.strip()}' is not a key=value pair.")
        if key != "output":
            raise BadRequest(f"{HEADER}: unknown key '{key}'; supported: output.")
        if key in seen:
            raise BadRequest(f"{HEADER}: '{key}' is given twice.")
        seen[key] = value
    if "output" not in seen:
        return OutputKind.PREDICTION
    try:
        return OutputKind(seen["output"])
    except ValueError:
        choices = ", ".join(kind.value for kind in OutputKind)
        raise BadRequest(
            f"{HEADER}: unknown output '{seen['output']}'; one of: {choices}."
        ) from None
