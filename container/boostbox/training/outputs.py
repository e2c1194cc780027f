"""What a trained job leaves beside the model: the model and metadata, the drift-monitoring
baseline, and the evaluation summary (job.py writes them in this order)."""

from __future__ import annotations

import logging
import resource
from dataclasses import replace
from pathlib import Path
from typing import Any

from boostbox import artifact
from boostbox.artifact import ModelMetadata
from boostbox.config import TRAIN_CHANNEL, VALIDATION_CHANNEL, TrainingConfig
from boostbox.monitoring.baseline import PREDICTION_ROWS, rows_to_score, write_baseline
from boostbox.monitoring.sketch import Matrix
from boostbox.training import batches
from boostbox.training.batches import Batched
from boostbox.training.dataset import Dataset
from boostbox.training.fit import FitResult
from boostbox.training.hyperparameters import Hyperparameters
from boostbox.training.loading import Loaded

logger = logging.getLogger(__name__)


def save_model(result: FitResult, names: tuple[str, ...] | None, config: TrainingConfig) -> Path:
    metadata = ModelMetadata.from_booster(
        result.booster,
        best_iteration=result.best_iteration,
        best_score=result.best_score,
        eval_metric=result.eval_metric,
    )
    if names:
        metadata = replace(metadata, feature_names=names)
    return artifact.save(result.booster, config.paths.model_dir, metadata)


def _to_score(data: Dataset | Batched) -> Matrix:
    """At most PREDICTION_ROWS rows, evenly spaced, for the baseline's predictions."""
    if isinstance(data, Dataset):
        return rows_to_score(data.features)
    step = max(1, -(-data.rows // PREDICTION_ROWS))
    return batches.stack(batches.every_nth(data, 0, step)).features


def write_monitoring_baseline(result: FitResult, loaded: Loaded, config: TrainingConfig) -> None:
    """The drift baseline from the training rows in memory (a Dataset, or Pipe mode's
    batches, summarised without stacking them); predictions on validation (or train when
    there is none; up to 2**17 rows, evenly spaced). Running out of memory here skips it,
    not the job; so does external memory (the rows never were in memory)."""
    train = loaded[TRAIN_CHANNEL]
    if isinstance(train, Batched) and train.cache is not None:
        logger.info("external_memory=true: no monitoring baseline (it needs the rows in memory).")
        return
    validation = loaded.get(VALIDATION_CHANNEL)
    scored = validation if validation is not None else train
    features: Matrix | list[Matrix] = (
        train.features
        if isinstance(train, Dataset)
        else [batches.widen(p.features, train.num_features) for p in train.held]
    )
    try:
        predictions = result.booster.inplace_predict(_to_score(scored))
        write_baseline(
            features,
            predictions,
            train.feature_names,
            config.paths.model_dir,
            config.paths.output_data_dir,
        )
    except MemoryError:
        logger.warning("Out of memory writing the monitoring baseline: skipped.")


def summary(
    hp: Hyperparameters, result: FitResult, loaded: Loaded, seconds: dict[str, float]
) -> dict[str, Any]:
    return {
        "objective": hp.objective,
        "best_iteration": result.best_iteration,
        "best_score": result.best_score,
        "eval_metric": result.eval_metric,
        "rounds_trained": result.rounds_trained,
        "num_round": hp.num_round,
        "stopped_by_sigterm": result.stopped,
        "metrics": result.metrics,
        "rows": {name: ds.rows for name, ds in loaded.items()},
        "num_features": loaded[TRAIN_CHANNEL].num_features,
        "seconds": {key: round(value, 3) for key, value in seconds.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
