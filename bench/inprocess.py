"""Compute limits measured in this process: 1-row inplace_predict, and decode + predict of CSV."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow.csv as pacsv
import xgboost as xgb

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Timing:
    """Per-call latencies of a loop of identical calls."""

    calls: int
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @property
    def per_second(self) -> float:
        return 1e3 / self.mean_ms if self.mean_ms > 0 else 0.0


@contextlib.contextmanager
def pinned(cpus: str) -> Iterator[None]:
    """Run the block on the server's CPUs, so in-process and server share a core budget."""
    if not cpus or not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def time_calls(fn: Callable[[], object], seconds: float, max_calls: int = 200_000) -> Timing:
    """Call `fn` repeatedly for `seconds` (bounded by `max_calls`) after a short warm-up."""
    for _ in range(5):
        fn()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and len(samples) < max_calls:
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    arr = np.sort(np.asarray(samples)) * 1e3
    return Timing(
        calls=len(arr),
        p50_ms=float(arr[len(arr) // 2]),
        p99_ms=float(arr[min(len(arr) - 1, int(len(arr) * 0.99))]),
        mean_ms=float(arr.mean()),
    )


def one_row_predict(booster: xgb.Booster, row: FloatArray, seconds: float) -> Timing:
    """`inplace_predict` of one row with one thread: the per-request compute limit."""
    booster.set_param({"nthread": 1})
    return time_calls(lambda: booster.inplace_predict(row), seconds)


def _decode_pandas(body: bytes) -> FloatArray:
    frame = pd.read_csv(io.BytesIO(body), header=None, dtype=np.float32)
    return frame.to_numpy(dtype=np.float32)


def _decode_pyarrow(body: bytes) -> FloatArray:
    options = pacsv.ReadOptions(autogenerate_column_names=True, use_threads=False)
    table = pacsv.read_csv(io.BytesIO(body), read_options=options)
    return np.column_stack([c.to_numpy() for c in table.columns]).astype(np.float32)


def _decode_numpy(body: bytes) -> FloatArray:
    return np.loadtxt(io.BytesIO(body), delimiter=",", dtype=np.float32, ndmin=2)


DECODERS: dict[str, Callable[[bytes], FloatArray]] = {
    "pandas.read_csv": _decode_pandas,
    "pyarrow.csv": _decode_pyarrow,
    "numpy.loadtxt": _decode_numpy,
}


@dataclass(frozen=True)
class DecodePredict:
    """Best single-threaded decode of a CSV body plus inplace_predict of the rows."""

    decoder: str
    bytes: int
    decode_ms: float
    predict_ms: float
    rows: int

    @property
    def total_ms(self) -> float:
        return self.decode_ms + self.predict_ms


def decode_predict(booster: xgb.Booster, body: bytes, repeats: int) -> DecodePredict:
    """Median times over `repeats`; the fastest decoder is the in-process reference."""
    booster.set_param({"nthread": 1})
    decode_times: dict[str, float] = {}
    matrix: FloatArray | None = None
    for name, decode in DECODERS.items():
        if name == "numpy.loadtxt" and len(body) > 1_000_000:
            continue  # several seconds per call at 6 MB: never the best, skip the wait
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            matrix = decode(body)
            samples.append(time.perf_counter() - start)
        decode_times[name] = float(np.median(samples)) * 1e3
    if matrix is None:
        raise ValueError("no decoder ran")
    best = min(decode_times, key=lambda k: decode_times[k])
    predict = [0.0] * repeats
    for i in range(repeats):
        start = time.perf_counter()
        booster.inplace_predict(matrix)
        predict[i] = time.perf_counter() - start
    logger.debug("decoders (ms): %s", decode_times)
    return DecodePredict(
        decoder=best,
        bytes=len(body),
        decode_ms=decode_times[best],
        predict_ms=float(np.median(predict)) * 1e3,
        rows=int(matrix.shape[0]),
    )


def reference(booster: xgb.Booster, decoder: str) -> Callable[[bytes], object]:
    """One in-process decode (`decoder`, a DECODERS key) + inplace_predict of a body."""
    booster.set_param({"nthread": 1})
    decode = DECODERS[decoder]
    return lambda body: booster.inplace_predict(decode(body))
