"""The official algorithm's own evaluation metrics, computed beside XGBoost's.

The official SageMaker XGBoost algorithm adds accuracy, balanced_accuracy, f1 (macro),
f1_binary, f1_macro, precision, precision_macro, precision_micro, recall, recall_macro,
recall_micro, mse and r2 to XGBoost's eval_metric names (its rmse and mae are XGBoost's own
here). They run as one XGBoost `custom_metric`, so each prints as its own field of the round's
metric line (`validation-accuracy:0.91`). XGBoost 3 hands custom metrics the objective's
prediction (probabilities, not margins): class labels are p > 0.5 for binary objectives
(margin > 0 for binary:logitraw), argmax for multi:softprob, the prediction itself for
multi:softmax; mse and r2 use the prediction (the official computes them on the raw
margin, which is wrong for log and logit links).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

CLASSIFICATION = (
    "accuracy",
    "balanced_accuracy",
    "f1",
    "f1_binary",
    "f1_macro",
    "precision",
    "precision_macro",
    "precision_micro",
    "recall",
    "recall_macro",
    "recall_micro",
)
BINARY_ONLY = ("f1_binary", "precision", "recall")
"""sklearn's average='binary' metrics: positive class 1, binary objectives only."""
REGRESSION = ("mse", "r2")
CUSTOM = (*CLASSIFICATION, *REGRESSION)

MAXIMIZE = frozenset({*CLASSIFICATION, "r2", "auc", "aucpr", "map", "ndcg", "pre"})
"""Metrics where larger is better (early stopping direction); the rest are minimised."""


def maximize(metric: str) -> bool:
    return metric.split("@")[0] in MAXIMIZE


def class_labels(objective: str, prediction: np.ndarray) -> np.ndarray:
    """Predicted class labels from what XGBoost predicts for `objective`."""
    if prediction.ndim > 1 and prediction.shape[1] > 1:
        return np.argmax(prediction, axis=1)
    flat = prediction.reshape(-1)
    if objective == "multi:softmax":
        return flat.astype(np.int64)
    threshold = 0.0 if objective == "binary:logitraw" else 0.5
    return (flat > threshold).astype(np.int64)


def _per_class(truth: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, ...]:
    classes = np.union1d(truth, pred)
    tp = np.asarray([np.sum((pred == c) & (truth == c)) for c in classes], dtype=np.float64)
    predicted = np.asarray([np.sum(pred == c) for c in classes], dtype=np.float64)
    actual = np.asarray([np.sum(truth == c) for c in classes], dtype=np.float64)
    return tp, predicted, actual


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.divide(top, bottom, out=np.zeros_like(top), where=bottom > 0)
    return out


def _macro(kind: str, truth: np.ndarray, pred: np.ndarray) -> float:
    tp, predicted, actual = _per_class(truth, pred)
    precision, recall = _ratio(tp, predicted), _ratio(tp, actual)
    if kind == "precision":
        return float(precision.mean())
    if kind == "recall":
        return float(recall.mean())
    return float(_ratio(2 * precision * recall, precision + recall).mean())


def _binary(kind: str, truth: np.ndarray, pred: np.ndarray) -> float:
    tp = float(np.sum((pred == 1) & (truth == 1)))
    precision = tp / max(float(np.sum(pred == 1)), 1.0) if np.any(pred == 1) else 0.0
    recall = tp / float(np.sum(truth == 1)) if np.any(truth == 1) else 0.0
    if kind == "precision":
        return precision
    if kind == "recall":
        return recall
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def classification(name: str, truth: np.ndarray, pred: np.ndarray) -> float:
    """One classification metric of integer labels, as sklearn defines it."""
    if name in ("accuracy", "precision_micro", "recall_micro"):
        return float(np.mean(truth == pred))
    if name == "balanced_accuracy":
        classes = np.unique(truth)
        return float(np.mean([np.mean(pred[truth == c] == c) for c in classes]))
    if name in ("f1", "f1_macro"):
        return _macro("f1", truth, pred)
    if name in ("precision_macro", "recall_macro"):
        return _macro(name.split("_")[0], truth, pred)
    return _binary(name.removesuffix("_binary"), truth, pred)


def regression(name: str, truth: np.ndarray, pred: np.ndarray) -> float:
    residual = float(np.sum((truth - pred) ** 2))
    if name == "mse":
        return residual / max(len(truth), 1)
    total = float(np.sum((truth - truth.mean()) ** 2))
    if total == 0:
        return 1.0 if residual == 0 else 0.0
    return 1.0 - residual / total


def custom_metric(objective: str, names: tuple[str, ...]) -> Callable[[Any, Any], Any]:
    """XGBoost custom_metric computing `names` (in order) from predictions and labels."""

    def evaluate(prediction: np.ndarray, data: Any) -> list[tuple[str, float]]:
        truth = np.asarray(data.get_label(), dtype=np.float64)
        prediction = np.asarray(prediction, dtype=np.float64)
        out = []
        for name in names:
            if name in REGRESSION:
                value = regression(name, truth, prediction.reshape(-1))
            else:
                labels = class_labels(objective, prediction)
                value = classification(name, truth.astype(np.int64), labels)
            out.append((name, value))
        return out

    return evaluate
