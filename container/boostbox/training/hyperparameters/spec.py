"""How one hyperparameter string becomes a value: Spec (type, range, policy), parsers, no eval."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


@dataclass(frozen=True)
class Spec:
    """How one hyperparameter's string becomes a value, and which values are allowed."""

    kind: str
    """int | float | flag (0/1) | bool (true/false) | choice | metrics | groups | signs | list"""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    """Other spellings of the same name (XGBoost's sklearn-style names)."""
    policy: str = "xgboost"
    """xgboost: passed to xgboost.train | boostbox: read by boostbox itself | dropped: accepted
    for compatibility, XGBoost 3 no longer reads it (logged) | unsupported: refused (`note`)."""
    only_with: tuple[str, str] | None = None
    """(setting, value) it applies to, e.g. ("booster", "dart"); dropped with a log otherwise."""
    note: str = ""
    """Why an unsupported name is refused."""

    def parse(self, raw: str) -> Any:
        """The typed value; ValueError when the string is malformed or out of range."""
        value = _PARSERS[self.kind](raw.strip(), self)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
                raise ValueError(raw)
            if self.high is not None and (
                value > self.high or (self.high_open and value == self.high)
            ):
                raise ValueError(raw)
        return value


def _number(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


def _int(raw: str, spec: Spec) -> int:
    value = _number(raw)
    if not value.is_integer():
        raise ValueError(raw)
    return int(value)


def _float(raw: str, spec: Spec) -> float:
    return _number(raw)


def _flag(raw: str, spec: Spec) -> int:
    lowered = raw.lower()
    if lowered in ("1", "true"):
        return 1
    if lowered in ("0", "false"):
        return 0
    raise ValueError(raw)


def _bool(raw: str, spec: Spec) -> bool:
    return bool(_flag(raw, spec))


def _choice(raw: str, spec: Spec) -> str:
    if raw not in spec.choices:
        raise ValueError(raw)
    return raw


METRIC = re.compile(
    r"^(rmse|rmsle|mae|mape|mphe|logloss|merror|mlogloss|auc|aucpr|poisson-nloglik"
    r"|gamma-nloglik|cox-nloglik|gamma-deviance|aft-nloglik|interval-regression-accuracy"
    r"|error(@[0-9.]+)?|(ndcg|map|pre)(@[0-9]+)?-?|tweedie-nloglik(@[0-9.]+)?"
    # the official algorithm's own metrics (training.metrics computes them)
    r"|accuracy|balanced_accuracy|f1|f1_binary|f1_macro|precision|precision_macro"
    r"|precision_micro|recall|recall_macro|recall_micro|mse|r2)$"
)


def _metrics(raw: str, spec: Spec) -> tuple[str, ...]:
    names = tuple(m.strip() for m in raw.split(",") if m.strip())
    if not names or not all(METRIC.match(m) for m in names):
        raise ValueError(raw)
    return names


def _groups(raw: str, spec: Spec) -> tuple[tuple[int, ...], ...]:
    """interaction_constraints: a JSON list of lists of feature indices, e.g. [[0,1],[2]]."""
    try:
        value = json.loads(raw.replace("(", "[").replace(")", "]"))
    except json.JSONDecodeError as e:
        raise ValueError(raw) from e
    if not isinstance(value, list) or not all(isinstance(g, list) for g in value):
        raise ValueError(raw)
    out = []
    for group in value:
        if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in group):
            raise ValueError(raw)
        out.append(tuple(group))
    return tuple(out)


def _signs(raw: str, spec: Spec) -> tuple[int, ...]:
    """monotone_constraints: (1,0,-1) or [1,0,-1]."""
    inner = raw.strip("()[] ")
    values = tuple(int(v) for v in inner.split(",")) if inner else ()
    if not values or any(v not in (-1, 0, 1) for v in values):
        raise ValueError(raw)
    return values


def _list(raw: str, spec: Spec) -> tuple[str, ...]:
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    if not names:
        raise ValueError(raw)
    return names


_PARSERS: dict[str, Callable[[str, Spec], Any]] = {
    "int": _int,
    "float": _float,
    "flag": _flag,
    "bool": _bool,
    "choice": _choice,
    "metrics": _metrics,
    "groups": _groups,
    "signs": _signs,
    "list": _list,
}


def _bound(value: float | None, infinite: str) -> str:
    if value is None:
        return infinite
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _range(spec: Spec) -> str:
    low, high = _bound(spec.low, "-inf"), _bound(spec.high, "inf")
    if spec.high is None and spec.low is not None:
        return (">" if spec.low_open else ">=") + f" {low}"
    bracket = "in (" if spec.low_open else "in ["
    return bracket + f"{low}, {high}" + (")" if spec.high_open else "]")


def describe(spec: Spec) -> str:
    """What the failure line says was expected: 'a number in [0, 1]', 'one of a, b'."""
    if spec.kind == "int":
        return f"an integer {_range(spec)}"
    if spec.kind == "float":
        return f"a number {_range(spec)}"
    if spec.kind == "flag":
        return "0 or 1"
    if spec.kind == "bool":
        return "true or false"
    if spec.kind == "choice":
        return "one of " + ", ".join(spec.choices)
    if spec.kind == "metrics":
        return "a comma list of XGBoost metric names (rmse, logloss, auc, error@0.7, ndcg@5, ...)"
    if spec.kind == "groups":
        return "a list of lists of feature indices, e.g. [[0, 1], [2, 3]]"
    if spec.kind == "signs":
        return "a tuple of -1/0/1, e.g. (1,0,-1)"
    return "a comma-separated list of names"
