"""The built-in algorithm's hyperparameter table (CONTRACTS.md): one row per name, as data.

Each row says the type and range, the aliases, whether XGBoost or boostbox reads the value
(or neither: `dropped`), and which setting it applies to. Nothing else holds per-name policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from boostbox.training.hyperparameters.spec import INT32_MAX, INT32_MIN, Spec


def _i(low: float | None = None, high: float | None = None, **kw: Any) -> Spec:
    return Spec("int", low, high, **kw)


def _f(low: float | None = None, high: float | None = None, **kw: Any) -> Spec:
    return Spec("float", low, high, **kw)


def _c(*choices: str) -> Spec:
    return Spec("choice", choices=choices)


FLAG, BOOL, UNIT, OPEN_UNIT = Spec("flag"), Spec("bool"), _f(0, 1), _f(0, 1, low_open=True)

OBJECTIVES = (
    *("binary:logistic", "binary:logitraw", "binary:hinge", "count:poisson"),
    *("multi:softmax", "multi:softprob", "rank:pairwise", "rank:ndcg", "rank:map"),
    *("reg:linear", "reg:squarederror", "reg:logistic", "reg:gamma", "reg:pseudohubererror"),
    *("reg:squaredlogerror", "reg:absoluteerror", "reg:tweedie", "survival:aft", "survival:cox"),
)


def _with(spec: Spec, **kw: Any) -> Spec:
    return replace(spec, **kw)


DART = ("booster", "dart")
AFT = ("objective", "survival:aft")
OURS = "boostbox"
DROP = "dropped"

TABLE: Mapping[str, Spec] = MappingProxyType(
    {
        "num_round": _i(1, policy=OURS),
        "num_class": _i(2),
        "alpha": _f(0, aliases=("reg_alpha",)),
        "base_score": _f(0),
        "booster": _c("gbtree", "gblinear", "dart"),
        "colsample_bylevel": OPEN_UNIT,
        "colsample_bynode": OPEN_UNIT,
        "colsample_bytree": OPEN_UNIT,
        "csv_weights": _with(FLAG, policy=OURS),
        "deterministic_histogram": _with(BOOL, policy=DROP),
        "early_stopping_rounds": _i(1, policy=OURS),
        "eta": _with(UNIT, aliases=("learning_rate",)),
        "eval_metric": Spec("metrics"),
        "gamma": _f(0, aliases=("min_split_loss",)),
        "grow_policy": _c("depthwise", "lossguide"),
        "interaction_constraints": Spec("groups"),
        "lambda": _f(0, aliases=("reg_lambda",)),
        "lambda_bias": _with(UNIT, policy=DROP),
        "max_bin": _i(2),  # the table says >= 0; XGBoost needs at least 2 bins
        "max_delta_step": _f(0),
        "max_depth": _i(0),
        "max_leaves": _i(0),
        "min_child_weight": _f(0),
        "monotone_constraints": Spec("signs"),
        "normalize_type": _with(_c("tree", "forest"), only_with=DART),
        "nthread": _i(1),
        "objective": _c(*OBJECTIVES),
        "one_drop": _with(FLAG, only_with=DART),
        "process_type": _c("default", "update"),
        "rate_drop": _with(UNIT, only_with=DART),
        "refresh_leaf": FLAG,
        "sample_type": _with(_c("uniform", "weighted"), only_with=DART),
        "scale_pos_weight": _f(0, low_open=True),
        "seed": _i(INT32_MIN, INT32_MAX, low_open=True, high_open=True),
        "single_precision_histogram": _with(BOOL, policy=DROP),
        "sketch_eps": _f(0, 1, low_open=True, high_open=True, policy=DROP),
        "skip_drop": _with(UNIT, only_with=DART),
        "subsample": OPEN_UNIT,
        "tree_method": _c("auto", "exact", "approx", "hist", "gpu_hist"),
        "tweedie_variance_power": _f(
            1, 2, low_open=True, high_open=True, only_with=("objective", "reg:tweedie")
        ),
        "updater": Spec("list"),
        "verbosity": _i(0, 3),
        # In the official validator but not in the documented table.
        "dsplit": _with(_c("row", "col"), policy=DROP),
        "predictor": _with(_c("auto", "cpu_predictor", "gpu_predictor"), policy=DROP),
        "num_parallel_tree": _i(1),
        "save_model_on_termination": _with(BOOL, policy=OURS),
        # boostbox's own: rounds between checkpoints (checkpointconfig.json).
        "checkpoint_interval": _i(1, policy=OURS),
        # boostbox's own: train from the channels in batches through XGBoost's external memory
        # (training/external.py), default false.
        "external_memory": _with(BOOL, policy=OURS),
        "aft_loss_distribution": _with(_c("normal", "logistic", "extreme"), only_with=AFT),
        "aft_loss_distribution_scale": _f(0, only_with=AFT),
        "sampling_method": _c("uniform", "gradient_based"),
        "prob_buffer_row": _f(1, low_open=True, policy=DROP),
        "use_dask_gpu_training": _with(BOOL, policy=DROP),
        "_kfold": _i(2, policy=OURS),
        "_num_cv_round": _i(1, policy=OURS),
        # boostbox's own: write the drift-monitoring baseline (false skips it, e.g. for very
        # many features); see boostbox.monitoring.
        "baseline": _with(BOOL, policy=OURS),
    }
)
"""Every name the built-in algorithm accepts, with its type, range, aliases and policy."""

ALIASES: Mapping[str, str] = MappingProxyType(
    {alias: name for name, spec in TABLE.items() for alias in spec.aliases}
)
"""XGBoost's sklearn-style names -> the built-in algorithm's names (derived from TABLE)."""

MULTI_OBJECTIVES = ("multi:softmax", "multi:softprob")
AUC_PREFIXES = ("binary:", "rank:", "multi:")
TREE_UPDATERS = frozenset({"grow_colmaker", "grow_histmaker", "grow_quantile_histmaker"})
OTHER_UPDATERS = frozenset({"prune", "refresh", "sync"})
LINEAR_UPDATERS = frozenset({"shotgun", "coord_descent"})
