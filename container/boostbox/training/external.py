"""External memory: a train channel bigger than RAM, read one file at a time.

With the hyperparameter `external_memory=true`, the train channel is not loaded into memory:
XGBoost's ExtMemQuantileDMatrix pulls it through a DataIter that reads one file per batch
(with the same readers File mode uses) and keeps its compressed pages in a cache folder on
disk. Peak memory is about one file's rows plus XGBoost's working pages, so split big data
into several files (SageMaker channels usually are). Slower than in-memory training: see bench/.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xgboost as xgb

from boostbox.config import ChannelConfig
from boostbox.errors import DataError
from boostbox.training import channels
from boostbox.training.dataset import Dataset
from boostbox.training.readers import READERS, Reader, ReadOptions

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelFiles:
    """A channel left on disk: its files and how to read one; rows are known after a pass."""

    channel: str
    files: tuple[Path, ...]
    read: Reader
    options: ReadOptions
    num_features: int
    feature_names: tuple[str, ...] | None = None
    check: Callable[[Dataset, str], None] | None = None
    """Run on every batch (labels the objective cannot take)."""

    @property
    def rows(self) -> int:
        return -1  # unknown until XGBoost has read the files

    def batch(self, index: int) -> Dataset:
        part = self.read(self.files[index], self.options)
        if part.rows and part.num_features != self.num_features:
            raise DataError(
                f"Channel '{self.channel}': {self.files[index]} has {part.num_features} feature "
                f"columns but {self.files[0]} has {self.num_features}."
            )
        if self.check is not None:
            self.check(part, self.channel)
        return part


class _Files(xgb.DataIter):
    def __init__(self, source: ChannelFiles, cache_dir: str) -> None:
        self.source = source
        self.index = 0
        # on_host=False: pages go to the cache folder on disk, not to RAM.
        super().__init__(cache_prefix=str(Path(cache_dir) / source.channel), on_host=False)

    def reset(self) -> None:
        self.index = 0

    def next(self, input_data: Callable[..., Any]) -> bool:
        while self.index < len(self.source.files):
            part = self.source.batch(self.index)
            self.index += 1
            if part.rows:
                input_data(data=part.features, label=part.labels, weight=part.weights)
                return True
        return False


def external_matrix(source: ChannelFiles, nthread: int, max_bin: int | None) -> Any:
    """ExtMemQuantileDMatrix over the channel's files, its cache in a fresh temp folder."""
    cache_dir = tempfile.mkdtemp(prefix="boostbox-extmem-")
    logger.info(
        "Channel '%s': external memory over %d file(s), cache in %s.",
        source.channel,
        len(source.files),
        cache_dir,
    )
    return xgb.ExtMemQuantileDMatrix(_Files(source, cache_dir), nthread=nthread, max_bin=max_bin)


def channel_files(
    folder: Path,
    config: ChannelConfig,
    *,
    csv_weights: bool,
    check: Callable[[Dataset, str], None] | None = None,
) -> ChannelFiles:
    """The channel's files and reader; the first file is read once for the feature count."""
    media, params = channels.parse_content_type(config.content_type, config.name)
    read = READERS[channels.FORMATS[media]]
    options = ReadOptions(params=params, csv_weights=csv_weights)
    files = tuple(channels.list_files(folder, config.name))
    first = next((read(f, options) for f in files), None)
    if first is None or first.rows == 0:
        raise DataError(f"Channel '{config.name}' is empty or its first file has no rows.")
    return ChannelFiles(
        config.name, files, read, options, first.num_features, first.feature_names, check
    )
