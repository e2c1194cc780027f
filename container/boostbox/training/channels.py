"""A channel folder -> one Dataset (features, labels, weights), with errors naming the file.

Follows the built-in algorithm's data rules (CONTRACTS.md): label in column 0, CSV without
header, libsvm by default, gzip detected by magic bytes, at most 3 levels of folders. Hidden
files are skipped with a log line (the official image rejects them). Each file goes to the
reader its ContentType names (`readers.READERS`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import overload

import numpy as np
import scipy.sparse as sp

from boostbox.config import ChannelConfig
from boostbox.errors import DataError
from boostbox.formats import Matrix
from boostbox.formats.mediatypes import parse_media_type
from boostbox.training.batches import Batched, widen
from boostbox.training.dataset import Dataset
from boostbox.training.readers import READERS, Reader, ReadOptions

__all__ = ["Dataset", "align", "list_files", "load_channel", "parse_content_type"]

logger = logging.getLogger(__name__)

FORMATS = {
    "text/csv": "text/csv",
    "csv": "text/csv",
    "text/libsvm": "text/libsvm",
    "text/x-libsvm": "text/x-libsvm",
    "libsvm": "text/libsvm",
    "application/x-parquet": "application/x-parquet",
    "parquet": "application/x-parquet",
    "application/x-recordio-protobuf": "application/x-recordio-protobuf",
    "recordio-protobuf": "application/x-recordio-protobuf",
}
"""Accepted ContentType media types (parameters parsed apart) -> key of readers.READERS."""

MAX_DEPTH = 3
"""Folders nested deeper than this under a channel are rejected, as in the official image."""


def parse_content_type(raw: str, channel: str) -> tuple[str, dict[str, str]]:
    """Media type and parameters of a ContentType, e.g. 'text/csv; label_size=1'."""
    media, pairs = parse_media_type(raw)
    rest = dict(pairs)
    if media not in FORMATS:
        supported = ", ".join(sorted(k for k in FORMATS if "/" in k))
        raise DataError(
            f"Channel '{channel}' has ContentType '{raw}', which boostbox cannot read; "
            f"supported: {supported}."
        )
    label_size = rest.get("label_size", "1").strip()
    if label_size != "1":
        raise DataError(
            f"Channel '{channel}' has ContentType '{raw}': label_size={label_size} is not "
            "supported; the label must be exactly one column (label_size=1)."
        )
    return media, rest


def list_files(folder: Path, channel: str) -> list[Path]:
    """Every visible file under a channel folder, sorted; hidden ones skipped with a log."""
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise DataError(f"Channel '{channel}' has no data folder: {folder} {problem}.")
    files: list[Path] = []
    for root, dirs, names in os.walk(folder):
        here = Path(root)
        depth = len(here.relative_to(folder).parts)
        for name in sorted(dirs):
            if name.startswith("."):
                logger.info("Skipping hidden folder %s.", here / name)
                dirs.remove(name)
            elif depth + 1 > MAX_DEPTH:
                raise DataError(
                    f"Channel '{channel}': folder {here / name} is nested more than "
                    f"{MAX_DEPTH} levels deep under {folder}."
                )
        for name in names:
            if name.startswith("."):
                logger.info("Skipping hidden file %s.", here / name)
            else:
                files.append(here / name)
    return sorted(files)


def _combine(parts: Sequence[Dataset], channel: str) -> Dataset:
    first = parts[0]
    if len(parts) == 1 and sp.issparse(first.features):
        features: Matrix = first.features  # sp.vstack would copy every array of the CSR
    elif any(sp.issparse(p.features) for p in parts):
        width = max(p.num_features for p in parts)
        blocks = [widen(sp.csr_matrix(p.features), width) for p in parts]
        features = sp.vstack(blocks, format="csr")
    else:
        for part in parts[1:]:
            if part.num_features != first.num_features or part.feature_names != first.feature_names:
                raise DataError(
                    f"Channel '{channel}': {part.files[0]} has {part.num_features} feature "
                    f"columns but {first.files[0]} has {first.num_features}."
                )
        features = np.vstack([p.features for p in parts]) if len(parts) > 1 else first.features
    has_weights = any(p.weights is not None for p in parts)
    weights = (
        np.concatenate([p.weights if p.weights is not None else np.ones(p.rows) for p in parts])
        if has_weights
        else None
    )
    return Dataset(
        features=features,
        labels=np.concatenate([p.labels for p in parts]).astype(np.float32, copy=False),
        weights=None if weights is None else weights.astype(np.float32, copy=False),
        feature_names=first.feature_names,
        files=tuple(f for p in parts for f in p.files),
    )


def _reader(config: ChannelConfig, csv_weights: bool) -> tuple[str, Reader, ReadOptions]:
    media, params = parse_content_type(config.content_type, config.name)
    options = ReadOptions(params=params, csv_weights=csv_weights)
    return media, READERS[FORMATS[media]], options


def load_channel(folder: Path, config: ChannelConfig, *, csv_weights: bool = False) -> Dataset:
    """Read every file of one channel with its ContentType's reader and stack them."""
    media, read, options = _reader(config, csv_weights)
    parts: list[Dataset] = []
    files = list_files(folder, config.name)
    for path in files:
        part = read(path, options)
        if part.rows == 0:
            logger.info("Skipping %s: it holds no rows.", path)
            continue
        parts.append(part)
    if not parts:
        what = "no files" if not files else f"{len(files)} file(s) but no rows"
        raise DataError(f"Channel '{config.name}' is empty: {folder} has {what}.")
    dataset = _combine(parts, config.name)
    logger.info(
        "Channel '%s': %d rows, %d features from %d file(s) (%s).",
        config.name,
        dataset.rows,
        dataset.num_features,
        len(parts),
        media,
    )
    return dataset


def _sparse(data: Dataset | Batched) -> bool:
    return data.sparse if isinstance(data, Batched) else sp.issparse(data.features)


def _widened(data: Dataset | Batched, width: int) -> Dataset | Batched:
    if isinstance(data, Batched):
        return replace(data, num_features=width)  # every batch is widened as it is handed over
    return replace(data, features=widen(data.features, width))


@overload
def align(train: Dataset, validation: Dataset) -> tuple[Dataset, Dataset]: ...


@overload
def align(
    train: Dataset | Batched, validation: Dataset | Batched
) -> tuple[Dataset | Batched, Dataset | Batched]: ...


def align(
    train: Dataset | Batched, validation: Dataset | Batched
) -> tuple[Dataset | Batched, Dataset | Batched]:
    """Give both channels the same width: pad sparse ones, refuse differing dense ones
    (Datasets, or batches: those are widened one by one as XGBoost takes them)."""
    dense = [d.num_features for d in (train, validation) if not _sparse(d)]
    width = dense[0] if dense else max(train.num_features, validation.num_features)
    for name, data in (("train", train), ("validation", validation)):
        if data.num_features != width and (not _sparse(data) or data.num_features > width):
            raise DataError(
                f"Channel '{name}' has {data.num_features} features but the other channel has "
                f"{width}: train and validation must have the same columns."
            )
    return _widened(train, width), _widened(validation, width)


def join(train: Dataset, validation: Dataset) -> Dataset:
    """train's rows then validation's (k-fold cross-validation splits them itself)."""
    return _combine([train, validation], "train+validation")
