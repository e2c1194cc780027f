"""The training-time baseline: Model Monitor's files and the reference serving loads.

`write_baseline` is the one training entry point. It takes the feature matrix training
already holds and the model's predictions on validation (or train), and writes

    <output_data_dir>/baseline/statistics.json, constraints.json   (Model Monitor's formats)
    <model_dir>/boostbox-baseline.json                              (`Reference`, below)

The reference is small (bin edges and counts per column, no data) so it travels inside
model.tar.gz and serving compares live traffic against it without S3.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from boostbox.errors import ModelLoadError
from boostbox.monitoring import modelmonitor
from boostbox.monitoring.sketch import (
    ColumnSummary,
    Matrix,
    prediction_columns,
    present_values,
    summarize,
    summarize_matrix,
)

logger = logging.getLogger(__name__)

BASELINE_FILE = "boostbox-baseline.json"
"""The reference inside the model folder."""
BASELINE_DIR = "baseline"
"""Folder under output/data for statistics.json and constraints.json."""
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ColumnReference:
    """One column's baseline distribution over fixed bins (bin j: [edges[j-1], edges[j]))."""

    name: str
    edges: np.ndarray
    counts: np.ndarray
    missing: int

    @property
    def present(self) -> int:
        return int(self.counts.sum())

    @property
    def bins(self) -> int:
        return len(self.edges) + 1

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "edges": [float(e) for e in self.edges],
            "counts": [int(c) for c in self.counts],
            "missing": self.missing,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColumnReference:
        edges = np.asarray(data["edges"], dtype=np.float64)
        counts = np.asarray(data["counts"], dtype=np.int64)
        if counts.shape != (len(edges) + 1,) or np.any(np.diff(edges) <= 0):
            raise ValueError(f"column {data.get('name')!r}: edges must ascend, counts = edges + 1")
        return cls(str(data["name"]), edges, counts, int(data.get("missing", 0)))

    @classmethod
    def from_summary(cls, summary: ColumnSummary) -> ColumnReference:
        return cls(summary.name, summary.edges, summary.counts, summary.missing)


@dataclass(frozen=True)
class Reference:
    """What serving compares traffic against: features and prediction columns, and the rule."""

    features: tuple[ColumnReference, ...]
    predictions: tuple[ColumnReference, ...]
    threshold: float = modelmonitor.DEFAULT_THRESHOLD
    method: str = modelmonitor.DEFAULT_METHOD
    rows: int = 0

    @property
    def columns(self) -> tuple[ColumnReference, ...]:
        """Features, then prediction columns: the order of every count array."""
        return self.features + self.predictions

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": FORMAT_VERSION,
                "rows": self.rows,
                "threshold": self.threshold,
                "method": self.method,
                "features": [c.to_json() for c in self.features],
                "predictions": [c.to_json() for c in self.predictions],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Reference:
        data = json.loads(text)
        return cls(
            features=tuple(ColumnReference.from_json(c) for c in data["features"]),
            predictions=tuple(ColumnReference.from_json(c) for c in data["predictions"]),
            threshold=float(data.get("threshold", modelmonitor.DEFAULT_THRESHOLD)),
            method=str(data.get("method", modelmonitor.DEFAULT_METHOD)),
            rows=int(data.get("rows", 0)),
        )


def load_reference(model_dir: Path) -> Reference | None:
    """The model's baseline reference, None when it was trained without one."""
    path = model_dir / BASELINE_FILE
    if not path.is_file():
        return None
    try:
        return Reference.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelLoadError(f"{path} is not a valid boostbox baseline: {e}") from e


PREDICTION_ROWS = 1 << 17
"""Rows the baseline's prediction distribution is taken from (evenly spaced when more)."""


def rows_to_score(features: Matrix) -> Matrix:
    """At most PREDICTION_ROWS rows, evenly spaced, for the baseline's predictions."""
    step = -(-int(features.shape[0]) // PREDICTION_ROWS)
    return features[::step] if step > 1 else features


def feature_names(names: list[str] | tuple[str, ...] | None, count: int) -> list[str]:
    """The data's own names where it has them, else XGBoost's f0..fN."""
    if names is not None and len(names) == count:
        return [str(n) for n in names]
    return [f"f{j}" for j in range(count)]


def write_baseline(
    features: Matrix | list[Matrix],
    predictions: np.ndarray,
    names: list[str] | tuple[str, ...] | None,
    model_dir: Path,
    output_data_dir: Path,
    *,
    threshold: float = modelmonitor.DEFAULT_THRESHOLD,
) -> Reference:
    """Summarise `features` (rows x features, or its row blocks) and `predictions`; write
    the three files."""
    started = time.perf_counter()
    blocks = features if isinstance(features, list) else [features]
    columns = feature_names(names, int(blocks[0].shape[1]))
    summaries = summarize_matrix(features, columns)
    values, prediction_names = prediction_columns(predictions)
    outputs = [
        summarize(name, present_values(values[:, j]), values.shape[0])
        for j, name in enumerate(prediction_names)
    ]
    rows = sum(int(b.shape[0]) for b in blocks)
    folder = output_data_dir / BASELINE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    _dump(folder / modelmonitor.STATISTICS_FILE, modelmonitor.statistics(summaries, rows))
    _dump(folder / modelmonitor.CONSTRAINTS_FILE, modelmonitor.constraints(summaries, threshold))
    reference = Reference(
        features=tuple(ColumnReference.from_summary(s) for s in summaries),
        predictions=tuple(ColumnReference.from_summary(s) for s in outputs),
        threshold=threshold,
        rows=rows,
    )
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / BASELINE_FILE).write_text(reference.to_json(), encoding="utf-8")
    logger.info(
        "Baseline of %d rows x %d features (+ %d prediction column(s)) in %.2f s: %s, %s.",
        rows,
        len(columns),
        len(outputs),
        time.perf_counter() - started,
        folder,
        model_dir / BASELINE_FILE,
    )
    return reference


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=1, allow_nan=False) + "\n", encoding="utf-8")
