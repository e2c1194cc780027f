"""A channel as batches: a byte stream (a file, or a Pipe-mode FIFO) gunzipped on the fly, cut
into about CHUNK_BYTES of whole lines (CSV, libsvm) or RecordIO frames, each parsed by the
readers File mode uses (so errors name the file and the absolute line), and handed to XGBoost
through a DataIter: no matrix of the whole channel is ever stacked.

Two users: external memory (files re-read on every pass, ExtMemQuantileDMatrix with its pages
on disk; training/external.py) and Pipe mode (a FIFO read once, its parsed batches kept in
memory for a QuantileDMatrix; training/pipes.py).
"""

from __future__ import annotations

import itertools
import logging
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import xgboost as xgb

from boostbox.errors import DataError
from boostbox.formats import Matrix, recordio, text
from boostbox.formats.csv import sniff_delimiter
from boostbox.training import readers
from boostbox.training.dataset import Dataset

logger = logging.getLogger(__name__)

CHUNK_BYTES = 32 * 2**20
"""Input per batch. Each batch is one XGBoost page in external memory, and training walks every
page each round: 16 MiB batches trained 5 rounds 2.8x slower than 64 MiB ones (1.5M x 28, CPU),
while the parsing peak grows with the batch (~3x its text). 32 MiB is the middle."""
READ_BYTES = 1 << 20
CSV, LIBSVM, RECORDIO = (
    "text/csv",
    ("text/libsvm", "text/x-libsvm"),
    "application/x-recordio-protobuf",
)
STREAMED = (CSV, *LIBSVM, RECORDIO)
"""Canonical media types parsed batch by batch; Parquet needs the whole file (its footer)."""


def file_chunks(path: Path) -> Iterator[bytes]:
    """A file's raw bytes, READ_BYTES at a time."""
    with path.open("rb") as stream:
        while data := stream.read(READ_BYTES):
            yield data


def gunzipped(chunks: Iterator[bytes], where: Path) -> Iterator[bytes]:
    """The chunks, decompressed when the stream starts with gzip's magic (multi-member ok)."""
    first = next(chunks, b"")
    if first[:2] != readers.GZIP_MAGIC:
        if first:
            yield first
        yield from chunks
        return
    inflater = zlib.decompressobj(wbits=31)
    fed = False
    try:
        for chunk in itertools.chain([first], chunks):
            data = chunk
            while data:
                yield inflater.decompress(data)
                fed, data = True, b""
                if inflater.eof:
                    data = inflater.unused_data
                    inflater, fed = zlib.decompressobj(wbits=31), False
    except zlib.error as e:
        raise DataError(f"{where}: broken gzip data: {e}") from e
    if fed:
        raise DataError(f"{where}: ended inside gzip data (the file or stream was cut short).")


def _frames_end(buffer: bytearray, size: int) -> int:
    """Where the first whole RecordIO frames of at least `size` bytes end (0: not yet)."""
    offset = 0
    while offset < size:
        if offset + 8 > len(buffer):
            return 0
        length = int.from_bytes(buffer[offset + 4 : offset + 8], "little") & ((1 << 29) - 1)
        offset += 8 + length + (-length % 4)
    return offset if offset <= len(buffer) else 0


def _lines_end(buffer: bytearray, size: int) -> int:
    """Where the first whole lines of at least `size` bytes end (0: not yet)."""
    return buffer.find(b"\n", size - 1) + 1


def cut(
    chunks: Iterable[bytes],
    size: int,
    end: Callable[[bytearray, int], int],
    count: Callable[[bytes], int],
) -> Iterator[tuple[bytes, int]]:
    """(whole units, number of the first): about `size` bytes each, cut where `end` says;
    `count` counts the units in a piece (lines, frames). The rest goes out last, as is."""
    buffer = bytearray()
    number = 1
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size and (whole := end(buffer, size)):
            with memoryview(buffer) as view:
                piece = bytes(view[:whole])  # one copy; the view is gone before the del
            del buffer[:whole]
            yield piece, number
            number += count(piece)
    if buffer:
        yield bytes(buffer), number


def _frames(piece: bytes) -> int:
    return sum(1 for _ in recordio.frames(piece))


def parse(
    chunks: Iterator[bytes],
    where: Path,
    media: str,
    options: readers.ReadOptions,
    size: int | None = None,
) -> Iterator[Dataset]:
    """A stream of one file's bytes (gzip or not) as Datasets of about `size` bytes of
    (uncompressed) input each; CHUNK_BYTES by default."""
    size = size or CHUNK_BYTES
    raw = gunzipped(chunks, where)
    if media == RECORDIO:
        for piece, first in cut(raw, size, _frames_end, _frames):
            yield readers.recordio_dataset(where, piece, first_record=first)
        return
    if not text.is_utf8(options.params):  # a line end may not be one byte: parse it whole
        raw = iter([b"".join(raw)])
    delimiter: str | None = None
    for piece, first in cut(raw, size, _lines_end, lambda p: p.count(b"\n")):
        content = readers.text_content(where, piece, options)
        if media != CSV:
            yield readers.libsvm_dataset(where, content, first_line=first)
            continue
        delimiter = delimiter or sniff_delimiter(content)
        yield readers.csv_dataset(where, content, options, first_line=first, delimiter=delimiter)


type Check = Callable[[Dataset, str], None]
"""Called with every batch and its channel name (label checks for the objective)."""


@dataclass(frozen=True)
class Batched:
    """One channel as batches, with what a pass over them learnt: a Dataset's summary."""

    name: str
    rows: int
    num_features: int
    sparse: bool
    feature_names: tuple[str, ...] | None = None
    count: int = 0
    """Non-empty batches."""
    held: tuple[Dataset, ...] = ()
    """The batches, when they are in memory (Pipe mode)."""
    reread: Callable[[], Iterator[Dataset]] | None = None
    """Reads the batches again (files on disk); None: they are `held`."""
    cache: Path | None = None
    """Where XGBoost's external-memory pages go; None: an in-memory QuantileDMatrix."""

    def batches(self) -> Iterator[Dataset]:
        return self.reread() if self.reread is not None else iter(self.held)


def summarise(name: str, batches: Iterable[Dataset], check: Check | None = None) -> Batched:
    """A pass over the batches: rows, width (sparse batches may be narrower), checks."""
    rows, width, sparse, count = 0, -1, False, 0
    names: tuple[str, ...] | None = None
    for batch in batches:
        if not batch.rows:
            continue
        count += 1
        if check is not None:
            check(batch, name)
        sparse = sparse or sp.issparse(batch.features)
        if width < 0:
            width, names = batch.num_features, batch.feature_names
        elif not sp.issparse(batch.features) and batch.num_features != width:
            raise DataError(
                f"Channel '{name}': {batch.files[0] if batch.files else 'a batch'} has "
                f"{batch.num_features} feature columns but the rows before it have {width}."
            )
        width = max(width, batch.num_features)
        rows += batch.rows
    return Batched(name, rows, max(width, 0), sparse, names, count)


def hold(name: str, parts: Iterable[Dataset], check: Check | None = None) -> Batched:
    """Batches kept in memory (the non-empty ones), summarised."""
    held = tuple(p for p in parts if p.rows)
    return replace(summarise(name, held, check), held=held)


def labels(data: Batched) -> Dataset:
    """The labels and weights of every batch, with no features: for label checks that name
    the row in the channel (labels are one float per row, the features stay in batches)."""
    parts = list(data.batches())
    weights = [p.weights if p.weights is not None else np.ones(p.rows) for p in parts]
    has_weights = any(p.weights is not None for p in parts)
    return Dataset(
        np.empty((data.rows, 0), np.float32),
        np.concatenate([np.empty(0, np.float32), *(p.labels for p in parts)]).astype(
            np.float32, copy=False
        ),
        np.concatenate(weights).astype(np.float32) if has_weights else None,
    )


def every_nth(data: Batched, start: int, step: int) -> Batched:
    """Rows start, start + step, ... of held batches (FullyReplicated on several hosts)."""
    kept: list[Dataset] = []
    offset = 0
    for part in data.held:
        rows = np.arange((start - offset) % step, part.rows, step)
        features = part.features[rows]
        kept.append(
            Dataset(
                features if sp.issparse(features) else np.ascontiguousarray(features),
                part.labels[rows],
                None if part.weights is None else part.weights[rows],
                part.feature_names,
                part.files,
            )
        )
        offset += part.rows
    return replace(hold(data.name, kept), num_features=data.num_features)


def widen(features: Matrix, width: int) -> Matrix:
    """Sparse rows with empty (missing) columns added on the right, up to `width`."""
    if not sp.issparse(features) or features.shape[1] == width:
        return features
    wider = sp.csr_matrix(features, copy=True)
    wider.resize((features.shape[0], width))
    return wider


def stack(data: Batched) -> Dataset:
    """The batches as one Dataset (a copy of every row: only where XGBoost needs one matrix)."""
    parts = list(data.batches())
    features: Matrix
    if data.sparse:
        features = sp.vstack([widen(p.features, data.num_features) for p in parts], format="csr")
    else:
        features = np.vstack([p.features for p in parts])
    meta = labels(data)
    return Dataset(features, meta.labels, meta.weights, data.feature_names)


class BatchIter(xgb.DataIter):
    """XGBoost's iterator over a channel's batches (XGBoost makes several passes)."""

    def __init__(
        self,
        data: Batched,
        info: Callable[[Dataset], dict[str, Any]],
        cache_prefix: str | None = None,
    ) -> None:
        self._data = data
        self._info = info
        self._batches = data.batches()
        # on_host=False: external-memory pages go to the cache folder on disk, not to RAM.
        super().__init__(cache_prefix=cache_prefix, on_host=False)

    def reset(self) -> None:
        self._batches = self._data.batches()

    def next(self, input_data: Callable[..., None]) -> bool:
        batch = next(self._batches, None)
        if batch is None:
            return False
        features = batch.features
        if self._data.sparse and not sp.issparse(features):  # as File mode stacks them
            features = sp.csr_matrix(features)
        input_data(
            data=widen(features, self._data.num_features),
            label=batch.labels,
            weight=batch.weights,
            **self._info(batch),
        )
        return True
