"""Recorder: bin counts of served rows and predictions, request counts and latency.

Memory is bounded by the baseline, not by traffic: per monitored column one counter per bin
plus one for missing values, and a buffer of BUFFER_ROWS rows; no request body is kept.
Recording is vectorised: rows are binned in batches, one np.searchsorted per column and one
np.bincount per batch (see Recorder).

Row layout (`Layout`): [per column, features then predictions, `width` counters: missing,
then bins] [rows, requests, errors, latency sum in microseconds] [latency histogram].
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from boostbox.monitoring.baseline import ColumnReference, Reference
from boostbox.monitoring.store import Store

BUFFER_ROWS = 256
"""Rows of small requests collected before they are binned together."""
LATENCY_EDGES = np.geomspace(1e-4, 100.0, 61)
"""Request latency histogram edges in seconds: 0.1 ms to 100 s, 60 log-spaced bins."""
ROWS, REQUESTS, ERRORS, LATENCY_MICROSECONDS = 0, 1, 2, 3


@dataclass(frozen=True)
class Layout:
    """Where each counter lives in a store row; derived from the reference alone."""

    features: int
    predictions: int
    width: int
    """Counters per column: one for missing values, then the most bins any column has."""

    @classmethod
    def of(cls, reference: Reference) -> Layout:
        widest = max((c.bins for c in reference.columns), default=1)
        return cls(len(reference.features), len(reference.predictions), widest + 1)

    @property
    def columns(self) -> int:
        return self.features + self.predictions

    @property
    def counters(self) -> int:
        """Offset of the rows/requests/errors/latency-sum counters."""
        return self.columns * self.width

    @property
    def latency(self) -> int:
        """Offset of the latency histogram."""
        return self.counters + 4

    @property
    def size(self) -> int:
        return self.latency + len(LATENCY_EDGES) + 1

    def column_counts(self, total: np.ndarray, index: int, column: ColumnReference) -> np.ndarray:
        """One column's live bin counts (values past its last real bin folded into it)."""
        block = total[index * self.width + 1 : (index + 1) * self.width]
        counts = block[: column.bins].copy()
        counts[-1] += block[column.bins :].sum()
        return counts

    def column_missing(self, total: np.ndarray, index: int) -> int:
        return int(total[index * self.width])


class Recorder:
    """One worker's (or the offline report's) recording into a store.

    Small requests are not binned one by one: their rows (and plain predictions) are copied
    into a BUFFER_ROWS buffer, one NumPy assignment each, and the buffer is binned in one go
    when it fills, when this process reports, or when `flush` is called (a serving worker's
    Monitor does so every FLUSH_SECONDS from a background thread), so the counts of another
    worker can lag by that much. Larger requests are binned at once. Binning is one
    np.searchsorted per column over the column's edges with -inf prepended, so a missing
    value (NaN, set to 0 afterwards) lands on counter 0 of the column's block and a value
    in bin j on counter 1 + j; then one np.bincount adds the block into this worker's row.
    """

    def __init__(self, reference: Reference, store: Store):
        self.reference = reference
        self.layout = layout = Layout.of(reference)
        self.store = store
        self.ragged = [np.concatenate(([-np.inf], c.edges)) for c in reference.columns]
        self._base = np.arange(layout.columns, dtype=np.intp) * layout.width
        self._features = layout.features
        self._predictions = layout.predictions
        self._counters = layout.counters
        self._rows = layout.counters + ROWS
        self._requests = layout.counters + REQUESTS
        self._errors = layout.counters + ERRORS
        self._micros = layout.counters + LATENCY_MICROSECONDS
        self._latency = layout.latency
        self._latency_edges = LATENCY_EDGES.tolist()
        self._cells = memoryview(store.row).cast("B").cast("q")
        """The same row as Python-indexable int64s: one scalar add costs a third of NumPy's."""
        self._feature_rows = np.empty((BUFFER_ROWS, layout.features), dtype=np.float64)
        self._prediction_rows = np.empty((BUFFER_ROWS, layout.predictions), dtype=np.float64)
        self._buffered = [0, 0]
        """Rows waiting in the feature and the prediction buffer."""

    def _add(self, block: np.ndarray, first_column: int) -> None:
        """Bin `block` (rows x its columns, starting at `first_column`) into the row."""
        bins = np.empty(block.shape, dtype=np.intp)
        for j in range(block.shape[1]):
            bins[:, j] = np.searchsorted(self.ragged[first_column + j], block[:, j], side="right")
        bins[np.isnan(block)] = 0  # searchsorted puts NaN last; 0 is the missing counter
        bins += self._base[first_column : first_column + block.shape[1]]
        counts = np.bincount(bins.ravel(), minlength=self._counters)
        self.store.row[: self._counters] += counts[: self._counters]

    def _flush(self) -> None:
        """Bin what the buffers hold (the caller holds the store's lock)."""
        features, predictions = self._buffered
        if features:
            self._add(self._feature_rows[:features], 0)
            self._cells[self._rows] += features
        if predictions:
            self._add(self._prediction_rows[:predictions], self._features)
        self._buffered = [0, 0]

    def flush(self) -> None:
        with self.store.lock:
            self._flush()

    def observe(self, matrix: np.ndarray | sp.spmatrix, predictions: np.ndarray | None) -> bool:
        """Count the rows of a decoded request and, for plain predictions, its outputs.

        False (nothing counted) when the rows are not as wide as the baseline's features.
        """
        block = _dense(matrix, self._features)
        rows = block.shape[0]
        if block.shape[1] != self._features:
            return False
        outputs = None
        if predictions is not None and self._predictions and predictions.size:
            outputs = predictions.reshape(rows, -1)
            if outputs.shape[1] != self._predictions:
                outputs = None
        with self.store.lock:
            if rows > BUFFER_ROWS // 4:
                self._add(block, 0)
                self._cells[self._rows] += rows
                if outputs is not None:
                    self._add(outputs.astype(np.float32, copy=False), self._features)
                return True
            features, predicted = self._buffered
            if features + rows > BUFFER_ROWS:
                self._flush()
                features = predicted = 0
            self._feature_rows[features : features + rows] = block
            self._buffered[0] = features + rows
            if outputs is not None:
                self._prediction_rows[predicted : predicted + rows] = outputs.astype(np.float32)
                self._buffered[1] = predicted + rows
        return True

    def request(self, seconds: float | None, *, error: bool) -> None:
        """Count one request (an error if answered 4xx/5xx) and its latency (None: unknown)."""
        cells = self._cells
        with self.store.lock:
            cells[self._requests] += 1
            if error:
                cells[self._errors] += 1
            if seconds is not None:
                cells[self._latency + bisect.bisect_right(self._latency_edges, seconds)] += 1
                cells[self._micros] += int(seconds * 1e6)


def latency_percentiles(histogram: np.ndarray, quantiles: tuple[float, ...]) -> dict[str, float]:
    """Upper bucket edge (ms) below which each quantile of requests finished; {} if none."""
    total = int(histogram.sum())
    if total == 0:
        return {}
    cumulative = np.cumsum(histogram)
    upper = np.append(LATENCY_EDGES, math.inf)
    out = {}
    for q in quantiles:
        bucket = int(np.searchsorted(cumulative, q * total, side="left"))
        out[f"p{q * 100:g}"] = round(float(upper[bucket]) * 1000, 3)
    return out


def _dense(matrix: np.ndarray | sp.spmatrix, width: int) -> np.ndarray:
    """Rows as floats; absent sparse entries are missing (NaN), as XGBoost reads them."""
    if isinstance(matrix, np.ndarray):
        return matrix if matrix.ndim == 2 else matrix.reshape(1, -1)
    out = np.full((matrix.shape[0], max(width, matrix.shape[1])), np.nan, dtype=np.float32)
    coo = sp.coo_matrix(matrix)
    out[coo.row, coo.col] = coo.data
    return out
