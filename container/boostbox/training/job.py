"""The `train` entry: config -> hyperparameters -> channels -> fit -> artifact + evaluation.

Everything that can fail ends here as one line in output/failure and an exit code:
2 for the user's inputs (UserError), 1 for boostbox or the platform (traceback on stderr).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from boostbox import artifact
from boostbox.artifact import ModelMetadata
from boostbox.config import TRAIN_CHANNEL, VALIDATION_CHANNEL, TrainingConfig, base_dir
from boostbox.errors import AlgorithmError, DataError, PlatformError, UserError
from boostbox.paths import OptMl
from boostbox.training import channels, hyperparameters
from boostbox.training.callbacks import Checkpoints
from boostbox.training.dataset import Dataset
from boostbox.training.fit import FitResult, check_labels, fit
from boostbox.training.hyperparameters import Hyperparameters

logger = logging.getLogger(__name__)

EVALUATION_FILE = "evaluation.json"
FAILURE_LIMIT = 1000
"""Bytes of the failure line: SageMaker keeps the first 1024 characters as FailureReason."""

_HANDLER_FLAG = "_boostbox_handler"


def configure_logging(level: str = "INFO") -> None:
    """Plain log lines to stderr; metric lines bare on stdout as XGBoost prints them.

    Idempotent: handlers from an earlier call (tests call main repeatedly) are replaced.
    """
    formats = {
        "boostbox": (sys.stderr, "%(asctime)s %(levelname)s %(name)s: %(message)s", True),
        "boostbox.metrics": (sys.stdout, "%(message)s", False),
        "py.warnings": (sys.stderr, "%(asctime)s WARNING %(message)s", False),
    }
    for name, (stream, fmt, _) in formats.items():
        target = logging.getLogger(name)
        for old in [h for h in target.handlers if getattr(h, _HANDLER_FLAG, False)]:
            target.removeHandler(old)
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(fmt))
        setattr(handler, _HANDLER_FLAG, True)
        target.addHandler(handler)
        target.propagate = False
    logging.getLogger("boostbox").setLevel(level)
    logging.getLogger("boostbox.metrics").setLevel("INFO")
    logging.captureWarnings(True)


def write_failure(paths: OptMl, message: str) -> None:
    """One line, under 1024 bytes, as SageMaker's FailureReason shows it."""
    line = " ".join(message.split()) or "Training failed."
    encoded = line.encode("utf-8")
    if len(encoded) > FAILURE_LIMIT:
        line = encoded[: FAILURE_LIMIT - 3].decode("utf-8", errors="ignore") + "..."
    try:
        paths.output_dir.mkdir(parents=True, exist_ok=True)
        paths.failure_file.write_text(line + "\n", encoding="utf-8")
    except OSError as e:
        logger.error("Could not write %s: %s", paths.failure_file, e)


def _load(config: TrainingConfig, hp: Hyperparameters) -> dict[str, Dataset]:
    if TRAIN_CHANNEL not in config.channels:
        given = ", ".join(sorted(config.channels)) or "none"
        raise DataError(
            f"The required channel '{TRAIN_CHANNEL}' is missing (channels given: {given})."
        )
    for name in sorted(set(config.channels) - {TRAIN_CHANNEL, VALIDATION_CHANNEL}):
        logger.info("Ignoring channel '%s': boostbox reads only train and validation.", name)
    loaded = {}
    for name in (TRAIN_CHANNEL, VALIDATION_CHANNEL):
        if name in config.channels:
            loaded[name] = channels.load_channel(
                config.paths.channel(name), config.channels[name], csv_weights=hp.csv_weights
            )
    if VALIDATION_CHANNEL in loaded:
        loaded[TRAIN_CHANNEL], loaded[VALIDATION_CHANNEL] = channels.align(
            loaded[TRAIN_CHANNEL], loaded[VALIDATION_CHANNEL]
        )
    for name, dataset in loaded.items():
        check_labels(hp, dataset, name)
    hp.check_features(loaded[TRAIN_CHANNEL].num_features)
    return loaded


def _save(result: FitResult, names: tuple[str, ...] | None, config: TrainingConfig) -> Path:
    metadata = ModelMetadata.from_booster(
        result.booster,
        best_iteration=result.best_iteration,
        best_score=result.best_score,
        eval_metric=result.eval_metric,
    )
    if names:
        metadata = replace(metadata, feature_names=names)
    return artifact.save(result.booster, config.paths.model_dir, metadata)


def _summary(
    hp: Hyperparameters, result: FitResult, loaded: dict[str, Dataset], seconds: dict[str, float]
) -> dict[str, Any]:
    return {
        "objective": hp.objective,
        "best_iteration": result.best_iteration,
        "best_score": result.best_score,
        "eval_metric": result.eval_metric,
        "rounds_trained": result.rounds_trained,
        "num_round": hp.num_round,
        "metrics": result.metrics,
        "rows": {name: ds.rows for name, ds in loaded.items()},
        "num_features": loaded[TRAIN_CHANNEL].num_features,
        "seconds": {key: round(value, 3) for key, value in seconds.items()},
    }


def run(config: TrainingConfig) -> dict[str, Any]:
    """The training job proper; returns the evaluation summary it also writes."""
    started = time.monotonic()
    config.paths.failure_file.unlink(missing_ok=True)
    config.paths.success_file.unlink(missing_ok=True)
    hp = hyperparameters.parse(config.hyperparameters, num_cpus=config.num_cpus)
    if len(config.hosts) > 1:
        logger.warning(
            "%d hosts: boostbox trains on this host's (%s) data only, not distributed.",
            len(config.hosts),
            config.current_host,
        )
    loaded = _load(config, hp)
    loaded_at = time.monotonic()
    checkpoints = Checkpoints(config.checkpoint_dir) if config.checkpoint_dir else None
    result = fit(hp, loaded[TRAIN_CHANNEL], loaded.get(VALIDATION_CHANNEL), checkpoints=checkpoints)
    trained_at = time.monotonic()
    model_path = _save(result, loaded[TRAIN_CHANNEL].feature_names, config)
    seconds = {
        "load": loaded_at - started,
        "train": trained_at - loaded_at,
        "save": time.monotonic() - trained_at,
    }
    summary = _summary(hp, result, loaded, seconds)
    config.paths.output_data_dir.mkdir(parents=True, exist_ok=True)
    summary_path = config.paths.output_data_dir / EVALUATION_FILE
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    config.paths.success_file.write_text("", encoding="utf-8")  # the toolkit's success marker
    logger.info(
        "Saved %s (best iteration %d, %s=%s); summary in %s.",
        model_path,
        result.best_iteration,
        result.eval_metric,
        result.best_score,
        summary_path,
    )
    return summary


def main(environ: Mapping[str, str] = os.environ, argv: Sequence[str] | None = None) -> int:
    """Run one training job; return the process exit code (0, 1 internal, 2 user error)."""
    del argv  # `train` takes no arguments; SageMaker passes none
    configure_logging()
    paths = OptMl(base_dir(environ))
    try:
        config = TrainingConfig.from_environ(environ)
        configure_logging(config.log_level)
        run(config)
    except MemoryError as e:
        logger.exception("Training ran out of memory")
        write_failure(paths, f"Internal error: out of memory ({e}); use a larger instance.")
        return AlgorithmError.exit_code
    except UserError as e:
        logger.error("Training failed: %s", e)
        write_failure(paths, str(e))
        return UserError.exit_code
    except PlatformError as e:
        logger.error("Training failed: %s", e)
        write_failure(paths, str(e))
        return PlatformError.exit_code
    except AlgorithmError as e:
        logger.exception("Training failed inside boostbox")
        write_failure(paths, f"Internal error: {e}")
        return AlgorithmError.exit_code
    except Exception as e:  # noqa: BLE001 - the last line of defence: one clean failure line
        logger.exception("Training failed with an unexpected error")
        write_failure(paths, f"Internal error ({type(e).__name__}): {e}")
        return AlgorithmError.exit_code
    return 0
