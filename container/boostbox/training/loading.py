"""The job's channels on this host: which are read, which rows this host keeps (placement),
and whether train is loaded into memory or left on disk for external memory."""

from __future__ import annotations

import logging
from pathlib import Path

from boostbox.config import TRAIN_CHANNEL, VALIDATION_CHANNEL, TrainingConfig
from boostbox.errors import DataError, UserError
from boostbox.training import batches, external, placement
from boostbox.training.batches import Batched
from boostbox.training.dataset import Dataset
from boostbox.training.distributed import Cluster
from boostbox.training.fit import check_labels
from boostbox.training.hyperparameters import Hyperparameters

logger = logging.getLogger(__name__)

type Loaded = dict[str, Dataset | Batched]
"""Channel name -> rows in memory, or batches (Pipe mode in memory; external memory)."""

SCRIPT_MODE_CHANNELS = frozenset({"code", "sm_drivers"})
"""Channels the SageMaker SDK adds for script mode; not data, not an error."""


def _load_one(
    config: TrainingConfig, hp: Hyperparameters, cluster: Cluster, name: str, cache: Path | None
) -> Dataset | Batched:
    """One channel: in memory, as batches (Pipe), or left on disk (external memory)."""
    folder, channel = config.paths.channel(name), config.channels[name]
    per_batch = None
    if cache is not None:  # batches are not kept: check each as it goes by
        per_batch = external.label_check(lambda part, of: check_labels(hp, part, of))
        if channel.input_mode.strip().lower() != "pipe":
            return external.scan(folder, channel, cache, per_batch, csv_weights=hp.csv_weights)
    data = placement.load_for_host(
        folder, channel, cluster, csv_weights=hp.csv_weights, cache=cache, check=per_batch
    )
    if isinstance(data, Dataset):
        check_labels(hp, data, name)
    elif cache is None:  # held batches: one pass over their labels names the row
        check_labels(hp, batches.labels(data), name)
    return data


def load(config: TrainingConfig, hp: Hyperparameters, cluster: Cluster) -> Loaded:
    if TRAIN_CHANNEL not in config.channels:
        given = ", ".join(sorted(config.channels)) or "none"
        raise DataError(
            f"The required channel '{TRAIN_CHANNEL}' is missing (channels given: {given})."
        )
    for name in sorted(set(config.channels) - {TRAIN_CHANNEL, VALIDATION_CHANNEL}):
        if name not in SCRIPT_MODE_CHANNELS:
            raise DataError(
                f"Channel '{name}' is not one the algorithm reads: give 'train' and optionally "
                "'validation' (as the official algorithm, other channels are refused so a typo "
                "cannot silently train without validation)."
            )
        logger.info("Ignoring channel '%s' (added by the SageMaker SDK for scripts).", name)
    cache = None
    if hp.external_memory:
        if cluster.size > 1:
            raise UserError(
                "Hyperparameter 'external_memory' has value 'true', which boostbox does not "
                f"support on {cluster.size} hosts yet; use one host or in-memory training."
            )
        cache = external.cache_folder(config.paths.output_dir)
    loaded = {
        name: _load_one(config, hp, cluster, name, cache)
        for name in (TRAIN_CHANNEL, VALIDATION_CHANNEL)
        if name in config.channels
    }
    if VALIDATION_CHANNEL in loaded:
        loaded[TRAIN_CHANNEL], loaded[VALIDATION_CHANNEL] = placement.align(
            loaded[TRAIN_CHANNEL], loaded[VALIDATION_CHANNEL]
        )
    if loaded[TRAIN_CHANNEL].rows:
        hp.check_features(loaded[TRAIN_CHANNEL].num_features)
    return loaded
