"""Hyperparameters: hyperparameters.json's strings -> one frozen, validated configuration.

SageMaker writes every value as a string. `parse` runs named steps: resolve names (aliases,
unknown names with a suggestion, duplicates), convert each value once by its table row,
normalise (deprecated objective, GPU-only tree methods), run the cross-field rules, drop what
XGBoost 3 no longer reads (with a log line), and build `Hyperparameters`. Nothing is eval'd.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from boostbox.errors import HyperparameterError
from boostbox.training.hyperparameters.rules import RULES, Draft
from boostbox.training.hyperparameters.spec import METRIC, describe
from boostbox.training.hyperparameters.table import ALIASES, TABLE
from boostbox.training.metrics import CUSTOM

logger = logging.getLogger(__name__)

RESERVED_PREFIX = "sagemaker_"
TUNING_METRIC = "_tuning_objective_metric"


@dataclass(frozen=True)
class Hyperparameters:
    """A validated job configuration: what boostbox reads plus XGBoost's params."""

    num_round: int
    objective: str = "reg:squarederror"
    num_class: int | None = None
    early_stopping_rounds: int | None = None
    csv_weights: bool = False
    baseline: bool = True
    """Write the drift-monitoring baseline after training (boostbox's `baseline=false` skips)."""
    checkpoint_interval: int = 10
    """Rounds between checkpoints when checkpointconfig.json names a folder (boostbox's own)."""
    save_model_on_termination: bool = False
    """On SIGTERM, write model/xgboost-model with the rounds done so far and exit 0."""
    external_memory: bool = False
    """Train channel through ExtMemQuantileDMatrix, one file at a time (boostbox's own)."""
    eval_metric: tuple[str, ...] = ()
    """Empty means the objective's default metric (which then drives early stopping).
    Includes the official algorithm's own metrics and the HPO tuning metric."""
    stopping_metric: str | None = None
    """The metric early stopping follows: _tuning_objective_metric's, else eval_metric's last."""
    kfold: int | None = None
    """_kfold: k-fold cross-validation with this many folds (train and validation joined)."""
    num_cv_round: int = 1
    """_num_cv_round: how many times k-fold is repeated with other folds."""
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
        native = [m for m in self.eval_metric if m not in CUSTOM]
        if native:
            out["eval_metric"] = native
        if self.interaction_constraints is not None:
            out["interaction_constraints"] = str([list(g) for g in self.interaction_constraints])
        if self.monotone_constraints is not None:
            out["monotone_constraints"] = "(" + ",".join(map(str, self.monotone_constraints)) + ")"
        return out

    @property
    def custom_metrics(self) -> tuple[str, ...]:
        """The official algorithm's own metrics among eval_metric (training.metrics)."""
        return tuple(m for m in self.eval_metric if m in CUSTOM)

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


def _resolve(key: str, value: str, seen_as: dict[str, str]) -> str:
    """The table name for `key` (an alias resolved), or HyperparameterError."""
    name = ALIASES.get(key, key)
    spec = TABLE.get(name)
    if spec is None:
        close = difflib.get_close_matches(key, [*TABLE, *ALIASES], n=3)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise HyperparameterError(f"Hyperparameter '{key}' is not known.{hint}")
    if spec.policy == "unsupported":
        raise HyperparameterError(f"Hyperparameter '{key}' has value '{value}': {spec.note}.")
    if name in seen_as:
        raise HyperparameterError(
            f"Hyperparameter '{key}' has value '{value}': '{key}' and "
            f"'{seen_as[name]}' are the same hyperparameter; set only one."
        )
    return name


def tuning_metric(raw: Mapping[str, str]) -> str | None:
    """The metric of `_tuning_objective_metric` ('validation:rmse' -> 'rmse'), checked."""
    value = raw.get(TUNING_METRIC)
    if value is None:
        return None
    name = value.split(":", 1)[-1].strip()
    if not METRIC.match(name):
        raise HyperparameterError(
            f"Hyperparameter '{TUNING_METRIC}' has value '{value}': expected "
            "'validation:<metric>' or 'train:<metric>' with an evaluation metric boostbox knows."
        )
    return name


def _canonical(raw: Mapping[str, str]) -> dict[str, str]:
    """Table name -> raw string, SageMaker's own entries skipped."""
    out: dict[str, str] = {}
    seen_as: dict[str, str] = {}
    for key, value in raw.items():
        if key.startswith(RESERVED_PREFIX) or key == TUNING_METRIC:
            logger.info("Ignoring SageMaker-internal hyperparameter %s=%s.", key, value)
            continue
        name = _resolve(key, value, seen_as)
        seen_as[name] = key
        out[name] = value
    return out


def _convert(name: str, value: str) -> Any:
    spec = TABLE[name]
    try:
        return spec.parse(value)
    except ValueError:
        raise HyperparameterError(
            f"Hyperparameter '{name}' has value '{value}': expected {describe(spec)}."
        ) from None


def _normalise(typed: dict[str, Any]) -> None:
    """Values the official image accepts that XGBoost 3 spells differently."""
    if typed.get("objective") == "reg:linear":
        logger.warning("objective 'reg:linear' is deprecated: training with 'reg:squarederror'.")
        typed["objective"] = "reg:squarederror"
    if typed.get("tree_method") == "gpu_hist":
        logger.warning("tree_method 'gpu_hist': this image has no GPU, training with 'hist'.")
        typed["tree_method"] = "hist"
    if typed.get("tree_method") == "auto":
        typed["tree_method"] = "hist"  # what XGBoost >= 2 picks for 'auto' anyway


def _drop_unused(draft: Draft) -> None:
    """Names XGBoost 3 no longer reads, and names that do not apply to this job, with a log."""
    for name in sorted(draft.typed):
        spec = TABLE[name]
        if spec.policy == "dropped":
            logger.warning("Hyperparameter '%s' is not used by XGBoost 3: ignored.", name)
            del draft.typed[name]
        elif spec.only_with is not None:
            setting, wanted = spec.only_with
            actual = draft.booster if setting == "booster" else draft.objective
            if actual != wanted:
                logger.warning(
                    "Hyperparameter '%s' only applies to %s %s: ignored.", name, setting, wanted
                )
                del draft.typed[name]


def _join_tuning_metric(typed: dict[str, Any], tuning: str | None) -> str | None:
    """HPO's metric joins eval_metric (it must be printed) and drives early stopping."""
    metrics: tuple[str, ...] = typed.get("eval_metric", ())
    if tuning is not None and tuning not in metrics:
        typed["eval_metric"] = (*metrics, tuning)
        logger.info("eval_metric: %s (with HPO's _tuning_objective_metric).", tuning)
    if tuning is not None:
        return tuning
    return metrics[-1] if metrics else None


def _build(typed: dict[str, Any], num_cpus: int) -> Hyperparameters:
    typed.setdefault("nthread", num_cpus)
    passed = {k: v for k, v in typed.items() if TABLE[k].policy == "xgboost"}
    for name in ("objective", "num_class", "eval_metric", "booster", "tree_method"):
        passed.pop(name, None)
    passed.pop("interaction_constraints", None)
    passed.pop("monotone_constraints", None)
    return Hyperparameters(
        kfold=typed.get("_kfold"),
        num_cv_round=int(typed.get("_num_cv_round", 1)),
        num_round=int(typed["num_round"]),
        objective=str(typed.get("objective", "reg:squarederror")),
        num_class=typed.get("num_class"),
        early_stopping_rounds=typed.get("early_stopping_rounds"),
        csv_weights=bool(typed.get("csv_weights", False)),
        baseline=bool(typed.get("baseline", True)),
        checkpoint_interval=int(typed.get("checkpoint_interval", 10)),
        save_model_on_termination=bool(typed.get("save_model_on_termination", False)),
        external_memory=bool(typed.get("external_memory", False)),
        eval_metric=typed.get("eval_metric", ()),
        booster=str(typed.get("booster", "gbtree")),
        tree_method=str(typed.get("tree_method", "hist")),
        interaction_constraints=typed.get("interaction_constraints"),
        monotone_constraints=typed.get("monotone_constraints"),
        params=MappingProxyType(passed),
    )


def parse(raw: Mapping[str, str], *, num_cpus: int = 1) -> Hyperparameters:
    """Convert hyperparameters.json's strings once; raise HyperparameterError naming the key."""
    given = _canonical(raw)
    typed = {name: _convert(name, value) for name, value in given.items()}
    _normalise(typed)
    stopping = _join_tuning_metric(typed, tuning_metric(raw))
    draft = Draft(given, typed)
    for rule in RULES:
        rule(draft)
    _drop_unused(draft)
    built = _build(draft.typed, num_cpus)
    return replace(built, stopping_metric=stopping)
