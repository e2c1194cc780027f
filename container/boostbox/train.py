"""fit(): hyperparameters + datasets -> a Booster cut at its best iteration. No paths, no env.

The only side effects are log lines (the per-round metric line SageMaker's HPO parses) and,
when asked, checkpoint files so a restarted job resumes instead of starting over.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from boostbox.data import Dataset
from boostbox.errors import DataError, UserError
from boostbox.hyperparameters import MULTI_OBJECTIVES, Hyperparameters

logger = logging.getLogger(__name__)
metrics_logger = logging.getLogger("boostbox.metrics")
"""Carries only `[i]\\ttrain-m:v\\tvalidation-m:v` lines; main() gives it a bare format."""

CHECKPOINT_PREFIX = "xgboost-checkpoint."
CHECKPOINTS_KEPT = 2


@dataclass(frozen=True)
class FitResult:
    """The trained model (already cut at best_iteration) and what happened during training."""

    booster: xgb.Booster
    best_iteration: int
    best_score: float | None
    rounds_trained: int
    eval_metric: str | None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    """Final metrics of the saved model per channel, e.g. {"validation": {"rmse": 0.6}}."""


def format_metrics(epoch: int, evals_log: Any) -> str:
    """XGBoost's EvaluationMonitor line, the format SageMaker HPO metric regexes expect."""
    line = f"[{epoch}]"
    for data, metrics in evals_log.items():
        for name, scores in metrics.items():
            score = scores[-1][0] if isinstance(scores[-1], tuple) else scores[-1]
            line += f"\t{data}-{name}:{score:.5f}"
    return line


class _Resumable(xgb.callback.TrainingCallback):
    """Numbers rounds from the resumed model's size (xgb.train restarts `epoch` at 0)."""

    start = 0

    def before_training(self, model: Any) -> Any:
        self.start = model.num_boosted_rounds()
        return model


class MetricLogger(_Resumable):
    """Writes one metric line per round through logging (EvaluationMonitor prints)."""

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        if evals_log:
            metrics_logger.info(format_metrics(self.start + epoch, evals_log))
        return False


class Checkpointer(_Resumable):
    """Saves the model every `every` rounds to `folder`, keeping the latest few."""

    def __init__(self, folder: Path, every: int) -> None:
        super().__init__()
        self.folder = folder
        self.every = every

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        rounds = self.start + epoch + 1
        if rounds % self.every == 0:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / f"{CHECKPOINT_PREFIX}{rounds}"
            partial = target.with_suffix(".partial")
            partial.write_bytes(bytes(model.save_raw(raw_format="ubj")))
            partial.replace(target)
            for old, _ in list_checkpoints(self.folder)[:-CHECKPOINTS_KEPT]:
                old.unlink(missing_ok=True)
        return False


def list_checkpoints(folder: Path) -> list[tuple[Path, int]]:
    """Checkpoint files and their round counts, oldest first."""
    found = []
    for path in folder.glob(f"{CHECKPOINT_PREFIX}*"):
        suffix = path.name[len(CHECKPOINT_PREFIX) :]
        if suffix.isdigit():
            found.append((path, int(suffix)))
    return sorted(found, key=lambda item: item[1])


def latest_checkpoint(folder: Path) -> xgb.Booster | None:
    """The newest loadable checkpoint, or None (a corrupt one is skipped with a warning)."""
    for path, _ in reversed(list_checkpoints(folder)):
        booster = xgb.Booster()
        try:
            booster.load_model(bytearray(path.read_bytes()))
        except xgb.core.XGBoostError as e:
            logger.warning("Skipping unreadable checkpoint %s: %s", path, str(e).splitlines()[0])
            continue
        return booster
    return None


def check_labels(hp: Hyperparameters, data: Dataset, channel: str) -> None:
    """Labels the objective cannot take fail here with the channel named, not deep in XGBoost."""
    labels = data.labels
    if hp.objective in MULTI_OBJECTIVES and hp.num_class is not None:
        bad = (labels < 0) | (labels >= hp.num_class) | (labels != np.floor(labels))
        expected = f"integers 0 to {hp.num_class - 1} (num_class={hp.num_class})"
    elif hp.objective in ("binary:logistic", "reg:logistic"):
        bad = (labels < 0) | (labels > 1)
        expected = "in [0, 1]"
    elif hp.objective == "count:poisson":
        bad = labels < 0
        expected = ">= 0"
    else:
        return
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"Channel '{channel}': row {row + 1} has label {labels[row]:g}, but objective "
            f"'{hp.objective}' needs labels {expected}."
        )


def _matrix(data: Dataset, hp: Hyperparameters, nthread: int, ref: Any = None) -> Any:
    if hp.booster != "gblinear" and hp.tree_method == "hist":
        return xgb.QuantileDMatrix(
            data.features,
            label=data.labels,
            weight=data.weights,
            nthread=nthread,
            max_bin=hp.params.get("max_bin"),
            ref=ref,
        )
    return xgb.DMatrix(data.features, label=data.labels, weight=data.weights, nthread=nthread)


def xgboost_message(error: Exception) -> str:
    """XGBoost's 'Check failed' text without the timestamp, source path and stack trace."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    chosen = next((ln for ln in lines if "Check failed" in ln), lines[0] if lines else "")
    return re.sub(r"^\[[\d:]+\]\s+\S+:\d+:\s*", "", chosen)


def _final_metrics(
    booster: xgb.Booster, evals: list[tuple[Any, str]]
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for item in str(booster.eval_set(evals, iteration=0)).split("\t")[1:]:
        key, _, value = item.rpartition(":")
        data, _, metric = key.partition("-")
        out.setdefault(data, {})[metric] = float(value)
    return out


def fit(
    hp: Hyperparameters,
    train: Dataset,
    validation: Dataset | None = None,
    *,
    checkpoint_dir: Path | None = None,
    checkpoint_every: int = 10,
    log_metrics: bool = True,
) -> FitResult:
    """Train with early stopping on `validation`; return the model cut at its best round."""
    params = hp.xgb_params()
    nthread = int(params.get("nthread", 1))
    try:
        dtrain = _matrix(train, hp, nthread)
        evals: list[tuple[Any, str]] = [(dtrain, "train")]
        if validation is not None:
            evals.append((_matrix(validation, hp, nthread, ref=dtrain), "validation"))
    except (xgb.core.XGBoostError, ValueError) as e:
        raise DataError(f"XGBoost could not build its matrix: {xgboost_message(e)}") from e

    early = hp.early_stopping_rounds
    if early is not None and validation is None:
        logger.warning("early_stopping_rounds=%d ignored: no validation channel.", early)
        early = None
    callbacks: list[xgb.callback.TrainingCallback] = [MetricLogger()] if log_metrics else []
    start: xgb.Booster | None = None
    if checkpoint_dir is not None:
        callbacks.append(Checkpointer(checkpoint_dir, checkpoint_every))
        start = latest_checkpoint(checkpoint_dir)
    done = start.num_boosted_rounds() if start is not None else 0
    if start is not None:
        logger.info("Resuming from a checkpoint with %d of %d rounds.", done, hp.num_round)

    try:
        if done >= hp.num_round and start is not None:
            booster = start
        else:
            booster = xgb.train(
                params,
                dtrain,
                num_boost_round=hp.num_round - done,
                evals=evals,
                early_stopping_rounds=early,
                callbacks=callbacks,
                xgb_model=start,
                verbose_eval=False,
            )
    except xgb.core.XGBoostError as e:
        raise UserError(f"XGBoost rejected the training job: {xgboost_message(e)}") from e

    rounds = booster.num_boosted_rounds()
    best_attr = booster.attr("best_iteration")
    score_attr = booster.attr("best_score")
    best = int(best_attr) if early is not None and best_attr is not None else rounds - 1
    if best < rounds - 1:
        try:
            booster = booster[: best + 1]
        except (xgb.core.XGBoostError, ValueError) as e:
            logger.warning("Cannot cut the model at round %d (%s): keeping all.", best, e)
            best = rounds - 1
        else:
            logger.info("Early stopping: keeping rounds 0-%d of %d.", best, rounds)
    metrics = _final_metrics(booster, evals)
    watched = metrics.get("validation") or metrics.get("train") or {}
    metric_name = next(reversed(watched), None) if watched else None
    best_score = (
        float(score_attr)
        if score_attr is not None and early is not None
        else (watched[metric_name] if metric_name else None)
    )
    return FitResult(booster, best, best_score, rounds, metric_name, metrics)
