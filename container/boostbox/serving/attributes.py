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

Examples: `output=contributions`, `output = margin;`. Everything else in the header belongs
to the caller (trace ids, A/B tags, opaque UUIDs: SageMaker passes it through unchanged) and
is ignored; only a malformed `output` (an unknown value, or `output` given twice with
different values) is a 400 naming it. An empty header means the default.
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
    requested: str | None = None
    for part in _SEPARATORS.split(header):
        key, equals, value = part.partition("=")
        if not equals or key.strip().lower() != "output":
            continue  # not ours: trace ids, tags, UUIDs
        value = value.strip().lower()
        if requested is not None and value != requested:
            raise BadRequest(f"{HEADER}: 'output' is given twice ('{requested}', '{value}').")
        requested = value
    if requested is None:
        return OutputKind.PREDICTION
    try:
        return OutputKind(requested)
    except ValueError:
        choices = ", ".join(kind.value for kind in OutputKind)
        raise BadRequest(f"{HEADER}: unknown output '{requested}'; one of: {choices}.") from None
