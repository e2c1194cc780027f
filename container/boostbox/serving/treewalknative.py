"""The fast path's tree walk in C (treewalk.c), loaded with ctypes.

`bb_tree_margins` computes what fastpath.TreeEvaluator's NumPy walk computes, bit for bit
(the same comparisons, the same float32 additions in the same order), about ten times faster
on one row. The library is built by the image's build stage and by `make venv`; without it
`load()` returns None (one INFO line) and the evaluator walks the trees with NumPy.

Every argument but the rows is prepared once per model (`CompiledWalk`): a call costs one
foreign call with five integers.
"""

from __future__ import annotations

import ctypes
import functools
import logging
from pathlib import Path

import numpy as np

from boostbox.native import open_library
from boostbox.serving.treearrays import Nodes

logger = logging.getLogger(__name__)

LIBRARY = Path(__file__).with_name("_treewalk.so")

F32 = np.float32
F32_DTYPE = np.dtype(F32)


class Forest(ctypes.Structure):
    """bb_forest in treewalk.c."""

    _fields_ = [
        *(
            (name, ctypes.c_void_p)
            for name in (
                "feature",
                "threshold",
                "default_right",
                "left",
                "value",
                "roots",
                "bounds",
                "base_margin",
            )
        ),
        *((name, ctypes.c_int64) for name in ("groups", "depth", "min_width")),
    ]


@functools.cache
def load(path: Path = LIBRARY) -> ctypes.CDLL | None:
    """The compiled walk, or None (logged once) when it was not built here."""
    pointer, size = ctypes.c_void_p, ctypes.c_int64
    return open_library(
        path,
        logger,
        "fast path: the compiled tree walk",
        "small batches walk the trees with NumPy (slower)",
        ("bb_tree_margins", (pointer, pointer, size, size, pointer)),  # forest, x, rows, width, out
    )


class CompiledWalk:
    """One model's node arrays as bb_tree_margins reads them; holds them (and the structure
    pointing at them) alive. `base_margin` is read at every call: write it in place."""

    def __init__(
        self,
        library: ctypes.CDLL,
        nodes: Nodes,
        roots: np.ndarray,
        bounds: np.ndarray,
        base_margin: np.ndarray,
    ):
        self._function = library.bb_tree_margins
        i64 = np.int64
        self._arrays = (
            np.ascontiguousarray(nodes.feature, dtype=i64),
            np.ascontiguousarray(nodes.threshold, dtype=F32),
            np.ascontiguousarray(nodes.default_right, dtype=np.uint8),
            np.ascontiguousarray(nodes.left, dtype=i64),
            np.ascontiguousarray(nodes.value, dtype=F32),
            np.ascontiguousarray(roots, dtype=i64),
            np.ascontiguousarray(bounds, dtype=i64),
        )
        assert base_margin.dtype == F32 and base_margin.flags.c_contiguous
        self._base_margin = base_margin
        self.groups = len(bounds) - 1
        self._forest = Forest(
            *(a.ctypes.data for a in (*self._arrays, base_margin)),
            self.groups,
            nodes.depth,
            int(nodes.feature.max(initial=0)) + 1,
        )
        self._address = ctypes.addressof(self._forest)

    def margins(self, x: np.ndarray) -> np.ndarray | None:
        """(rows, groups) float32 margins, or None when `x` is not float32 rows at least as
        wide as the model reads (then the NumPy walk decides, as before).

        The rows go in as `x.tobytes()` and the margins come back in a ctypes array viewed
        as an ndarray: ~0.6 us together, where `ndarray.ctypes.data` costs ~1.5 us per array
        (measured)."""
        if x.dtype is not F32_DTYPE or x.ndim != 2:
            return None
        rows, width = x.shape
        out = (ctypes.c_float * (rows * self.groups))()
        if self._function(self._address, x.tobytes(), rows, width, out):
            return None
        return np.ndarray((rows, self.groups), F32_DTYPE, out)


def walkable(nodes: Nodes, roots: np.ndarray) -> bool:
    """Every step treewalk.c can take stays inside the node arrays: features and children are
    not negative, a node that can send a row right has its right child (left + 1) in range,
    and the roots are nodes. build_nodes makes them so; checked, as the C code trusts them."""
    count = len(nodes.left)
    if count == 0 or len(roots) == 0:
        return False
    can_go_right = ~np.isnan(nodes.threshold) | nodes.default_right
    return bool(
        nodes.feature.min() >= 0
        and nodes.left.min() >= 0
        and (nodes.left + can_go_right).max() < count
        and 0 <= roots.min()
        and roots.max() < count
    )


def compiled(
    nodes: Nodes, roots: np.ndarray, bounds: np.ndarray, base_margin: np.ndarray
) -> CompiledWalk | None:
    """The compiled walk over these arrays, or None when the library is not available (or
    the arrays are not walkable: then NumPy walks them, as before)."""
    library = load()
    if library is None or not walkable(nodes, roots):
        return None
    return CompiledWalk(library, nodes, roots, bounds, base_margin)
