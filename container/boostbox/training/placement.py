"""Which rows each host trains on, by the channel's S3DistributionType.

- ShardedByS3Key: SageMaker already gave each host its own objects; a host whose shard is empty
  still joins the group with no rows (XGBoost handles an empty worker when the matrix is built
  inside the communicator), so nobody waits for it.
- FullyReplicated on n hosts: every host holds every row. Training on all of them would count
  each row n times (no speed-up; min_child_weight and lambda change meaning), so each host
  keeps a deterministic 1/n of the rows and the union is the data set exactly once.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from boostbox.config import ChannelConfig
from boostbox.training import batches, channels, pipes
from boostbox.training.batches import Batched, Check
from boostbox.training.dataset import Dataset
from boostbox.training.distributed import Cluster, replicated_share

logger = logging.getLogger(__name__)

SHARDED = "shardedbys3key"


def empty(num_features: int = 0) -> Dataset:
    """A channel with no rows (a host whose shard got no S3 objects)."""
    return Dataset(
        features=np.empty((0, num_features), dtype=np.float32),
        labels=np.empty(0, dtype=np.float32),
    )


def _has_files(folder: Path, channel: str) -> bool:
    return folder.is_dir() and bool(channels.list_files(folder, channel))


def _take(dataset: Dataset, rows: np.ndarray) -> Dataset:
    features = dataset.features
    picked = features[rows] if sp.issparse(features) else np.ascontiguousarray(features[rows])
    return Dataset(
        features=picked,
        labels=dataset.labels[rows],
        weights=None if dataset.weights is None else dataset.weights[rows],
        feature_names=dataset.feature_names,
        files=dataset.files,
    )


def load_for_host(
    folder: Path,
    config: ChannelConfig,
    cluster: Cluster,
    *,
    csv_weights: bool,
    cache: Path | None = None,
    check: Check | None = None,
) -> Dataset | Batched:
    """This host's rows of one channel (all of them when it trains alone). Pipe mode gives
    the stream's parsed batches (spilled to `cache` when given), File mode one Dataset."""
    sharded = config.s3_distribution_type.strip().lower() == SHARDED
    piped = config.input_mode.strip().lower() == "pipe"
    if cluster.size > 1 and sharded and not piped and not _has_files(folder, config.name):
        logger.warning(
            "Channel '%s' (ShardedByS3Key): host %s received no files; it takes part with no rows.",
            config.name,
            cluster.current_host,
        )
        return empty()
    data: Dataset | Batched
    if piped:
        data = pipes.load_pipe(
            folder.parent, config, csv_weights=csv_weights, cache=cache, check=check
        )
    else:
        data = channels.load_channel(folder, config, csv_weights=csv_weights)
    if cluster.size == 1 or sharded:
        return data
    logger.info(
        "Channel '%s' is FullyReplicated on %d hosts: host %s (rank %d) trains on every %d-th "
        "row from row %d, %d of %d rows; the hosts together use each row once.",
        config.name,
        cluster.size,
        cluster.current_host,
        cluster.rank,
        cluster.size,
        cluster.rank,
        len(range(cluster.rank, data.rows, cluster.size)),
        data.rows,
    )
    if isinstance(data, Batched):
        return batches.every_nth(data, cluster.rank, cluster.size)
    return _take(data, replicated_share(data.rows, cluster))


def align(
    train: Dataset | Batched, validation: Dataset | Batched
) -> tuple[Dataset | Batched, Dataset | Batched]:
    """channels.align, except that an empty shard takes the other channel's width."""
    if isinstance(train, Dataset) and train.rows == 0:
        return empty(validation.num_features), validation
    if isinstance(validation, Dataset) and validation.rows == 0:
        return train, empty(train.num_features)
    return channels.align(train, validation)
