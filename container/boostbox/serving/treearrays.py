"""Tree arrays for the fast path: every tree of a model flattened into NumPy node arrays.

Nodes are relabelled breadth-first so each split's right child is its left child + 1, and
leaves loop on themselves with a NaN threshold (`x >= NaN` is false), so evaluating one tree
level is `node = left[node] + goes_right` (see fastpath.TreeEvaluator).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

F32 = np.float32


class Unsupported(Exception):
    """The model uses something this evaluator does not implement; use xgboost."""


@dataclass(frozen=True)
class Nodes:
    """Per-node arrays of all trees, concatenated; `roots` index each tree's first node."""

    feature: np.ndarray
    threshold: np.ndarray
    default_right: np.ndarray
    left: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: int


def _relabel(tree: dict[str, Any]) -> tuple[list[int], int]:
    """Breadth-first order with siblings adjacent: old node ids in new order, and depth."""
    left, right = tree["left_children"], tree["right_children"]
    order = [0]
    depth = 0
    level = [0]
    while level:
        nxt = []
        for nid in level:
            if left[nid] != -1:
                nxt += [left[nid], right[nid]]
        order += nxt
        depth += 1 if nxt else 0
        level = nxt
    return order, depth


def build_nodes(trees: list[dict[str, Any]]) -> Nodes:
    feature: list[int] = []
    threshold: list[float] = []
    default_right: list[bool] = []
    left: list[int] = []
    value: list[float] = []
    roots: list[int] = []
    depth = 0
    for tree in trees:
        if int(tree["tree_param"].get("size_leaf_vector", "1")) > 1:
            raise Unsupported("vector-leaf (multi-target) trees")
        if any(int(t) != 0 for t in tree["split_type"]):
            raise Unsupported("categorical splits")
        order, tree_depth = _relabel(tree)
        depth = max(depth, tree_depth)
        base = len(feature)
        new_id = {old: base + i for i, old in enumerate(order)}
        roots.append(base)
        for old in order:
            child = tree["left_children"][old]
            if child == -1:  # leaf: loops on itself; split_conditions holds the leaf value
                feature.append(0)
                threshold.append(float("nan"))
                default_right.append(False)
                left.append(new_id[old])
                value.append(float(tree["split_conditions"][old]))
            else:
                assert new_id[tree["right_children"][old]] == new_id[child] + 1
                feature.append(int(tree["split_indices"][old]))
                threshold.append(float(tree["split_conditions"][old]))
                default_right.append(not bool(tree["default_left"][old]))
                left.append(new_id[child])
                value.append(0.0)
    return Nodes(
        feature=np.asarray(feature, dtype=np.intp),
        threshold=np.asarray(threshold, dtype=F32),
        default_right=np.asarray(default_right, dtype=bool),
        left=np.asarray(left, dtype=np.intp),
        value=np.asarray(value, dtype=F32),
        roots=np.asarray(roots, dtype=np.intp),
        depth=depth,
    )
