"""Pipe mode: a channel arrives as a FIFO, /opt/ml/input/data/<channel>_<epoch>, read once.

Epoch 0 is read as a stream: bytes are gunzipped on the fly (gzip detected by magic bytes),
cut at line ends and parsed batch by batch (CSV, libsvm), so no copy of the file ever lands on
disk and only the parsed float32 rows are held. RecordIO-protobuf and Parquet need the whole
body to parse and are read into memory first. The stream is watched: a FIFO that never appears,
a writer that stalls for `idle_timeout` seconds, or a stream that ends inside a gzip member or
a record fails the job with a line naming the channel, instead of hanging.
"""

from __future__ import annotations

import itertools
import logging
import os
import select
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from boostbox.config import ChannelConfig
from boostbox.errors import DataError, ParseError
from boostbox.formats.csv import parse_csv
from boostbox.formats.libsvm import parse_libsvm
from boostbox.formats.parquet import read_table
from boostbox.formats.recordio import read_records
from boostbox.training.dataset import Dataset

logger = logging.getLogger(__name__)

BATCH_BYTES = 8 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"


def fifo_path(data_dir: Path, channel: str, epoch: int = 0) -> Path:
    return data_dir / f"{channel}_{epoch}"


def _wait_for(path: Path, timeout: float, channel: str) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise DataError(f"Channel '{channel}' (Pipe): {path} did not appear in {timeout:g}s.")
        time.sleep(0.05)


def read_chunks(path: Path, channel: str, *, idle_timeout: float) -> Iterator[bytes]:
    """The FIFO's raw bytes until the writer closes it; DataError if it stalls too long."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], idle_timeout)
            if not ready:
                raise DataError(
                    f"Channel '{channel}' (Pipe): no data from {path.name} for {idle_timeout:g}s."
                )
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                return
            yield chunk
    finally:
        os.close(fd)


def gunzipped(chunks: Iterator[bytes], channel: str) -> Iterator[bytes]:
    """The chunks, decompressed when the stream starts with gzip's magic (multi-member ok)."""
    first = next(chunks, b"")
    if first[:2] != GZIP_MAGIC:
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
                fed = True
                data = b""
                if inflater.eof:
                    data = inflater.unused_data
                    inflater = zlib.decompressobj(wbits=31)
                    fed = False
    except zlib.error as e:
        raise DataError(f"Channel '{channel}' (Pipe): broken gzip data: {e}") from e
    if fed:
        raise DataError(
            f"Channel '{channel}' (Pipe): the stream ended inside gzip data (writer stopped?)."
        )


def lines_batches(chunks: Iterator[bytes], size: int = BATCH_BYTES) -> Iterator[tuple[bytes, int]]:
    """Whole lines in batches of about `size` bytes, with the 1-based number of the first."""
    buffer = b""
    line = 1
    for chunk in chunks:
        buffer += chunk
        if len(buffer) >= size:
            cut = buffer.rfind(b"\n") + 1
            if cut:
                yield buffer[:cut], line
                line += buffer.count(b"\n", 0, cut)
                buffer = buffer[cut:]
    if buffer:
        yield buffer, line


def _csv(batch: bytes, source: str, first: int, csv_weights: bool) -> Dataset:
    table = parse_csv(batch, source=source, first_line=first)
    lead = 2 if csv_weights else 1
    if table.shape[0] and table.shape[1] <= lead:
        raise ParseError(f"{source}: line {first} has {table.shape[1]} column(s).")
    weights = table[:, 1] if csv_weights else None
    return Dataset(table[:, lead:], table[:, 0], weights)


def _libsvm(batch: bytes, source: str, first: int, csv_weights: bool) -> Dataset:
    del csv_weights
    features, labels, weights = parse_libsvm(
        batch.decode("utf-8"), source=source, first_line=first, labelled=True
    )
    return Dataset(features, labels, weights)


type BatchParser = Callable[[bytes, str, int, bool], Dataset]
STREAMED: dict[str, BatchParser] = {"csv": _csv, "libsvm": _libsvm}


def _stack(parts: list[Dataset], channel: str) -> Dataset:
    parts = [p for p in parts if p.rows]
    if not parts:
        raise DataError(f"Channel '{channel}' (Pipe): the stream held no rows.")
    if any(sp.issparse(p.features) for p in parts):
        width = max(p.num_features for p in parts)
        blocks = []
        for part in parts:
            block = sp.csr_matrix(part.features)
            block.resize((block.shape[0], width))
            blocks.append(block)
        features: np.ndarray | sp.csr_matrix = sp.vstack(blocks, format="csr")
    else:
        widths = {p.num_features for p in parts}
        if len(widths) > 1:
            raise DataError(f"Channel '{channel}' (Pipe): rows have {sorted(widths)} columns.")
        features = np.vstack([p.features for p in parts])
    weights = [p.weights for p in parts]
    return Dataset(
        features=features,
        labels=np.concatenate([p.labels for p in parts]).astype(np.float32),
        weights=None
        if all(w is None for w in weights)
        else np.concatenate(
            [w if w is not None else np.ones(p.rows) for w, p in zip(weights, parts, strict=True)]
        ).astype(np.float32),
    )


KINDS = {
    "text/csv": "csv",
    "text/libsvm": "libsvm",
    "text/x-libsvm": "libsvm",
    "application/x-parquet": "parquet",
    "application/x-recordio-protobuf": "recordio",
}
"""Canonical media type (channels.FORMATS values) -> how the stream is parsed."""


def load_pipe(
    data_dir: Path,
    config: ChannelConfig,
    media: str,
    *,
    csv_weights: bool,
    open_timeout: float = 600.0,
    idle_timeout: float = 600.0,
) -> Dataset:
    """Epoch 0 of a Pipe-mode channel as one Dataset; `media` is the canonical media type."""
    kind = KINDS[media]
    path = fifo_path(data_dir, config.name)
    _wait_for(path, open_timeout, config.name)
    chunks = gunzipped(read_chunks(path, config.name, idle_timeout=idle_timeout), config.name)
    source = f"Channel '{config.name}' (Pipe) {path.name}"
    try:
        if kind in STREAMED:
            parse = STREAMED[kind]
            parts = [parse(b, source, n, csv_weights) for b, n in lines_batches(chunks)]
            dataset = _stack(parts, config.name)
        else:
            body = b"".join(chunks)
            if kind == "parquet":
                matrix, names = read_table(body)
                dataset = Dataset(matrix[:, 1:], matrix[:, 0], feature_names=names[1:])
            else:
                features, labels = read_records(body)
                dataset = Dataset(features, labels)
    except ParseError as e:
        raise DataError(f"{e} (a stream cut short by its writer ends this way too)") from e
    logger.info(
        "Channel '%s' (Pipe): %d rows, %d features streamed from %s.",
        config.name,
        dataset.rows,
        dataset.num_features,
        path.name,
    )
    return dataset
