"""fit(): hyperparameters + datasets -> a Booster cut at its best iteration. No paths, no env.

Steps: build XGBoost's matrices -> pick the model to resume from (checkpoints) -> train with
early stopping and the metric-line callback -> cut at the best iteration -> final metrics.
The only side effects are log lines and whatever the checkpoint object writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xgboost as xgb

from boostbox.errors import AlgorithmError, DataError, UserError, xgboost_message
from boostbox.training import batches, external, metrics
from boostbox.training.batches import Batched, BatchIter
from boostbox.training.callbacks import EarlyStop, MetricLogger, RoundEnd
from boostbox.training.checkpoints import Checkpoints, Resumed
from boostbox.training.dataset import Dataset
from boostbox.training.hyperparameters import MULTI_OBJECTIVES, Hyperparameters

logger = logging.getLogger(__name__)

type Evals = list[tuple[Any, str]]

OUT_OF_MEMORY = ("std::bad_alloc", "Memory allocation error", "out of memory")
"""XGBoost error texts that mean the machine, not the job's inputs, is to blame."""


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
    stopped: bool = False
    """Training was cut short on request (SIGTERM), not by num_round or early stopping."""


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


def _blame(error: xgb.core.XGBoostError, what: str) -> Exception:
    """Out of memory is the platform's (exit 1); anything else XGBoost refuses is the job's."""
    message = xgboost_message(error)
    if any(marker in str(error) for marker in OUT_OF_MEMORY):
        return AlgorithmError(f"{what}: out of memory ({message}); use a larger instance.")
    return UserError(f"{what}: {message}")


def _bounds(hp: Hyperparameters) -> Callable[[Dataset], dict[str, Any]]:
    """survival:aft needs interval labels; a channel's one label column is an exact
    (uncensored) time: lower = upper = label (XGBoost otherwise fails deep inside)."""
    if hp.objective != "survival:aft":
        return lambda data: {}
    return lambda data: {"label_lower_bound": data.labels, "label_upper_bound": data.labels}


def _matrix(data: Dataset | Batched, hp: Hyperparameters, nthread: int, ref: Any = None) -> Any:
    hist = hp.booster != "gblinear" and hp.tree_method == "hist"
    params = {"nthread": nthread, "max_bin": hp.params.get("max_bin"), "ref": ref}
    if isinstance(data, Batched):
        if data.cache is not None:  # external memory: pages on disk
            return external.matrix(data, _bounds(hp), **params)
        if hist:  # batches in memory, binned batch by batch: no stacked copy
            return xgb.QuantileDMatrix(BatchIter(data, _bounds(hp)), **params)
        data = batches.stack(data)  # a plain DMatrix needs one matrix
    bounds = _bounds(hp)(data)
    if hist:
        return xgb.QuantileDMatrix(
            data.features, label=data.labels, weight=data.weights, **params, **bounds
        )
    matrix = xgb.DMatrix(data.features, label=data.labels, weight=data.weights, nthread=nthread)
    if bounds:
        matrix.set_info(**bounds)
    return matrix


def build_evals(
    hp: Hyperparameters,
    train: Dataset | Batched,
    validation: Dataset | Batched | None,
    nthread: int,
) -> Evals:
    """[(dtrain, "train"), (dvalidation, "validation")]: validation binned like train."""
    try:
        dtrain = _matrix(train, hp, nthread)
        evals: Evals = [(dtrain, "train")]
        if validation is not None:
            evals.append((_matrix(validation, hp, nthread, ref=dtrain), "validation"))
    except MemoryError as e:
        raise AlgorithmError("Out of memory building XGBoost's matrix.") from e
    except xgb.core.XGBoostError as e:
        raise DataError(f"XGBoost could not build its matrix: {xgboost_message(e)}") from e
    except ValueError as e:
        raise DataError(f"XGBoost could not build its matrix: {e}") from e
    return evals


def _early_stopping(hp: Hyperparameters, validation: Dataset | Batched | None) -> int | None:
    if hp.early_stopping_rounds is not None and validation is None:
        logger.warning(
            "early_stopping_rounds=%d ignored: no validation channel.", hp.early_stopping_rounds
        )
        return None
    return hp.early_stopping_rounds


@dataclass(frozen=True)
class Continuation:
    """Where training starts and how it may end early; all optional (a fresh, plain run)."""

    resumed: Resumed | None = None
    """A checkpoint of this job (model + early-stopping state) to continue from."""
    checkpoints: Checkpoints | None = None
    """Where to write checkpoints (None: not on this host)."""
    stop_requested: Callable[[], bool] = lambda: False
    """Polled after every round; True stops training (after a final checkpoint)."""
    log_metrics: bool = True

    @property
    def rounds_done(self) -> int:
        """Rounds the checkpoint already holds (0 for a fresh run)."""
        return self.resumed.rounds if self.resumed is not None else 0


type History = dict[str, dict[str, list[float]]]
"""XGBoost's evaluation log of the rounds trained in this run: data -> metric -> per round."""


def _train(
    hp: Hyperparameters, evals: Evals, early: int | None, how: Continuation
) -> tuple[xgb.Booster, bool, History]:
    """The booster, whether training was stopped on request, and the evaluation log of the
    rounds trained here."""
    start = how.resumed.booster if how.resumed is not None else None
    done = how.rounds_done
    history: History = {}
    if how.resumed is not None:
        logger.info("Resuming from a checkpoint with %d of %d rounds.", done, hp.num_round)
        if done >= hp.num_round:
            return how.resumed.booster, False, history
    stopping = None
    if early is not None:
        stopping = EarlyStop(
            early,
            how.resumed.stopping if how.resumed is not None else None,
            metric_name=hp.stopping_metric,
            data_name=evals[-1][1],
            maximize=metrics.maximize(hp.stopping_metric) if hp.stopping_metric else None,
        )
    end = RoundEnd(how.checkpoints, stopping, how.stop_requested)
    callbacks: list[xgb.callback.TrainingCallback] = [MetricLogger()] if how.log_metrics else []
    callbacks += [stopping, end] if stopping is not None else [end]
    try:
        booster = xgb.train(
            hp.xgb_params(),
            evals[0][0],
            num_boost_round=hp.num_round - done,
            evals=evals,
            callbacks=callbacks,
            custom_metric=_custom(hp),
            xgb_model=start,
            verbose_eval=False,
            evals_result=history,
        )
    except xgb.core.XGBoostError as e:
        raise _blame(e, "XGBoost rejected the training job") from e
    return booster, end.stopped_at is not None, history


def _cut(booster: xgb.Booster, early: int | None) -> tuple[xgb.Booster, int]:
    """The model up to its best iteration (early stopping), and that iteration."""
    rounds = booster.num_boosted_rounds()
    best_attr = booster.attr("best_iteration")
    best = int(best_attr) if early is not None and best_attr is not None else rounds - 1
    if best < rounds - 1:
        try:
            booster = booster[: best + 1]
        except (xgb.core.XGBoostError, ValueError) as e:
            logger.warning("Cannot cut the model at round %d (%s): keeping all.", best, e)
            return booster, rounds - 1
        logger.info("Early stopping: keeping rounds 0-%d of %d.", best, rounds)
    return booster, best


def _custom(hp: Hyperparameters) -> Any:
    """The official algorithm's own metrics as XGBoost's custom_metric, or None."""
    names = hp.custom_metrics
    return metrics.custom_metric(hp.objective, names) if names else None


def _logged_metrics(history: History, evals: Evals, index: int) -> dict[str, dict[str, float]]:
    """Round `index` (of this run's rounds) of the evaluation log, when it has every data set."""
    if not history or set(history) != {name for _, name in evals}:
        return {}
    out: dict[str, dict[str, float]] = {}
    for data, logs in history.items():
        if not logs or any(not 0 <= index < len(values) for values in logs.values()):
            return {}
        out[data] = {metric: float(values[index]) for metric, values in logs.items()}
    return out


def _final_metrics(
    booster: xgb.Booster, evals: Evals, hp: Hyperparameters
) -> dict[str, dict[str, float]]:
    """The kept model's metrics, evaluated: when the training log lacks them (xgboost.train
    drops its prediction cache on return, so this is a full pass over every data set: 0.5 s
    for 1M rows)."""
    out: dict[str, dict[str, float]] = {}
    custom = _custom(hp)
    if custom is not None:  # the same predictions custom_metric saw during training
        line = booster.eval_set(evals, iteration=0)
        line += "".join(
            f"\t{name}-{metric}:{value}"
            for data, name in evals
            for metric, value in custom(booster.predict(data), data)
        )
    else:
        line = booster.eval_set(evals, iteration=0)
    for item in str(line).split("\t")[1:]:
        key, _, value = item.rpartition(":")
        data, _, metric = key.partition("-")
        out.setdefault(data, {})[metric] = float(value)
    return out


def fit(
    hp: Hyperparameters,
    train: Dataset | Batched,
    validation: Dataset | Batched | None = None,
    *,
    how: Continuation | None = None,
) -> FitResult:
    """Train with early stopping on `validation`; return the model cut at its best round."""
    evals = build_evals(hp, train, validation, int(hp.xgb_params().get("nthread", 1)))
    early = _early_stopping(hp, validation)
    how = how or Continuation()
    trained, stopped, history = _train(hp, evals, early, how)
    score_attr = trained.attr("best_score")
    booster, best = _cut(trained, early)
    final = _logged_metrics(history, evals, best - how.rounds_done) or _final_metrics(
        booster, evals, hp
    )
    watched = final.get("validation") or final.get("train") or {}
    metric_name = hp.stopping_metric if hp.stopping_metric in watched else None
    metric_name = metric_name or (next(reversed(watched), None) if watched else None)
    best_score = (
        float(score_attr)
        if score_attr is not None and early is not None
        else (watched[metric_name] if metric_name else None)
    )
    rounds = trained.num_boosted_rounds()
    return FitResult(booster, best, best_score, rounds, metric_name, final, stopped)
