"""Cross-field rules: checks that look at several hyperparameters at once, as a list.

Each rule takes the draft (typed values so far, plus the raw strings for messages) and
raises HyperparameterError naming the key and value; `parsing.parse` runs them all in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from boostbox.errors import HyperparameterError
from boostbox.training.hyperparameters.table import (
    AUC_PREFIXES,
    LINEAR_UPDATERS,
    MULTI_OBJECTIVES,
    OTHER_UPDATERS,
    TREE_UPDATERS,
)
from boostbox.training.metrics import BINARY_ONLY, CLASSIFICATION

CONSTRAINT_METHODS = ("exact", "hist", "approx")


@dataclass
class Draft:
    """Typed values being checked, and the strings they came from (for messages)."""

    given: dict[str, str]
    typed: dict[str, Any]

    @property
    def objective(self) -> str:
        return str(self.typed.get("objective", "reg:squarederror"))

    @property
    def booster(self) -> str:
        return str(self.typed.get("booster", "gbtree"))

    @property
    def tree_method(self) -> str:
        return str(self.typed.get("tree_method", "hist"))


def num_round_required(draft: Draft) -> None:
    if "num_round" not in draft.typed:
        raise HyperparameterError(
            "Hyperparameter 'num_round' is required: expected an integer >= 1."
        )


def num_class_matches_objective(draft: Draft) -> None:
    num_class, objective = draft.typed.get("num_class"), draft.objective
    if objective in MULTI_OBJECTIVES and num_class is None:
        raise HyperparameterError(
            f"Hyperparameter 'num_class' is required with objective '{objective}': "
            "expected an integer >= 2."
        )
    if num_class is not None and objective not in MULTI_OBJECTIVES:
        raise HyperparameterError(
            f"Hyperparameter 'num_class' has value '{num_class}': only valid with objective "
            f"multi:softmax or multi:softprob, not '{objective}'."
        )


def auc_needs_ranking_objective(draft: Draft) -> None:
    metrics: tuple[str, ...] = draft.typed.get("eval_metric", ())
    if any(m.split("@")[0] in ("auc", "aucpr") for m in metrics) and not (
        draft.objective.startswith(AUC_PREFIXES)
    ):
        raise HyperparameterError(
            f"Hyperparameter 'eval_metric' has value '{draft.given['eval_metric']}': auc/aucpr "
            f"need a binary:, multi: or rank: objective, not '{draft.objective}'."
        )


SURVIVAL_METRICS = {"aft-nloglik": "survival:aft", "interval-regression-accuracy": "survival:aft"}
MULTI_METRICS = ("merror", "mlogloss")
MULTI_OK = ("merror", "mlogloss", "auc", "aucpr", *CLASSIFICATION)
"""Metrics that read a multi-class objective's num_class outputs per row."""


def _metric_error(draft: Draft, metric: str, needs: str) -> HyperparameterError:
    return HyperparameterError(
        f"Hyperparameter 'eval_metric' has value '{metric}', which needs {needs}, but "
        f"'objective' is '{draft.objective}'."
    )


def metrics_fit_objective(draft: Draft) -> None:
    """Pairs XGBoost only reports deep inside (e.g. 'Check failed: preds.Size() ==
    info.labels_lower_bound_.Size()'), named here with both settings before training."""
    objective = draft.objective
    multi = objective in MULTI_OBJECTIVES
    for metric in draft.typed.get("eval_metric", ()):
        base = metric.split("@")[0]
        if base in SURVIVAL_METRICS and objective != SURVIVAL_METRICS[base]:
            raise _metric_error(draft, metric, f"objective {SURVIVAL_METRICS[base]}")
        if base in MULTI_METRICS and not multi:
            raise _metric_error(draft, metric, "objective multi:softmax or multi:softprob")
        if multi and base.rstrip("-") not in MULTI_OK:
            raise _metric_error(
                draft, metric, "one value per row (a multi: objective gives num_class)"
            )
        if base in BINARY_ONLY and not objective.startswith("binary:"):
            raise _metric_error(draft, metric, "a binary: objective (positive class 1)")
        if base in CLASSIFICATION and not objective.startswith(("binary:", "multi:")):
            raise _metric_error(draft, metric, "a binary: or multi: objective")


def kfold_fits_objective(draft: Draft) -> None:
    if "_num_cv_round" in draft.typed and "_kfold" not in draft.typed:
        raise HyperparameterError(
            f"Hyperparameter '_num_cv_round' has value '{draft.given['_num_cv_round']}': "
            "it needs '_kfold' (the number of folds)."
        )
    if "_kfold" in draft.typed and draft.objective.startswith("rank:"):
        raise HyperparameterError(
            f"Hyperparameter '_kfold' has value '{draft.given['_kfold']}': k-fold splits rows, "
            f"which would cut the query groups objective '{draft.objective}' needs."
        )


def constraints_need_trees(draft: Draft) -> None:
    for name in ("interaction_constraints", "monotone_constraints"):
        if name in draft.typed and (
            draft.booster == "gblinear" or draft.tree_method not in CONSTRAINT_METHODS
        ):
            raise HyperparameterError(
                f"Hyperparameter '{name}' has value '{draft.given[name]}': needs a tree booster "
                f"with tree_method {'/'.join(CONSTRAINT_METHODS)}, not "
                f"{draft.booster}/{draft.tree_method}."
            )


def updater_fits_booster(draft: Draft) -> None:
    """One tree-growing plugin at most; gblinear takes exactly one linear updater."""
    updaters: tuple[str, ...] | None = draft.typed.get("updater")
    if updaters is None:
        return
    names = set(updaters)
    if draft.booster == "gblinear":
        ok = len(updaters) == 1 and names <= LINEAR_UPDATERS
        expected = "exactly one of shotgun, coord_descent for booster gblinear"
    else:
        ok = names <= TREE_UPDATERS | OTHER_UPDATERS and len(names & TREE_UPDATERS) <= 1
        expected = (
            "a comma list of at most one of " + ", ".join(sorted(TREE_UPDATERS)) + " plus "
            "prune/refresh/sync"
        )
    if not ok:
        raise HyperparameterError(
            f"Hyperparameter 'updater' has value '{draft.given['updater']}': expected {expected}."
        )


def update_needs_a_model(draft: Draft) -> None:
    if draft.typed.get("process_type") == "update":
        raise HyperparameterError(
            "Hyperparameter 'process_type' has value 'update': it modifies the trees of an "
            "existing model, and an algorithm-mode job starts from none; use 'default'."
        )


def sampling_needs_gpu(draft: Draft) -> None:
    if draft.typed.get("sampling_method") == "gradient_based":
        raise HyperparameterError(
            "Hyperparameter 'sampling_method' has value 'gradient_based': it needs a GPU, "
            "which this image does not have; use 'uniform'."
        )


def external_memory_needs_hist(draft: Draft) -> None:
    """XGBoost's external-memory matrix trains only hist trees, and k-fold splits rows in RAM."""
    if not draft.typed.get("external_memory"):
        return
    value = draft.given["external_memory"]
    if draft.booster == "gblinear" or draft.tree_method != "hist":
        raise HyperparameterError(
            f"Hyperparameter 'external_memory' has value '{value}': XGBoost trains from external "
            f"memory only with tree_method hist and a tree booster, not "
            f"{draft.booster}/{draft.tree_method}."
        )
    if "_kfold" in draft.typed:
        raise HyperparameterError(
            f"Hyperparameter 'external_memory' has value '{value}': k-fold cross-validation "
            "('_kfold') holds the data in memory; use one or the other."
        )


RULES: tuple[Callable[[Draft], None], ...] = (
    num_round_required,
    num_class_matches_objective,
    auc_needs_ranking_objective,
    metrics_fit_objective,
    kfold_fits_objective,
    constraints_need_trees,
    updater_fits_booster,
    update_needs_a_model,
    sampling_needs_gpu,
    external_memory_needs_hist,
)
"""Run in this order; the first that fails names the problem."""
