"""The job's channels on this host: which are read, which rows this host keeps (placement),
and whether train is loaded into memory or left on disk for external memory."""

from __future__ import annotations

import logging

from boostbox.config import TRAIN_CHANNEL, VALIDATION_CHANNEL, TrainingConfig
from boostbox.errors import DataError, UserError
from boostbox.training import external, placement
from boostbox.training.dataset import Dataset
from boostbox.training.distributed import Cluster
from boostbox.training.external import ChannelFiles
from boostbox.training.fit import check_labels
from boostbox.training.hyperparameters import Hyperparameters

logger = logging.getLogger(__name__)

type Loaded = dict[str, Dataset | ChannelFiles]
"""Channel name -> rows in memory, or files left on disk (external memory, train only)."""

SCRIPT_MODE_CHANNELS = frozenset({"code", "sm_drivers"})
"""Channels the SageMaker SDK adds for script mode; not data, not an error."""


def load_external(config: TrainingConfig, hp: Hyperparameters, cluster: Cluster) -> Loaded:
    """external_memory=true: train stays on disk (read file by file), validation in memory."""
    if cluster.size > 1:
        raise UserError(
            "Hyperparameter 'external_memory' has value 'true', which boostbox does not support "
            f"on {cluster.size} hosts yet; use one host or in-memory training."
        )
    train = external.channel_files(
        config.paths.channel(TRAIN_CHANNEL),
        config.channels[TRAIN_CHANNEL],
        csv_weights=hp.csv_weights,
        check=lambda data, name: check_labels(hp, data, name),
    )
    loaded: Loaded = {TRAIN_CHANNEL: train}
    if VALIDATION_CHANNEL in config.channels:
        validation = placement.load_for_host(
            config.paths.channel(VALIDATION_CHANNEL),
            config.channels[VALIDATION_CHANNEL],
            cluster,
            csv_weights=hp.csv_weights,
        )
        check_labels(hp, validation, VALIDATION_CHANNEL)
        loaded[VALIDATION_CHANNEL] = validation
    hp.check_features(train.num_features)
    return loaded


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
    if hp.external_memory:
        return load_external(config, hp, cluster)
    loaded = {}
    for name in (TRAIN_CHANNEL, VALIDATION_CHANNEL):
        if name in config.channels:
            loaded[name] = placement.load_for_host(
                config.paths.channel(name),
                config.channels[name],
                cluster,
                csv_weights=hp.csv_weights,
            )
    if VALIDATION_CHANNEL in loaded:
        loaded[TRAIN_CHANNEL], loaded[VALIDATION_CHANNEL] = placement.align(
            loaded[TRAIN_CHANNEL], loaded[VALIDATION_CHANNEL]
        )
    for name, dataset in loaded.items():
        check_labels(hp, dataset, name)
    if loaded[TRAIN_CHANNEL].rows:
        hp.check_features(loaded[TRAIN_CHANNEL].num_features)
    return dict(loaded)
