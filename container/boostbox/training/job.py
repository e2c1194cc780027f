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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from boostbox import artifact
from boostbox.artifact import ModelMetadata
from boostbox.config import TRAIN_CHANNEL, VALIDATION_CHANNEL, TrainingConfig, base_dir
from boostbox.errors import AlgorithmError, PlatformError, UserError
from boostbox.paths import OptMl
from boostbox.training import channels, hyperparameters, kfold
from boostbox.training.batches import stack
from boostbox.training.dataset import Dataset
from boostbox.training.distributed import (
    Cluster,
    PeerLost,
    check_params,
)
from boostbox.training.hyperparameters import Hyperparameters
from boostbox.training.loading import load
from boostbox.training.outputs import save_model, summary, write_monitoring_baseline
from boostbox.training.script import run_script
from boostbox.training.termination import Termination
from boostbox.training.together import fit_on_hosts

logger = logging.getLogger(__name__)


class Stopped(AlgorithmError):
    """SIGTERM ended training before num_round and no partial model was asked for."""

    exit_code = 143  # 128 + SIGTERM, what a shell reports for a terminated process


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


def _abort_on_lost_peer(paths: OptMl) -> Callable[[PeerLost], None]:
    """The watchdog's verdict: XGBoost may sit in a socket poll, so end the process here."""

    def abort(error: PeerLost) -> None:
        logger.error("Training failed: %s", error)
        write_failure(paths, str(error))
        logging.shutdown()
        os._exit(AlgorithmError.exit_code)

    return abort


PREDICTIONS_FILE = "predictions.csv"
"""k-fold's out-of-fold predictions in output/data (the official file name and layout)."""


def run_kfold(
    config: TrainingConfig, hp: Hyperparameters, loaded: dict[str, Dataset]
) -> dict[str, Any]:
    """k-fold: fold models `xgboost-model-<i>`, predictions.csv, evaluation.json."""
    data = loaded[TRAIN_CHANNEL]
    if VALIDATION_CHANNEL in loaded:
        data = channels.join(data, loaded[VALIDATION_CHANNEL])
    if config.checkpoint_dir:
        logger.warning("Checkpoints are not written during k-fold cross-validation.")
    result = kfold.cross_validate(hp, data)
    model_dir = config.paths.model_dir
    for number, fold in enumerate(result.folds):
        metadata = ModelMetadata.from_booster(
            fold.booster, eval_metric=fold.eval_metric, best_score=fold.best_score
        )
        if data.feature_names:
            metadata = replace(metadata, feature_names=data.feature_names)
        artifact.save(fold.booster, model_dir, metadata, fold=number)
    output = config.paths.output_data_dir
    output.mkdir(parents=True, exist_ok=True)
    np.savetxt(output / PREDICTIONS_FILE, result.predictions, delimiter=",", fmt="%f")
    summary = {
        "objective": hp.objective,
        "kfold": hp.kfold,
        "num_cv_round": hp.num_cv_round,
        "models": len(result.folds),
        "best_iterations": [fold.best_iteration for fold in result.folds],
        "metrics": result.summary,
        "rows": data.rows,
        "num_features": data.num_features,
    }
    (output / EVALUATION_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    config.paths.success_file.write_text("", encoding="utf-8")
    logger.info(
        "Saved %d fold models in %s; out-of-fold predictions in %s.",
        len(result.folds),
        model_dir,
        output / PREDICTIONS_FILE,
    )
    return summary


def run(config: TrainingConfig) -> dict[str, Any]:
    """The training job proper; returns the evaluation summary it also writes."""
    started = time.monotonic()
    config.paths.failure_file.unlink(missing_ok=True)
    config.paths.success_file.unlink(missing_ok=True)
    logger.info(
        "Training job %s on %s (%d CPUs).",
        config.job_name or "(local)",
        config.current_host,
        config.num_cpus,
    )
    hp = hyperparameters.parse(config.hyperparameters, num_cpus=config.num_cpus)
    cluster = Cluster(config.hosts, config.current_host)
    check_params(hp.xgb_params(), cluster)
    loaded = load(config, hp, cluster)
    if hp.kfold:
        if cluster.size > 1:
            raise UserError("k-fold cross-validation (_kfold) runs on one host only.")
        in_memory = {k: v if isinstance(v, Dataset) else stack(v) for k, v in loaded.items()}
        return run_kfold(config, hp, in_memory)
    loaded_at = time.monotonic()
    with Termination().installed() as termination:
        result = fit_on_hosts(
            config, hp, cluster, loaded, termination, _abort_on_lost_peer(config.paths)
        )
    trained_at = time.monotonic()
    if result.stopped and not hp.save_model_on_termination:
        where = f"; last checkpoint in {config.checkpoint_dir}" if config.checkpoint_dir else ""
        raise Stopped(
            f"Training stopped by SIGTERM after {result.rounds_trained} of {hp.num_round} rounds"
            f"{where}. Set save_model_on_termination=true to keep the partial model."
        )
    if not cluster.is_leader:
        logger.info(
            "Host %s trained as rank %d; %s writes the model.",
            cluster.current_host,
            cluster.rank,
            cluster.leader,
        )
        config.paths.output_dir.mkdir(parents=True, exist_ok=True)
        config.paths.success_file.write_text("", encoding="utf-8")
        return {"rank": cluster.rank, "rounds_trained": result.rounds_trained}
    model_path = save_model(result, loaded[TRAIN_CHANNEL].feature_names, config)
    saved_at = time.monotonic()
    if hp.baseline:
        write_monitoring_baseline(result, loaded, config)
    seconds = {
        "load": loaded_at - started,
        "train": trained_at - loaded_at,
        "save": saved_at - trained_at,
        "baseline": time.monotonic() - saved_at,
    }
    report = summary(hp, result, loaded, seconds)
    config.paths.output_data_dir.mkdir(parents=True, exist_ok=True)
    summary_path = config.paths.output_data_dir / EVALUATION_FILE
    summary_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    config.paths.success_file.write_text("", encoding="utf-8")  # the toolkit's success marker
    logger.info(
        "Saved %s (best iteration %d, %s=%s); summary in %s.",
        model_path,
        result.best_iteration,
        result.eval_metric,
        result.best_score,
        summary_path,
    )
    return report


def main(environ: Mapping[str, str] = os.environ, argv: Sequence[str] | None = None) -> int:
    """Run one training job; return the process exit code (0, 1 internal, 2 user error)."""
    del argv  # `train` takes no arguments; SageMaker passes none
    configure_logging()
    paths = OptMl(base_dir(environ))
    try:
        config = TrainingConfig.from_environ(environ)
        configure_logging(config.log_level)
        if config.program is not None:
            return run_script(config, environ)
        run(config)
    except MemoryError as e:
        logger.exception("Training ran out of memory")
        write_failure(paths, f"Internal error: out of memory ({e}); use a larger instance.")
        return AlgorithmError.exit_code
    except (UserError, PlatformError) as e:  # one line says what to fix; no traceback
        logger.error("Training failed: %s", e)
        write_failure(paths, str(e))
        return e.exit_code
    except PeerLost as e:
        # XGBoost's communicator and tracker are mid-operation: their destructors crash at
        # interpreter exit, so leave without running them once the failure line is written.
        logger.error("Training failed: %s", e)
        write_failure(paths, str(e))
        logging.shutdown()
        os._exit(PeerLost.exit_code)
    except Stopped as e:
        logger.warning("%s", e)
        write_failure(paths, str(e))
        return Stopped.exit_code
    except AlgorithmError as e:
        logger.exception("Training failed inside boostbox")
        write_failure(paths, f"Internal error: {e}")
        return AlgorithmError.exit_code
    except Exception as e:  # the last line of defence: one clean failure line
        logger.exception("Training failed with an unexpected error")
        write_failure(paths, f"Internal error ({type(e).__name__}): {e}")
        return AlgorithmError.exit_code
    return 0
