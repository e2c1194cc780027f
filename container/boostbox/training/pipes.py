"""Pipe mode: a channel arrives as a FIFO, /opt/ml/input/data/<channel>_<epoch>, read once.

Epoch 0 is read as a stream: bytes are gunzipped on the fly (gzip detected by magic bytes),
cut into batches of whole lines (CSV, libsvm) or RecordIO frames and parsed batch by batch
(training/batches.py, the parsers File mode uses), so no copy of the stream lands on disk. The
parsed batches are kept as they are, never stacked into one matrix: XGBoost's QuantileDMatrix
is built from them through a DataIter (it passes over its input several times, and a FIFO can
be read only once, so the parsed batches are what it re-reads). With external_memory=true the
batches are spilled to the external-memory cache folder as binary files instead and read from
there by ExtMemQuantileDMatrix. Parquet needs the whole body (its footer) and is one batch.

The stream is watched: a FIFO that never appears, a writer that stalls for `idle_timeout`
seconds, or a stream that ends inside a gzip member or a row fails the job with a line naming
the FIFO, instead of hanging.
"""

from __future__ import annotations

import logging
import os
import select
import time
from collections.abc import Iterator
from pathlib import Path

from boostbox.config import ChannelConfig
from boostbox.errors import DataError, ParseError
from boostbox.training import batches, channels, external, readers
from boostbox.training.batches import Batched, Check

logger = logging.getLogger(__name__)

HELD_BATCH_BYTES = 8 * 2**20
"""Input per batch kept in memory: parsing takes a few times the batch's text on top of the
rows already held, and (unlike external-memory pages) small batches cost XGBoost little."""


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


def load_pipe(
    data_dir: Path,
    config: ChannelConfig,
    *,
    csv_weights: bool,
    cache: Path | None = None,
    check: Check | None = None,
    open_timeout: float = 600.0,
    idle_timeout: float = 600.0,
) -> Batched:
    """Epoch 0 of a Pipe-mode channel as parsed batches: held in memory, or spilled to `cache`
    (external memory). `check` runs on every batch as it is parsed."""
    media, params = channels.parse_content_type(config.content_type, config.name)
    media = channels.FORMATS[media]
    options = readers.ReadOptions(params=params, csv_weights=csv_weights)
    path = fifo_path(data_dir, config.name)
    _wait_for(path, open_timeout, config.name)
    chunks = read_chunks(path, config.name, idle_timeout=idle_timeout)
    if media in batches.STREAMED:
        size = None if cache is not None else HELD_BATCH_BYTES
        parts = batches.parse(chunks, path, media, options, size)
    else:  # Parquet: its footer is at the end
        parts = iter([readers.parquet_dataset(path, b"".join(batches.gunzipped(chunks, path)))])
    try:
        if cache is not None:
            data = external.spill(config.name, parts, cache, check)
        else:
            data = batches.hold(config.name, parts, check)
    except DataError as e:
        if isinstance(e.__cause__, ParseError):
            raise DataError(f"{e} (a stream cut short by its writer ends this way too)") from e
        raise
    if not data.rows:
        raise DataError(f"Channel '{config.name}' (Pipe): the stream held no rows.")
    logger.info(
        "Channel '%s' (Pipe): %d rows, %d features in %d batch(es) streamed from %s.",
        config.name,
        data.rows,
        data.num_features,
        data.count,
        path.name,
    )
    return data
