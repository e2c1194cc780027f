"""A NumPy evaluator for small batches: every tree at once, one gather per tree level.

`Booster.inplace_predict` costs ~220-360 us per call whatever the batch size; walking the
trees with a few array operations per level costs a fraction of that for a handful of rows
(PERF-NOTES.md). The arrays come from the model's own JSON dump.

XGBoost's rule, reproduced exactly: a node sends a row LEFT when `x < split_condition`
(float32 compare), RIGHT otherwise; a missing value (NaN) follows `default_left`. The node
arrays come from `treearrays.build_nodes`.

Only numeric-split, single-target gbtree models with a known link function are built; the
Predictor falls back to xgboost for everything else (dart, gblinear, categorical splits,
vector leaves, other objectives). The intercept (base margin) comes from the model's
base_score (else it is measured on a probe row), and the evaluator is checked against
xgboost on probe rows before use: margins bit for bit, predictions within PREDICTION_ULPS.
The walk and the sums run in C (serving.treewalknative) when the library was built, else in
NumPy: both compute the same float32 operations in the same order (the probe checks either).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import xgboost as xgb

from boostbox.serving import treewalknative
from boostbox.serving.treearrays import Nodes, Unsupported, build_nodes

logger = logging.getLogger(__name__)

F32 = np.float32
PREDICTION_ULPS = 2
"""Predictions (after the link) may differ from xgboost's by this many float32 ulps: the
evaluator's expf is correctly rounded, the C library's is not always (measured: at most 2 ulp
for sigmoid and softmax, 1 for exp, over 16 objectives x 3 NaN rates x 5,000 rows). Margins
must be bit-identical: the load-time probe turns the fast path off otherwise."""
PROBE_ROWS = 64


def _expf(m: np.ndarray) -> np.ndarray:
    """float32 exp, correctly rounded (computed in float64), as C's expf is in practice."""
    out: np.ndarray = np.exp(m.astype(np.float64)).astype(F32)
    return out


def _sigmoid(m: np.ndarray) -> np.ndarray:
    """1 / (1 + expf(-m)) in float32 operations, as XGBoost's common::Sigmoid."""
    with np.errstate(over="ignore"):
        out: np.ndarray = F32(1) / (_expf(-m.astype(F32)) + F32(1))
    return out


def _exp(m: np.ndarray) -> np.ndarray:
    return _expf(m)


def _hinge(m: np.ndarray) -> np.ndarray:
    return (m > 0).astype(F32)


def _softprob(m: np.ndarray) -> np.ndarray:
    """XGBoost's common::Softmax: expf(x - max) in float32, a double sum, float32 division."""
    shifted = _expf(m.astype(F32) - m.max(axis=1, keepdims=True).astype(F32))
    total = shifted.astype(np.float64).sum(axis=1, keepdims=True).astype(F32)
    out: np.ndarray = shifted / total
    return out


def _softmax(m: np.ndarray) -> np.ndarray:
    return m.argmax(axis=1).astype(F32)


def _identity(m: np.ndarray) -> np.ndarray:
    return m


LINKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "reg:squarederror": _identity,
    "reg:linear": _identity,
    "reg:squaredlogerror": _identity,
    "reg:pseudohubererror": _identity,
    "reg:absoluteerror": _identity,
    "binary:logitraw": _identity,
    "rank:pairwise": _identity,
    "rank:ndcg": _identity,
    "rank:map": _identity,
    "binary:logistic": _sigmoid,
    "reg:logistic": _sigmoid,
    "count:poisson": _exp,
    "reg:gamma": _exp,
    "reg:tweedie": _exp,
    "survival:cox": _exp,
    "binary:hinge": _hinge,
    "multi:softprob": _softprob,
    "multi:softmax": _softmax,
}
"""Objective -> margin-to-prediction transform, as XGBoost's PredTransform applies it."""


def _intercepts(
    params: dict[str, Any], link: Callable[[np.ndarray], np.ndarray], groups: int
) -> np.ndarray | None:
    """base_score (float32) as a margin: the link's inverse in double, rounded to float32.

    Measured: computing the inverse in float32 is 1 ulp off for some base scores (e.g. the
    0.616 a scale_pos_weight=2.5 model estimates), which shifts every margin by up to 4 ulp.
    """
    try:
        raw = [float(v) for v in str(params["base_score"]).strip("[]").split(",")]
    except (KeyError, ValueError):
        return None
    score = np.resize(np.asarray(raw, dtype=F32), groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        if link is _sigmoid:
            margin = -np.log((F32(1) / score - F32(1)).astype(np.float64))
        elif link is _exp:
            margin = np.log(score.astype(np.float64))
        else:
            margin = score
    return margin.astype(F32) if np.all(np.isfinite(margin)) else None


def ulp_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |a - b| in float32 ulps of the larger magnitude (0 where both are NaN)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    spacing = np.spacing(np.maximum(np.abs(a64), np.abs(b64)).astype(F32)).astype(np.float64)
    with np.errstate(invalid="ignore"):
        ulps = np.abs(a64 - b64) / spacing
    ulps[np.isnan(a64) & np.isnan(b64)] = 0.0
    return float(np.max(ulps, initial=0.0)) if not np.isnan(ulps).any() else float("inf")


def _ulp_neighbours(model: np.ndarray | None, measured: np.ndarray) -> list[np.ndarray]:
    """Intercepts to try, best guess first: the model's base_score as a margin, then the one
    measured on a probe row and its float32 neighbours (leaf sums rounded it by an ulp or two)."""
    up, down = F32(np.inf), F32(-np.inf)
    near = [measured, np.nextafter(measured, up), np.nextafter(measured, down)]
    near += [np.nextafter(near[1], up), np.nextafter(near[2], down)]
    return ([model] if model is not None else []) + [c.astype(F32) for c in near]


class TreeEvaluator:
    """Margins and predictions of a numeric gbtree model, computed in C or with NumPy.

    Leaf values are added in float32, intercept first, then tree by tree in model order, as
    XGBoost's CPU predictor accumulates them, with the intercept XGBoost derives from
    base_score: margins are bit-identical (the load-time probe demands it).
    """

    def __init__(self, nodes: Nodes, groups: np.ndarray, num_groups: int, objective: str):
        order = np.argsort(groups, kind="stable")  # trees of one output group side by side
        self._roots = nodes.roots[order]
        bounds = np.searchsorted(groups[order], np.arange(num_groups + 1))
        self._segments = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        self._nodes = nodes
        self._num_groups = num_groups
        self._link = LINKS[objective]
        self._multi = objective.startswith("multi:")
        self._base_margin = np.zeros(num_groups, dtype=F32)
        self._walk = treewalknative.compiled(nodes, self._roots, bounds, self._base_margin)
        self.engine = "NumPy" if self._walk is None else "compiled"

    @property
    def base_margin(self) -> np.ndarray:
        return self._base_margin

    @base_margin.setter
    def base_margin(self, value: np.ndarray) -> None:
        self._base_margin[:] = value  # in place: the compiled walk holds its address

    @classmethod
    def from_booster(cls, booster: xgb.Booster, rounds: int, num_feature: int) -> TreeEvaluator:
        """Build from the booster's JSON for its first `rounds` iterations; raise Unsupported."""
        model = json.loads(bytes(booster.save_raw(raw_format="json")))["learner"]
        objective = model["objective"]["name"]
        if objective not in LINKS:
            raise Unsupported(f"objective {objective}")
        gbm = model["gradient_booster"]
        if gbm["name"] != "gbtree":
            raise Unsupported(f"booster {gbm['name']}")
        params = model["learner_model_param"]
        if int(params.get("num_target", "1")) > 1:
            raise Unsupported("multi-target model")
        tree_model = gbm["model"]
        indptr = tree_model.get("iteration_indptr")
        if indptr is not None:
            count = int(indptr[min(rounds, len(indptr) - 1)])
        else:
            per_round = len(tree_model["trees"]) // max(1, booster.num_boosted_rounds())
            count = rounds * per_round
        trees = tree_model["trees"][:count]
        if not trees:
            raise Unsupported("a model without trees")
        groups = np.asarray(tree_model["tree_info"][:count], dtype=np.intp)
        num_groups = max(1, int(params.get("num_class", "0")))
        evaluator = cls(build_nodes(trees), groups, num_groups, objective)
        intercepts = _intercepts(params, evaluator._link, num_groups)
        evaluator._calibrate(booster, rounds, num_feature, intercepts)
        return evaluator

    def _calibrate(
        self, booster: xgb.Booster, rounds: int, num_feature: int, intercepts: np.ndarray | None
    ) -> None:
        """Pick the intercept (model's base_score, else measured) and check every probe row."""
        probes = self._probe_rows(num_feature)
        kwargs: dict[str, Any] = {"iteration_range": (0, rounds)}
        margin = np.asarray(booster.inplace_predict(probes, predict_type="margin", **kwargs))
        margin = margin.reshape(len(probes), self._num_groups)
        expected = np.asarray(booster.inplace_predict(probes, **kwargs))
        self.base_margin = np.zeros(self._num_groups, dtype=F32)
        measured = (margin[0].astype(np.float64) - self._margins(probes)[0]).astype(F32)
        failure = ""
        for candidate in _ulp_neighbours(intercepts, measured):
            self.base_margin = candidate
            failure = self._disagreement(probes, margin, expected)
            if not failure:
                return
        raise Unsupported(failure)

    def _disagreement(self, probes: np.ndarray, margin: np.ndarray, expected: np.ndarray) -> str:
        ours = self.margin(probes)
        theirs = margin.reshape(ours.shape)
        if not np.array_equal(ours, theirs, equal_nan=True):
            worst = float(np.nanmax(np.abs(ours.astype(np.float64) - theirs)))
            return f"margin differs from xgboost's by up to {worst:.3g} on probe rows"
        ours = self.predict(probes)
        ulps = ulp_distance(ours, expected.reshape(ours.shape))
        if ulps > PREDICTION_ULPS:
            return f"prediction differs from xgboost's by {ulps:g} ulp on probe rows"
        return ""

    def _probe_rows(self, num_feature: int) -> np.ndarray:
        """Rows that land on both sides of real thresholds, on them, and on missing values."""
        rng = np.random.default_rng(0)
        n = self._nodes
        rows = rng.normal(size=(PROBE_ROWS, num_feature)).astype(F32)
        split = ~np.isnan(n.threshold)
        for column in np.unique(n.feature[split]):
            if column < num_feature:
                thresholds = n.threshold[split & (n.feature == column)]
                rows[:, column] = rng.choice(thresholds, size=PROBE_ROWS)
        nudge = rng.choice(np.asarray([-1.0, 0.0, 1.0], dtype=F32), size=rows.shape)
        rows = np.nextafter(rows, rows + nudge).astype(F32)
        rows[rng.random(size=rows.shape) < 0.15] = np.nan
        return np.ascontiguousarray(rows)

    def _leaves(self, x: np.ndarray) -> np.ndarray:
        """Leaf value reached in every tree: (rows, trees), trees grouped by output group."""
        n = self._nodes
        rows, width = x.shape
        flat = x.ravel()
        node = self._roots
        offset = None
        if rows > 1:
            node = np.repeat(node[None, :], rows, axis=0)
            offset = np.arange(0, rows * width, width, dtype=np.intp)[:, None]
        missing = bool(np.isnan(flat).any())
        feature, threshold, left, default_right = n.feature, n.threshold, n.left, n.default_right
        for _ in range(n.depth):
            index = feature.take(node)
            if offset is not None:
                index += offset
            values = flat.take(index)
            right = values >= threshold.take(node)
            if missing:
                right |= np.isnan(values) & default_right.take(node)
            node = left.take(node) + right
        leaves: np.ndarray = n.value.take(node)
        return leaves.reshape(rows, -1)

    def _margins(self, x: np.ndarray) -> np.ndarray:
        """Intercept + leaf values per output group in XGBoost's order: (rows, groups)."""
        compiled = None if self._walk is None else self._walk.margins(x)
        return compiled if compiled is not None else self._numpy_margins(x)

    def _numpy_margins(self, x: np.ndarray) -> np.ndarray:
        leaves = self._leaves(x)
        rows = x.shape[0]
        out = np.empty((rows, self._num_groups), dtype=F32)
        for group, (start, end) in enumerate(self._segments):
            terms = np.empty((rows, end - start + 1), dtype=F32)
            terms[:, 0] = self.base_margin[group]
            terms[:, 1:] = leaves[:, start:end]
            np.cumsum(terms, axis=1, dtype=F32, out=terms)
            out[:, group] = terms[:, -1]
        return out

    def margin(self, x: np.ndarray) -> np.ndarray:
        """Untransformed scores shaped like inplace_predict(predict_type='margin')."""
        out = self._margins(x)
        return out if self._num_groups > 1 else out[:, 0]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions shaped like inplace_predict: (rows,) or (rows, classes) for softprob."""
        out = self._link(self._margins(x))
        if self._multi:
            return out
        return out[:, 0]
