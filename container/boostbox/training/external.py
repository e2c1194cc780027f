"""external_memory=true: channels bigger than RAM, through XGBoost's ExtMemQuantileDMatrix.

Nothing is stacked in memory. `scan` reads a channel's files once in batches (training/
batches.py: one per Parquet file, one per CHUNK_BYTES of CSV, libsvm or RecordIO, gzip undone
on the fly) to learn rows and width and to check every batch (label errors name the file and
absolute line), keeping only that summary. `matrix` then hands XGBoost a DataIter that re-reads
the files batch by batch: XGBoost passes over them three times (shape, quantile sketch, pages)
and keeps its binned pages on disk, so peak memory is about one batch plus XGBoost's working
set, not the data set. Pipe mode with external_memory=true reads its FIFO once and `spill`s the
parsed batches here as binary files (no pickle), which the DataIter then reads instead.

The cache lives in `<output>/extmem-cache/` (/opt/ml/output/extmem-cache on SageMaker): on the
ML storage volume, which SageMaker sizes for the job (VolumeSizeInGB, or the instance's NVMe
disks) and of which it uploads only model/ and output/data/. /tmp is the image's root file
system, which SageMaker does not size for data. Each matrix gets its own sub-folder, removed
when the matrix is freed; a folder left by a killed run is removed when the next job starts.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import xgboost as xgb

from boostbox.config import ChannelConfig
from boostbox.errors import DataError
from boostbox.training import batches, channels, readers
from boostbox.training.batches import Batched, Check
from boostbox.training.dataset import Dataset

logger = logging.getLogger(__name__)

CACHE_FOLDER = "extmem-cache"


def cache_folder(output_dir: Path) -> Path:
    """The job's cache folder, emptied of what a killed run left behind."""
    folder = output_dir / CACHE_FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def _file_batches(path: Path, media: str, options: readers.ReadOptions) -> Iterator[Dataset]:
    if media in batches.STREAMED:
        yield from batches.parse(batches.file_chunks(path), path, media, options)
    else:
        yield readers.READERS[media](path, options)


def scan(folder: Path, config: ChannelConfig, cache: Path, check: Check, **kw: Any) -> Batched:
    """Read a channel's files once to learn its shape and check every batch; keep the summary
    and a way to read the batches again."""
    media, params = channels.parse_content_type(config.content_type, config.name)
    media = channels.FORMATS[media]
    files = channels.list_files(folder, config.name)
    options = readers.ReadOptions(params=params, csv_weights=bool(kw.get("csv_weights")))

    def reread() -> Iterator[Dataset]:
        for path in files:
            yield from (b for b in _file_batches(path, media, options) if b.rows)

    channel = batches.summarise(config.name, reread(), check)
    if not channel.rows:
        what = "no files" if not files else f"{len(files)} file(s) but no rows"
        raise DataError(f"Channel '{config.name}' is empty: {folder} has {what}.")
    logger.info(
        "Channel '%s': %d rows, %d features from %d file(s) (%s), read in batches "
        "(external memory).",
        config.name,
        channel.rows,
        channel.num_features,
        len(files),
        media,
    )
    return replace(channel, reread=reread, cache=cache)


def _save(part: Dataset, path: Path) -> None:
    arrays: dict[str, Any] = {"labels": part.labels}
    if part.weights is not None:
        arrays["weights"] = part.weights
    if sp.issparse(part.features):
        csr = sp.csr_matrix(part.features)
        arrays |= {"data": csr.data, "indices": csr.indices, "indptr": csr.indptr}
        arrays["shape"] = np.asarray(csr.shape, dtype=np.int64)
    else:
        arrays["features"] = np.asarray(part.features)
    with path.open("wb") as out:
        np.savez(out, **arrays)


def _load(path: Path) -> Dataset:
    with np.load(path, allow_pickle=False) as saved:
        if "features" in saved:
            features: Any = saved["features"]
        else:
            shape = tuple(int(n) for n in saved["shape"])
            features = sp.csr_matrix((saved["data"], saved["indices"], saved["indptr"]), shape)
        weights = saved["weights"] if "weights" in saved else None
        return Dataset(features, saved["labels"], weights)


def spill(name: str, parts: Iterable[Dataset], cache: Path, check: Check | None) -> Batched:
    """Batches written to the cache folder as they come (read once, e.g. from a FIFO) and
    read back on each of XGBoost's passes; the files go when the last reader does."""
    cache.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{name}-spilled-", dir=cache))
    saved: list[Path] = []

    def written() -> Iterator[Dataset]:
        for part in parts:
            if part.rows:
                saved.append(folder / f"{len(saved):06d}.npz")
                _save(part, saved[-1])
                yield part

    def reread() -> Iterator[Dataset]:
        return (_load(path) for path in saved)

    weakref.finalize(reread, shutil.rmtree, folder, ignore_errors=True)
    summary = batches.summarise(name, written(), check)
    logger.info("Channel '%s': %d batches spilled to %s.", name, len(saved), folder)
    return replace(summary, reread=reread, cache=cache)


def matrix(
    data: Batched, info: Callable[[Dataset], dict[str, Any]], ref: Any = None, **params: Any
) -> Any:
    """An ExtMemQuantileDMatrix over the batches; its page folder goes when it is freed."""
    assert data.cache is not None
    data.cache.mkdir(parents=True, exist_ok=True)
    folder = tempfile.mkdtemp(prefix=f"{data.name}-", dir=data.cache)
    try:
        built = xgb.ExtMemQuantileDMatrix(
            batches.BatchIter(data, info, str(Path(folder) / "pages")), ref=ref, **params
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    # Removed when the matrix is freed (XGBoost has closed its pages by then); not at
    # interpreter exit, where a live matrix would still hold them.
    weakref.finalize(built, shutil.rmtree, folder, ignore_errors=True).atexit = False
    logger.info("Channel '%s': XGBoost's external-memory pages are in %s.", data.name, folder)
    return built


def label_check(check: Callable[[Dataset, str], None]) -> Check:
    """A label check on one batch, naming its file (the row counts within the batch)."""

    def run(batch: Dataset, name: str) -> None:
        try:
            check(batch, name)
        except DataError as e:
            where = batch.files[0] if batch.files else "the stream"
            raise DataError(f"{e} (the row counts within a batch of {where})") from e

    return run
