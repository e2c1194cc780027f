"""Inference hooks for the boostbox image (serving script mode, SAGEMAKER_PROGRAM=inference.py).

Only output_fn is defined: boostbox decodes the request (csv, json, parquet, ...) and predicts
with its own fast predictor; this module only shapes the answer.
"""

import json
from typing import Any


def output_fn(prediction: Any, accept: str) -> tuple[str, str]:
    body = {"predictions": [round(float(p), 4) for p in prediction], "hooks": "inference.py"}
    return json.dumps(body), "application/json"
