"""What a response carries: the plain prediction, a custom output, or the output selection.

SAGEMAKER_INFERENCE_OUTPUT (official container, `algorithm_mode/serve_utils.py`), keys
answered per objective:

- reg:* (and count:*, survival:*, rank:*: a boostbox extension): predicted_score
- binary:logistic, multi:softprob: predicted_label, labels, probability, probabilities,
  raw_score, raw_scores
- binary:logitraw, binary:hinge, multi:softmax: predicted_label, labels, raw_score, raw_scores

A key not valid for the objective is answered with NaN for every record (one warning at
startup, not per request). binary:logistic: label = p > 0.5, probabilities = [1-p, p];
binary:logitraw: label = margin > 0; softprob: label = argmax; labels = [0, 1] or
range(num_class); raw_scores of binary:logitraw/hinge and multi:softmax is [1-x, x] exactly
as the official container computes it. Labels are integers. Numbers are float32 values in
their shortest round-tripping decimal form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from boostbox.casts import INFERENCE_OUTPUT_KEYS

logger = logging.getLogger(__name__)

CLASSIFICATION_KEYS = tuple(k for k in INFERENCE_OUTPUT_KEYS if k != "predicted_score")
VALID_KEYS: dict[str, tuple[str, ...]] = {
    "binary:logistic": CLASSIFICATION_KEYS,
    "multi:softprob": CLASSIFICATION_KEYS,
    "binary:logitraw": ("predicted_label", "labels", "raw_score", "raw_scores"),
    "binary:hinge": ("predicted_label", "labels", "raw_score", "raw_scores"),
    "multi:softmax": ("predicted_label", "labels", "raw_score", "raw_scores"),
}
REGRESSION_KEYS = ("predicted_score",)


FAST_TEXT_MIN = 256
"""Outputs with at least this many values are formatted by pyarrow (see float32_text)."""
PLAIN_RANGE = (1e-3, 1e5)
"""Magnitudes NumPy always writes positionally ('0.43', '123.5'): pyarrow's text is used there."""


def float32_text(values: np.ndarray) -> list[str]:
    """Each value as float32 in NumPy's text (`str(np.float32(v))`): shortest round-trip digits.

    NumPy's formatter (Dragon4) costs ~1.4 us a value (33 ms for a 23k-row batch); pyarrow's
    cast to string (shortest digits too) ~0.1 us. Their digits agree; their layouts differ only
    outside PLAIN_RANGE (NumPy switches to '1e-05' / '1.5e+07') and for whole numbers ('3' vs
    '3.0'), so pyarrow's text is kept for zero and magnitudes in the range (with '.0' added to
    whole numbers) and NumPy writes the rest (tiny, huge, inf, nan).
    """
    flat = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    if flat.size < FAST_TEXT_MIN:
        return list(flat.astype(str).tolist())
    import pyarrow as pa  # lazily: only large outputs need it
    import pyarrow.compute as pc

    text = pc.cast(pa.array(flat), pa.string())
    whole = pc.invert(pc.match_substring(text, "."))
    strings: list[str] = pc.if_else(
        whole, pc.binary_join_element_wise(text, ".0", ""), text
    ).to_pylist()
    magnitude = np.abs(flat)
    with np.errstate(invalid="ignore"):
        plain = ((magnitude >= PLAIN_RANGE[0]) & (magnitude < PLAIN_RANGE[1])) | (flat == 0)
    plain &= ~np.asarray(pc.match_substring(text, "e"), dtype=bool)
    odd = np.flatnonzero(~plain)
    if odd.size > flat.size // 2:  # mostly tiny/huge values: NumPy alone is faster
        return list(flat.astype(str).tolist())
    for i, value in zip(odd.tolist(), flat[odd].astype(str).tolist(), strict=True):
        strings[i] = value
    return strings


def short_floats(values: np.ndarray) -> list[Any]:
    """Float32 values as Python floats in shortest decimal form (0.43, not 0.4300000071525879)."""
    if values.dtype.kind in "iub":
        return list(values.tolist())
    return list(values.astype(np.float32).astype(str).astype(np.float64).tolist())


@dataclass(frozen=True)
class Output:
    """One response's content; encoders write exactly `len(self)` records."""

    key: str
    """JSON/recordio key of a plain output: score, margin, contributions, interactions, leaf."""
    values: np.ndarray
    """Plain output, rows first: (n,), (n, k) or (n, k, m)."""
    records: list[dict[str, Any]] | None = None
    """SAGEMAKER_INFERENCE_OUTPUT selection: one dict per row, keys in `columns` order."""
    columns: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.records) if self.records is not None else int(self.values.shape[0])


def _binary_pair(x: np.ndarray) -> list[list[float]]:
    return [list(pair) for pair in zip(short_floats(1.0 - x), short_floats(x), strict=True)]


class Selection:
    """SAGEMAKER_INFERENCE_OUTPUT keys bound to one model's objective and class count."""

    def __init__(self, keys: tuple[str, ...], objective: str, num_class: int):
        self.keys = keys
        self.objective = objective
        self.num_class = num_class
        valid = VALID_KEYS.get(objective)
        if valid is None:
            valid = () if objective.startswith(("binary:", "multi:")) else REGRESSION_KEYS
        self.invalid = tuple(k for k in keys if k not in valid)
        if self.invalid:
            logger.warning(
                "SAGEMAKER_INFERENCE_OUTPUT key(s) %s do not apply to objective '%s' and will "
                "be answered with NaN; keys for this objective: %s.",
                ", ".join(self.invalid),
                objective,
                ", ".join(valid) or "none",
            )

    def _columns(self, predictions: np.ndarray) -> dict[str, list[Any]]:
        """Each valid key's values for all rows, computed on whole arrays."""
        n = predictions.shape[0]
        objective = self.objective
        cols: dict[str, Callable[[], list[Any]]] = {}
        if objective in ("binary:logistic", "binary:logitraw", "binary:hinge", "multi:softmax"):
            x = predictions.astype(np.float32)
            cut = {"binary:logistic": 0.5, "binary:logitraw": 0.0}.get(objective)
            labels = (x > cut) if cut is not None else x
            cols["predicted_label"] = lambda: labels.astype(np.int64).tolist()
            cols["probability"] = cols["raw_score"] = lambda: short_floats(x)
            cols["probabilities"] = cols["raw_scores"] = lambda: _binary_pair(x)
        elif objective == "multi:softprob":
            p = predictions.reshape(n, -1).astype(np.float32)
            cols["predicted_label"] = lambda: p.argmax(axis=1).tolist()
            cols["probability"] = cols["raw_score"] = lambda: short_floats(p.max(axis=1))
            cols["probabilities"] = cols["raw_scores"] = lambda: [short_floats(row) for row in p]
        else:
            cols["predicted_score"] = lambda: short_floats(predictions.reshape(n))
        classes = self.num_class if objective.startswith("multi:") else 2
        cols["labels"] = lambda: [list(range(classes))] * n
        return {key: cols[key]() for key in self.keys if key not in self.invalid}

    def select(self, predictions: np.ndarray) -> Output:
        """Dicts of the selected keys per row, in the configured key order."""
        columns = self._columns(predictions)
        n = predictions.shape[0]
        nan = float("nan")
        records = [
            {key: columns[key][i] if key in columns else nan for key in self.keys} for i in range(n)
        ]
        return Output(key="score", values=predictions, records=records, columns=self.keys)
