"""Recorder: bin counts of served rows and predictions, request counts and latency.

Memory is bounded by the baseline, not by traffic: per monitored column one counter per bin
plus one for missing values, and at most PENDING_VALUES values of small requests waiting to
be binned; no request body is kept. Recording is vectorised: rows are binned in batches, one
np.searchsorted per column and one np.bincount per batch (see Recorder).

Row layout (`Layout`): [per column, features then predictions, `width` counters: missing,
then bins] [rows, requests, errors, latency sum in microseconds] [latency histogram].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from boostbox.monitoring.baseline import ColumnReference, Reference
from boostbox.monitoring.store import Store

SMALL_ROWS = 16
"""Requests of at most this many rows are held and binned together with others."""
PENDING_REQUESTS = 1024
"""Small requests held before the request path bins them (fewer for wide rows: see
PENDING_VALUES); the flush thread bins them every second, so under 1,024 requests per second
per worker no request pays for it."""
PENDING_VALUES = 1 << 18
"""Bound on the values (SMALL_ROWS rows of every column per request) small requests may hold."""
PENDING_LATENCIES = 4096
"""Request latencies held before they are counted (the flush thread counts them sooner)."""
FLOAT32 = np.dtype(np.float32)
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

    The request path takes no lock and bins nothing for small requests: `observe` appends a
    copy of a request of at most SMALL_ROWS rows (and of its plain predictions) to a list,
    `request` appends its latency to another (list.append is atomic), and the lists are
    binned in one go, under the store's lock, when PENDING_REQUESTS requests are waiting
    (fewer for wide rows), when this process reports, or when `flush` is called (a serving
    worker's Monitor does so every FLUSH_SECONDS from a background thread), so the counts
    of another worker can lag by that much. A flush takes the first n entries of a list and
    deletes exactly those, so entries appended meanwhile wait for the next one.

    Binning a block: its columns are sorted (one contiguous copy, NaN sorts last), then one
    np.searchsorted per column finds how many values lie under each of the column's
    thresholds (-inf, its edges, NaN); the differences are the counts of its block of
    counters: missing values on counter 0, values in bin j (edges[j-1] <= v < edges[j]) on
    counter 1 + j. float32 blocks (what the codecs decode) are compared with float32
    thresholds rounded up, which for float32 values decides exactly as the float64 edges.
    """

    def __init__(self, reference: Reference, store: Store):
        self.reference = reference
        self.layout = layout = Layout.of(reference)
        self.store = store
        self._thresholds = _thresholds(reference, layout.width)
        self._thresholds32 = _float32_at_least(self._thresholds)
        self._features = layout.features
        self._predictions = layout.predictions
        self._rows = layout.counters + ROWS
        self._requests = layout.counters + REQUESTS
        self._errors = layout.counters + ERRORS
        self._micros = layout.counters + LATENCY_MICROSECONDS
        self._latency = layout.latency
        self._cells = memoryview(store.row).cast("B").cast("q")
        """The same row as Python-indexable int64s: one scalar add costs a third of NumPy's."""
        self._rows32: list[bytes] = []
        """Small requests' float32 rows (the codecs' dtype), as bytes, not binned yet."""
        self._rows64: list[bytes] = []
        """Small requests' rows of any other dtype, as float64 bytes."""
        self._outputs: list[bytes] = []
        """Small requests' plain predictions, as float32 bytes."""
        self._pending_limit = max(
            1, min(PENDING_REQUESTS, PENDING_VALUES // (SMALL_ROWS * max(1, layout.columns)))
        )
        self._answered: list[float | None] = []
        self._failed: list[float | None] = []
        """Latencies (None: unknown) of requests not counted yet, answered < 400 and not."""

    def _add(self, block: np.ndarray, first_column: int) -> None:
        """Bin `block` (rows x its columns, starting at `first_column`) into the row."""
        # a sorted copy of each column (C order: a row per column), in the block's float type
        if block.dtype == np.float32:
            columns, thresholds = np.array(block.T, order="C"), self._thresholds32
        else:
            columns = np.array(block.T, dtype=np.float64, order="C")
            thresholds = self._thresholds
        columns.sort(axis=1)  # NaN last
        thresholds = thresholds[first_column : first_column + len(columns)]
        below = np.empty(thresholds.shape, dtype=np.int64)
        for j, values in enumerate(columns):
            below[j] = np.searchsorted(values, thresholds[j], side="left")
        # the last threshold is NaN: below[:, -1] counts the present values
        at_least = below[:, -1:] - below
        counts = np.empty_like(below)
        counts[:, 0] = columns.shape[1] - below[:, -1]
        counts[:, 1:] = at_least[:, :-1] - at_least[:, 1:]
        start = first_column * self.layout.width
        self.store.row[start : start + counts.size] += counts.ravel()

    def _add_latencies(self, times: list[float | None], errors: bool) -> None:
        """Count the requests whose latencies `times` holds, and take them out of it."""
        taken = len(times)
        if not taken:
            return
        seconds = np.array(times[:taken], dtype=np.float64)  # None -> NaN: not timed
        del times[:taken]  # requests appended meanwhile stay for the next flush
        cells = self._cells
        cells[self._requests] += taken
        if errors:
            cells[self._errors] += taken
        seconds = seconds[~np.isnan(seconds)]
        if seconds.size:
            buckets = np.searchsorted(LATENCY_EDGES, seconds, side="right")
            histogram = np.bincount(buckets, minlength=len(LATENCY_EDGES) + 1)
            self.store.row[self._latency : self._latency + len(histogram)] += histogram
            cells[self._micros] += int((seconds * 1e6).astype(np.int64).sum())

    def _flush(self) -> None:
        """Bin and count what the lists hold (the caller holds the store's lock)."""
        for held, dtype in ((self._rows32, np.float32), (self._rows64, np.float64)):
            if held:
                rows = _taken(held, dtype).reshape(-1, self._features)
                self._add(rows, 0)
                self._cells[self._rows] += len(rows)
        if self._outputs:
            outputs = _taken(self._outputs, np.float32).reshape(-1, self._predictions)
            self._add(outputs, self._features)
        self._add_latencies(self._answered, False)
        self._add_latencies(self._failed, True)

    def flush(self) -> None:
        with self.store.lock:
            self._flush()

    def observe(self, matrix: np.ndarray | sp.spmatrix, predictions: np.ndarray | None) -> bool:
        """Count the rows of a decoded request and, for plain predictions, its outputs.

        False (nothing counted) when the rows are not as wide as the baseline's features.
        """
        block = matrix if matrix.__class__ is np.ndarray else _dense(matrix, self._features)
        if block.ndim != 2:
            block = block.reshape(1, -1)
        rows, width = block.shape
        if width != self._features:
            return False
        wide = self._predictions
        if predictions is None or not wide or predictions.size != rows * wide:
            predictions = None  # not plain predictions, one per column, for every row
        if rows > SMALL_ROWS:
            with self.store.lock:
                self._add(block, 0)
                self._cells[self._rows] += rows
                if predictions is not None:
                    outputs = predictions.reshape(rows, wide).astype(np.float32, copy=False)
                    self._add(outputs, self._features)
            return True
        # bytes: the cheapest copy (the request's arrays are not ours to keep)
        if block.dtype is FLOAT32:
            self._rows32.append(block.tobytes())
        else:
            self._rows64.append(block.astype(np.float64).tobytes())
        if predictions is not None:
            if predictions.dtype is not FLOAT32:
                predictions = predictions.astype(np.float32)
            self._outputs.append(predictions.tobytes())
        if len(self._rows32) + len(self._rows64) >= self._pending_limit:
            self.flush()
        return True

    def request(self, seconds: float | None, *, error: bool) -> None:
        """Count one request (an error if answered 4xx/5xx) and its latency (None: unknown)."""
        times = self._failed if error else self._answered
        times.append(seconds)
        if len(times) >= PENDING_LATENCIES:
            self.flush()


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


def _taken(held: list[bytes], dtype: type[np.floating[Any]]) -> np.ndarray:
    """The values of the first entries of `held` (taken out of it: appends meanwhile stay)."""
    count = len(held)
    values = np.frombuffer(b"".join(held[:count]), dtype=dtype)
    del held[:count]
    return values


def _thresholds(reference: Reference, width: int) -> np.ndarray:
    """Per column: -inf, its edges, then NaN up to `width` (at least one NaN)."""
    out = np.full((len(reference.columns), width), np.nan)
    for j, column in enumerate(reference.columns):
        out[j, 0] = -np.inf
        out[j, 1 : len(column.edges) + 1] = column.edges
    return out


def _float32_at_least(thresholds: np.ndarray) -> np.ndarray:
    """Each threshold as the smallest float32 >= it: for a float32 v, v >= t iff v >= this."""
    out = thresholds.astype(np.float32)
    low = out.astype(np.float64) < thresholds
    out[low] = np.nextafter(out[low], np.float32(np.inf))
    return out


def _dense(matrix: np.ndarray | sp.spmatrix, width: int) -> np.ndarray:
    """Rows as floats; absent sparse entries are missing (NaN), as XGBoost reads them."""
    if isinstance(matrix, np.ndarray):
        return matrix if matrix.ndim == 2 else matrix.reshape(1, -1)
    out = np.full((matrix.shape[0], max(width, matrix.shape[1])), np.nan, dtype=np.float32)
    coo = sp.coo_matrix(matrix)
    out[coo.row, coo.col] = coo.data
    return out
