"""The built-in algorithm's hyperparameters, declared as data and parsed from strings once.

SageMaker writes every value as a string. Each name is declared with its type, range and
aliases (see CONTRACTS.md); parsing converts it once, checks ranges and dependencies, and
rejects unknown names. Names XGBoost 3 no longer reads are accepted and dropped, with a log
line, so a job written for the official image runs here unchanged. Nothing is ever eval'd.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from boostbox.errors import HyperparameterError
from boostbox.hpspec import SPECS, Spec, describe

logger = logging.getLogger(__name__)

ALIASES = {
    "learning_rate": "eta",
    "reg_alpha": "alpha",
    "reg_lambda": "lambda",
    "min_split_loss": "gamma",
}
"""XGBoost's sklearn-style names for the built-in algorithm's names."""

NOT_PASSED = frozenset(
    {"num_round", "early_stopping_rounds", "csv_weights", "save_model_on_termination"}
)
"""Read by boostbox itself, not by xgboost.train's params."""

DROPPED = frozenset(
    {
        "deterministic_histogram",
        "dsplit",
        "lambda_bias",
        "predictor",
        "prob_buffer_row",
        "single_precision_histogram",
        "sketch_eps",
        "use_dask_gpu_training",
    }
)
"""Accepted for compatibility with the official image; XGBoost 3 no longer reads them."""

DART_ONLY = ("normalize_type", "one_drop", "rate_drop", "sample_type", "skip_drop")

ONLY_WITH = {
    **{name: ("booster", "dart") for name in DART_ONLY},
    "tweedie_variance_power": ("objective", "reg:tweedie"),
    "aft_loss_distribution": ("objective", "survival:aft"),
    "aft_loss_distribution_scale": ("objective", "survival:aft"),
}
"""Dropped with a log line otherwise, instead of XGBoost's 'Parameters ... are not used'."""

UNSUPPORTED = {
    "_kfold": "k-fold cross-validation is not implemented by boostbox",
    "_num_cv_round": "k-fold cross-validation is not implemented by boostbox",
}

MULTI_OBJECTIVES = ("multi:softmax", "multi:softprob")
AUC_PREFIXES = ("binary:", "rank:", "multi:")


@dataclass(frozen=True)
class Hyperparameters:
    """A validated job configuration: what boostbox reads plus XGBoost's params."""

    num_round: int
    objective: str = "reg:squarederror"
    num_class: int | None = None
    early_stopping_rounds: int | None = None
    csv_weights: bool = False
    eval_metric: tuple[str, ...] = ()
    """Empty means the objective's default metric (which then drives early stopping)."""
    booster: str = "gbtree"
    tree_method: str = "hist"
    interaction_constraints: tuple[tuple[int, ...], ...] | None = None
    monotone_constraints: tuple[int, ...] | None = None
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Everything else for xgboost.train, already typed (eta, max_depth, nthread, ...)."""

    def xgb_params(self) -> dict[str, Any]:
        """The full params dict for xgboost.train (a fresh copy the caller may extend)."""
        # XGBoost 3.4 deprecates booster=dart: gbtree plus the dropout params is its successor.
        booster = "gbtree" if self.booster == "dart" else self.booster
        out: dict[str, Any] = {"objective": self.objective, "booster": booster}
        if self.booster != "gblinear":
            out["tree_method"] = self.tree_method
        out.update({k: ",".join(v) if isinstance(v, tuple) else v for k, v in self.params.items()})
        if self.num_class is not None:
            out["num_class"] = self.num_class
        if self.eval_metric:
            out["eval_metric"] = list(self.eval_metric)
        if self.interaction_constraints is not None:
            out["interaction_constraints"] = str([list(g) for g in self.interaction_constraints])
        if self.monotone_constraints is not None:
            out["monotone_constraints"] = "(" + ",".join(map(str, self.monotone_constraints)) + ")"
        return out

    def check_features(self, num_features: int) -> None:
        """Constraints that name features must fit the data (XGBoost 3 crashes otherwise)."""
        if self.interaction_constraints is not None:
            for group in self.interaction_constraints:
                for index in group:
                    if index >= num_features:
                        raise HyperparameterError(
                            f"Hyperparameter 'interaction_constraints' has value "
                            f"'{[list(g) for g in self.interaction_constraints]}': feature "
                            f"index {index} does not exist (the data has {num_features} "
                            f"features, indices 0-{num_features - 1})."
                        )
        if self.monotone_constraints is not None and len(self.monotone_constraints) > num_features:
            raise HyperparameterError(
                f"Hyperparameter 'monotone_constraints' has value "
                f"'{self.monotone_constraints}': {len(self.monotone_constraints)} entries but "
                f"the data has only {num_features} features."
            )


def _canonical(raw: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    seen_as: dict[str, str] = {}
    for key, value in raw.items():
        if key.startswith("sagemaker_") or key == "_tuning_objective_metric":
            logger.info("Ignoring SageMaker-internal hyperparameter %s=%s.", key, value)
            continue
        name = ALIASES.get(key, key)
        if name in UNSUPPORTED:
            raise HyperparameterError(
                f"Hyperparameter '{key}' has value '{value}': {UNSUPPORTED[name]}."
            )
        if name not in SPECS:
            close = difflib.get_close_matches(key, [*SPECS, *ALIASES], n=3)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise HyperparameterError(f"Hyperparameter '{key}' is not known.{hint}")
        if name in seen_as:
            raise HyperparameterError(
                f"Hyperparameter '{key}' has value '{value}': '{key}' and "
                f"'{seen_as[name]}' are the same hyperparameter; set only one."
            )
        seen_as[name] = key
        out[name] = value
    return out


def _convert(name: str, spec: Spec, value: str) -> Any:
    try:
        return spec.parse(value)
    except ValueError:
        raise HyperparameterError(
            f"Hyperparameter '{name}' has value '{value}': expected {describe(spec)}."
        ) from None


def parse(raw: Mapping[str, str], *, num_cpus: int = 1) -> Hyperparameters:
    """Convert hyperparameters.json's strings once; raise HyperparameterError naming the key."""
    given = _canonical(raw)
    typed: dict[str, Any] = {name: _convert(name, SPECS[name], v) for name, v in given.items()}
    if "num_round" not in typed:
        raise HyperparameterError(
            f"Hyperparameter 'num_round' is required: expected {describe(SPECS['num_round'])}."
        )
    objective = str(typed.pop("objective", "reg:squarederror"))
    if objective == "reg:linear":
        logger.warning("objective 'reg:linear' is deprecated: training with 'reg:squarederror'.")
        objective = "reg:squarederror"
    num_class = typed.pop("num_class", None)
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
    booster = str(typed.pop("booster", "gbtree"))
    tree_method = str(typed.pop("tree_method", "hist"))
    if tree_method == "gpu_hist":
        logger.warning("tree_method 'gpu_hist': this image has no GPU, training with 'hist'.")
        tree_method = "hist"
    if tree_method == "auto":
        tree_method = "hist"  # what XGBoost >= 2 picks for 'auto' anyway
    metrics: tuple[str, ...] = typed.pop("eval_metric", ())
    if any(m.split("@")[0] in ("auc", "aucpr") for m in metrics) and not objective.startswith(
        AUC_PREFIXES
    ):
        raise HyperparameterError(
            f"Hyperparameter 'eval_metric' has value '{given['eval_metric']}': auc/aucpr need a "
            f"binary:, multi: or rank: objective, not '{objective}'."
        )
    interaction = typed.pop("interaction_constraints", None)
    monotone = typed.pop("monotone_constraints", None)
    for name, value, allowed in (
        ("interaction_constraints", interaction, ("exact", "hist", "approx")),
        ("monotone_constraints", monotone, ("exact", "hist", "approx")),
    ):
        if value is not None and (booster == "gblinear" or tree_method not in allowed):
            raise HyperparameterError(
                f"Hyperparameter '{name}' has value '{given[name]}': needs a tree booster "
                f"with tree_method {'/'.join(allowed)}, not {booster}/{tree_method}."
            )
    _check_updater(typed.get("updater"), booster, given.get("updater", ""))
    if typed.get("sampling_method") == "gradient_based":
        raise HyperparameterError(
            "Hyperparameter 'sampling_method' has value 'gradient_based': it needs a GPU, "
            "which this image does not have; use 'uniform'."
        )
    for name in sorted(DROPPED & typed.keys()):
        logger.warning("Hyperparameter '%s' is not used by XGBoost 3: ignored.", name)
        del typed[name]
    for name in sorted(ONLY_WITH.keys() & typed.keys()):
        setting, wanted = ONLY_WITH[name]
        actual = booster if setting == "booster" else objective
        if actual != wanted:
            logger.warning(
                "Hyperparameter '%s' only applies to %s %s: ignored.", name, setting, wanted
            )
            del typed[name]
    if typed.pop("save_model_on_termination", False):
        logger.warning("save_model_on_termination is not implemented: use checkpoints instead.")
    typed.setdefault("nthread", num_cpus)
    return Hyperparameters(
        num_round=int(typed.pop("num_round")),
        objective=objective,
        num_class=num_class,
        early_stopping_rounds=typed.pop("early_stopping_rounds", None),
        csv_weights=bool(typed.pop("csv_weights", False)),
        eval_metric=metrics,
        booster=booster,
        tree_method=tree_method,
        interaction_constraints=interaction,
        monotone_constraints=monotone,
        params=MappingProxyType({k: v for k, v in typed.items() if k not in NOT_PASSED}),
    )


TREE_UPDATERS = frozenset({"grow_colmaker", "grow_histmaker", "grow_quantile_histmaker"})
OTHER_UPDATERS = frozenset({"prune", "refresh", "sync"})
LINEAR_UPDATERS = frozenset({"shotgun", "coord_descent"})


def _check_updater(updaters: tuple[str, ...] | None, booster: str, raw: str) -> None:
    """One tree-growing plugin at most; gblinear takes exactly one linear updater."""
    if updaters is None:
        return
    names = set(updaters)
    if booster == "gblinear":
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
            f"Hyperparameter 'updater' has value '{raw}': expected {expected}."
        )
