"""k-fold cross-validation (`_kfold`, `_num_cv_round`), as the official algorithm offers it.

train and validation are joined and split into `_kfold` folds, stratified by label for
classification objectives (binary:*, multi:*) and plain otherwise, repeated `_num_cv_round`
times with other splits. Each fold trains on the other folds and early-stops on ITS OWN
held-out fold (the official container early-stops every fold on the global validation
channel, which lies inside the fold's training rows: a leak boostbox does not copy). The
result: one model per fold, out-of-fold predictions in the official layout, and the CV
summary printed as metric lines (`[num_round]<TAB>train-m:<mean><TAB>validation-m:<mean>`,
per repeat and overall) so HPO on validation metrics works.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import xgboost as xgb

from boostbox.errors import DataError
from boostbox.imports import readmit
from boostbox.training.callbacks import metrics_logger
from boostbox.training.dataset import Dataset
from boostbox.training.fit import FitResult, fit
from boostbox.training.hyperparameters import Hyperparameters
from boostbox.training.metrics import class_labels

logger = logging.getLogger(__name__)

LABEL_OBJECTIVES = ("multi:softmax", "binary:hinge")
"""Objectives whose prediction is already a class label."""


@dataclass(frozen=True)
class CrossValidation:
    """Every fold's model (fold order) and the out-of-fold predictions table."""

    folds: list[FitResult]
    predictions: np.ndarray
    """Rows in data order: y_true, mean prediction[, predicted label] (official layout)."""
    summary: dict[str, dict[str, float]]
    """Mean final metric per channel over every fold, e.g. {"validation": {"rmse": 0.6}}."""


def is_classification(hp: Hyperparameters) -> bool:
    return hp.objective.startswith(("binary:", "multi:"))


def splits(hp: Hyperparameters, labels: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, held-out rows) per fold, repeat after repeat; seeded by `seed`."""
    readmit()  # `train` keeps scikit-learn out of the import graph until here
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

    k, repeats = int(hp.kfold or 0), hp.num_cv_round
    seed = int(hp.params.get("seed", 0))
    rows = len(labels)
    if rows < k:
        raise DataError(f"Hyperparameter '_kfold' is {k} but train + validation hold {rows} rows.")
    if is_classification(hp):
        counts = np.unique(labels, return_counts=True)[1]
        if counts.min() < k:
            raise DataError(
                f"Hyperparameter '_kfold' is {k}, but a class has only {int(counts.min())} "
                "row(s): stratified folds need at least _kfold rows of every class."
            )
        stratified = RepeatedStratifiedKFold(n_splits=k, n_repeats=repeats, random_state=seed)
        return list(stratified.split(np.zeros(rows), labels))
    plain = RepeatedKFold(n_splits=k, n_repeats=repeats, random_state=seed)
    return list(plain.split(np.zeros(rows)))


def subset(data: Dataset, rows: np.ndarray) -> Dataset:
    features = data.features[rows]
    return Dataset(
        features=sp.csr_matrix(features) if sp.issparse(features) else features,
        labels=data.labels[rows],
        weights=None if data.weights is None else data.weights[rows],
        feature_names=data.feature_names,
        files=data.files,
    )


def _label_and_score(hp: Hyperparameters, prediction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the predicted label and the score the official table reports beside it."""
    labels = class_labels(hp.objective, prediction).astype(np.float64)
    if prediction.ndim > 1:
        return labels, prediction[np.arange(len(labels)), labels.astype(np.int64)]
    if hp.objective in LABEL_OBJECTIVES:
        return labels, np.ones_like(labels)  # a label has no score: the vote share below
    return labels, prediction.astype(np.float64)


def _mode(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row most frequent label over repeats (ties: the smaller) and its share."""
    counts = (labels[:, :, None] == labels[:, None, :]).sum(axis=2)
    best = counts.max(axis=1, keepdims=True)
    mode = np.where(counts == best, labels, np.inf).min(axis=1)
    return mode, best[:, 0] / labels.shape[1]


def predictions_table(
    hp: Hyperparameters, truth: np.ndarray, per_repeat: list[np.ndarray]
) -> np.ndarray:
    """y_true, mean prediction (regression) or y_true, mean score, modal label (classes)."""
    if not is_classification(hp):
        return np.column_stack([truth, np.mean(per_repeat, axis=0)])
    pairs = [_label_and_score(hp, p) for p in per_repeat]
    labels = np.column_stack([label for label, _ in pairs])
    scores = np.column_stack([score for _, score in pairs])
    mode, share = _mode(labels)
    score = share if hp.objective in LABEL_OBJECTIVES else scores.mean(axis=1)
    return np.column_stack([truth, score, mode])


type Means = dict[str, dict[str, float]]


def summary_line(num_round: int, results: list[FitResult]) -> tuple[str, Means]:
    """The CV report as XGBoost's metric line: each metric's mean over `results`."""
    means: Means = {}
    line = f"[{num_round}]"
    for channel in ("train", "validation"):
        names = list(results[0].metrics.get(channel, {}))
        for name in names:
            mean = float(np.mean([r.metrics[channel][name] for r in results]))
            means.setdefault(channel, {})[name] = mean
            line += f"\t{channel}-{name}:{mean:.5f}"
    return line, means


def _predict(booster: xgb.Booster, data: Dataset) -> np.ndarray:
    return np.asarray(booster.predict(xgb.DMatrix(data.features, missing=np.nan)))


def cross_validate(hp: Hyperparameters, data: Dataset) -> CrossValidation:
    """Train one model per fold, each early-stopping on its own held-out rows."""
    k = int(hp.kfold or 0)
    folds = splits(hp, data.labels)
    results: list[FitResult] = []
    shape: tuple[int, ...] = (data.rows,)
    if hp.objective == "multi:softprob":
        shape = (data.rows, int(hp.num_class or 0))
    per_repeat = [np.zeros(shape) for _ in range(hp.num_cv_round)]
    for number, (train_rows, held_rows) in enumerate(folds):
        repeat = number // k
        logger.info(
            "Cross-validation: repeat %d of %d, fold %d of %d (%d training rows, %d held out).",
            repeat + 1,
            hp.num_cv_round,
            number % k + 1,
            k,
            len(train_rows),
            len(held_rows),
        )
        held = subset(data, held_rows)
        result = fit(hp, subset(data, train_rows), held)
        results.append(result)
        per_repeat[repeat][held_rows] = _predict(result.booster, held)
        if (number + 1) % k == 0:
            line, _ = summary_line(hp.num_round, results[-k:])
            logger.info("Cross-validation repeat %d: mean of %d folds:", repeat + 1, k)
            metrics_logger.info(line)
    line, means = summary_line(hp.num_round, results)
    if hp.num_cv_round > 1:
        logger.info("Cross-validation: mean of all %d folds:", len(results))
        metrics_logger.info(line)
    table = predictions_table(hp, data.labels.astype(np.float64), per_repeat)
    return CrossValidation(results, table, means)
