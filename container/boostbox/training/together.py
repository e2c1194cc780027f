"""fit() on this job's hosts: inside XGBoost's collective, resuming from this job's checkpoint,
stopping cleanly on SIGTERM. One host is the same path with no-op collectives.

Every matrix is built inside `communicator` (fit builds them), the first host's checkpoint is
sent to all hosts so they continue from the same model, only the first host writes checkpoints
and metric lines, and all hosts check they ended with the same model bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from boostbox.config import TRAIN_CHANNEL, VALIDATION_CHANNEL, TrainingConfig
from boostbox.errors import AlgorithmError, DataError
from boostbox.training.agreement import broadcast_bytes, same_on_every_host, total_rows
from boostbox.training.batches import Batched
from boostbox.training.checkpoints import Checkpoints, Resumed, fingerprint
from boostbox.training.dataset import Dataset
from boostbox.training.distributed import Cluster, PeerLost, Settings, communicator
from boostbox.training.fit import Continuation, FitResult, fit
from boostbox.training.hyperparameters import Hyperparameters
from boostbox.training.termination import Termination

logger = logging.getLogger(__name__)


def collective_settings(config: TrainingConfig) -> Settings:
    return Settings(
        tracker_port=config.tracker_port,
        beacon_port=config.tracker_port - 1,
        timeout=config.collective_timeout,
        peer_timeout=float(config.peer_timeout),
    )


def _checkpoints(
    config: TrainingConfig, hp: Hyperparameters, train: Dataset | Batched
) -> Checkpoints | None:
    if config.checkpoint_dir is None:
        return None
    params = {**hp.xgb_params(), "early_stopping_rounds": hp.early_stopping_rounds}
    return Checkpoints(
        config.checkpoint_dir, fingerprint(params, train.num_features), hp.checkpoint_interval
    )


def fit_on_hosts(
    config: TrainingConfig,
    hp: Hyperparameters,
    cluster: Cluster,
    loaded: Mapping[str, Dataset | Batched],
    termination: Termination,
    on_lost: Callable[[PeerLost], None],
) -> FitResult:
    """fit() inside the collective: every matrix is built in there, all hosts agree."""
    checkpoints = _checkpoints(config, hp, loaded[TRAIN_CHANNEL]) if cluster.is_leader else None
    with communicator(cluster, collective_settings(config), on_lost):
        if total_rows(loaded[TRAIN_CHANNEL].rows) == 0:
            raise DataError(f"Channel '{TRAIN_CHANNEL}' has no rows on any of the hosts.")
        resumed = checkpoints.resume() if checkpoints is not None else None
        shared = broadcast_bytes(resumed.to_bytes() if resumed is not None else None)
        if shared is not None and resumed is None:
            resumed = Resumed.from_bytes(shared)
        how = Continuation(resumed, checkpoints, termination.requested, cluster.is_leader)
        result = fit(hp, loaded[TRAIN_CHANNEL], loaded.get(VALIDATION_CHANNEL), how=how)
        if not same_on_every_host(bytes(result.booster.save_raw(raw_format="ubj"))):
            raise AlgorithmError(
                f"The {cluster.size} hosts ended with different models; refusing to save one."
            )
    if cluster.size > 1:
        logger.info("Model identical on all %d hosts.", cluster.size)
    return result
