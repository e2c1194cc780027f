"""libsvm training files through the small C reader (libsvmreader.c), loaded with ctypes.

The C code reads a file in CHUNK_BYTES pieces straight into growing CSR arrays: the file's
text is never held whole (the reader's peak is the result plus one chunk), and it parses at
about XGBoost's own parser's speed. It reads exactly what `parse_libsvm(labelled=True)` (the
judge) reads; where it cannot be sure (non-ASCII bytes, `_` in numbers, very long numbers)
it declines and the judge decides, and at a bad token it returns the line so the judge words
the error. The library is built by the image's build stage and by `make venv`; without it
`load()` returns None (one INFO line) and training reads with formats.libsvmscan (NumPy).
"""

from __future__ import annotations

import ctypes
import functools
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from boostbox.native import open_library

logger = logging.getLogger(__name__)

LIBRARY = Path(__file__).with_name("_libsvmreader.so")
CHUNK_BYTES = 1 << 23
"""Text read and parsed at a time (the reader's only buffer)."""
GROWTH = 1.5
"""Array capacity grows by this factor (or to the projection for the whole file)."""

DONE, FULL, ERROR, DECLINE = 0, 1, 2, 3


class State(ctypes.Structure):
    """bb_state in libsvmreader.c."""

    _fields_ = [
        (name, ctypes.c_int64)
        for name in (
            "line",
            "rows",
            "nnz",
            "bare_lines",
            "first_bare",
            "bad_line",
            "bad_offset",
            "consumed",
            "max_index",
            "any_weight",
        )
    ]


@functools.cache
def load(path: Path = LIBRARY) -> ctypes.CDLL | None:
    """The compiled reader, or None (logged once) when it was not built here."""
    pointer, size = ctypes.c_void_p, ctypes.c_int64
    # (text, length, final, state, labels, weights, indptr, indices, values, row_cap, nnz_cap)
    argtypes = (pointer, size, ctypes.c_int, ctypes.POINTER(State), *(pointer,) * 5, size, size)
    return open_library(
        path,
        logger,
        "libsvm: the compiled reader",
        "reading with NumPy (slower)",
        ("bb_libsvm_parse", argtypes),
    )


@dataclass(frozen=True)
class Stopped:
    """The reader stopped at `line` (1-based), which starts at byte `offset` of the text:
    a token the judge refuses (`error`), or text only the judge reads (`error` False)."""

    line: int
    offset: int
    error: bool


@dataclass(frozen=True)
class Parsed:
    """parse_libsvm(labelled=True)'s result, and its bare-value warning's figures."""

    matrix: sp.csr_matrix
    labels: np.ndarray
    weights: np.ndarray | None
    bare_lines: int
    first_bare: int


class _Arrays:
    """The CSR arrays under construction; resized in place (realloc) as they fill."""

    def __init__(self, rows: int, nnz: int):
        self.labels = np.empty(rows, np.float32)
        self.weights = np.empty(rows, np.float32)
        self.indptr = np.zeros(rows + 1, np.int64)
        self.indices = np.empty(nnz, np.uint32)
        self.values = np.empty(nnz, np.float32)

    def resize(self, rows: int, nnz: int) -> None:
        for name in ("labels", "weights"):
            getattr(self, name).resize(rows, refcheck=False)
        self.indptr.resize(rows + 1, refcheck=False)
        self.indices.resize(nnz, refcheck=False)
        self.values.resize(nnz, refcheck=False)

    def pointers(self) -> list[int]:
        return [
            array.ctypes.data
            for array in (self.labels, self.weights, self.indptr, self.indices, self.values)
        ]


class _Reader:
    """One text through bb_libsvm_parse: feed buffers, grow arrays, collect the result."""

    def __init__(self, library: ctypes.CDLL, size_hint: int):
        self.parse = library.bb_libsvm_parse
        self.state = State(max_index=-1)
        self.size_hint = max(size_hint, 1)
        first = min(self.size_hint, CHUNK_BYTES)
        self.arrays = _Arrays(first // 16 + 16, first // 4 + 16)

    def _grow(self, done_bytes: int) -> None:
        """Room for at least one more chunk, projected from the text read so far."""
        state, arrays = self.state, self.arrays
        share = self.size_hint / max(done_bytes, 1)
        rows = max(int(arrays.labels.size * GROWTH), int(state.rows * share * 1.05) + 16)
        nnz = max(int(arrays.values.size * GROWTH), int(state.nnz * share * 1.05) + 16)
        arrays.resize(rows, nnz)

    def feed(self, buffer: np.ndarray, length: int, final: bool, done_bytes: int) -> int | Stopped:
        """Parse buffer[:length]; return the bytes consumed (whole lines) or where it stopped."""
        consumed = 0
        while True:
            arrays = self.arrays
            status = self.parse(
                buffer.ctypes.data + consumed,
                length - consumed,
                int(final),
                ctypes.byref(self.state),
                *arrays.pointers(),
                arrays.labels.size,
                arrays.values.size,
            )
            if status in (ERROR, DECLINE):
                offset = done_bytes + consumed + self.state.bad_offset
                return Stopped(int(self.state.bad_line), offset, status == ERROR)
            consumed += int(self.state.consumed)
            if status == DONE:
                return consumed
            self._grow(done_bytes + consumed)

    def result(self) -> Parsed:
        state, arrays = self.state, self.arrays
        rows, nnz = int(state.rows), int(state.nnz)
        arrays.resize(rows, nnz)
        width = int(state.max_index) + 1 if nnz else 0
        if width < 2**31 - 1 and nnz < 2**31:
            indices: np.ndarray = arrays.indices.view(np.int32)
            indptr: np.ndarray = arrays.indptr.astype(np.int32)
        else:
            indices, indptr = arrays.indices.astype(np.int64), arrays.indptr
        matrix = sp.csr_matrix((arrays.values, indices, indptr), shape=(rows, width), copy=False)
        matrix.sum_duplicates()
        weights = arrays.weights if state.any_weight else None
        return Parsed(matrix, arrays.labels, weights, int(state.bare_lines), int(state.first_bare))


def parse_bytes(library: ctypes.CDLL, data: bytes) -> Parsed | Stopped:
    """A whole text in memory (a gunzipped file)."""
    reader = _Reader(library, len(data))
    buffer = np.frombuffer(data, dtype=np.uint8)
    done = reader.feed(buffer, buffer.size, True, 0)
    return done if isinstance(done, Stopped) else reader.result()


def parse_file(library: ctypes.CDLL, source: io.BufferedIOBase, size: int) -> Parsed | Stopped:
    """A file read CHUNK_BYTES at a time from its start; `size` sizes the arrays."""
    reader = _Reader(library, size)
    buffer = np.empty(CHUNK_BYTES, np.uint8)
    filled = 0
    done_bytes = 0
    at_end = False
    while True:
        while filled < buffer.size and not at_end:
            count = source.readinto(memoryview(buffer)[filled:])
            at_end = not count
            filled += count or 0
        consumed = reader.feed(buffer, filled, at_end, done_bytes)
        if isinstance(consumed, Stopped):
            return consumed
        if at_end:
            return reader.result()
        if consumed == 0:  # one line longer than the buffer
            buffer = np.concatenate((buffer, np.empty(buffer.size, np.uint8)))
            continue
        buffer[: filled - consumed] = buffer[consumed:filled]
        filled -= consumed
        done_bytes += consumed
