"""Recorder: bin counts of served rows and predictions, request counts and latency.

Memory is bounded by the baseline, not by traffic: per monitored column one counter per bin
plus one for missing values; no request body is kept. Recording is vectorised: a batch of
up to BROADCAST_ROWS rows (features and predictions side by side) is binned for every
column at once by one broadcast comparison against a padded (columns x edges) array, larger
batches with one np.searchsorted per column, and the counts land in this worker's row with
one np.add.at (small batches) or one np.bincount.

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

BROADCAST_ROWS = 64
"""Up to this many rows, one broadcast comparison bins every column at once."""
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

    Binning: `edges` is (columns x (1 + most edges)): -inf first, then the column's edges,
    padded with +inf. `(x >= edges).sum()` is then 0 for a missing value (NaN compares
    false) and 1 + the bin otherwise, which is the counter's offset inside the column's
    block: one comparison, one sum, one add of the block offsets, one np.add.at.
    """

    def __init__(self, reference: Reference, store: Store):
        self.reference = reference
        self.layout = layout = Layout.of(reference)
        self.store = store
        columns = reference.columns
        self.edges = np.full((len(columns), layout.width - 1), np.inf)
        self.edges[:, 0] = -np.inf
        for j, column in enumerate(columns):
            self.edges[j, 1 : len(column.edges) + 1] = column.edges
        self.ragged = [np.concatenate(([-np.inf], c.edges)) for c in columns]
        self.base = np.arange(len(columns), dtype=np.intp) * layout.width
        self._latency_edges = LATENCY_EDGES.tolist()

    def _indices(self, block: np.ndarray) -> np.ndarray:
        columns = block.shape[1]
        if block.shape[0] <= BROADCAST_ROWS:
            bins = (block[:, :, None] >= self.edges[None, :columns, :]).sum(axis=2)
        else:
            bins = np.empty(block.shape, dtype=np.intp)
            for j in range(columns):
                bins[:, j] = np.searchsorted(self.ragged[j], block[:, j], side="right")
            bins[np.isnan(block)] = 0  # searchsorted puts NaN last; 0 is the missing counter
        bins += self.base[:columns]
        return bins.ravel()

    def observe(self, matrix: np.ndarray | sp.spmatrix, predictions: np.ndarray | None) -> bool:
        """Count the rows of a decoded request and, for plain predictions, its outputs.

        False (nothing counted) when the rows are not as wide as the baseline's features.
        """
        layout = self.layout
        block = _dense(matrix, layout.features)
        rows = block.shape[0]
        if block.shape[1] != layout.features:
            return False
        if predictions is not None and layout.predictions and predictions.size:
            outputs = predictions.reshape(rows, -1).astype(np.float32, copy=False)
            if outputs.shape[1] == layout.predictions:
                block = np.concatenate((block, outputs), axis=1, dtype=np.float64)
        indices = self._indices(block)
        row = self.store.row
        with self.store.lock:
            if rows <= BROADCAST_ROWS:
                np.add.at(row, indices, 1)
            else:
                row[: layout.counters] += np.bincount(indices, minlength=layout.counters)
            row[layout.counters + ROWS] += rows
        return True

    def request(self, seconds: float | None, *, error: bool) -> None:
        """Count one request (an error if answered 4xx/5xx) and its latency (None: unknown)."""
        layout = self.layout
        indices = [layout.counters + REQUESTS]
        if seconds is not None:
            indices.append(layout.latency + bisect.bisect_right(self._latency_edges, seconds))
        if error:
            indices.append(layout.counters + ERRORS)
        row = self.store.row
        with self.store.lock:
            np.add.at(row, indices, 1)
            if seconds is not None:
                row[layout.counters + LATENCY_MICROSECONDS] += int(seconds * 1e6)


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
