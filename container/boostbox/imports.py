"""Modules `serve` keeps out of a worker: scikit-learn, which xgboost imports eagerly.

`import xgboost` runs `xgboost.compat`, which imports scikit-learn whenever it is installed
(~0.8 s and ~55 MB per worker, measured) only to define the base classes of xgboost's
sklearn estimators, which serving never uses. A `None` entry in `sys.modules` makes
`import sklearn` raise ImportError (the import system's documented block), so xgboost takes
its no-sklearn branch. Training keeps scikit-learn. A pickled model (opt-in) may need it:
`readmit` lifts the block before unpickling.
"""

from __future__ import annotations

import sys

SERVING_UNUSED = ("sklearn",)


def keep_out(names: tuple[str, ...] = SERVING_UNUSED) -> None:
    """Block `names` unless already imported; call before the first `import xgboost`."""
    for name in names:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def readmit(names: tuple[str, ...] = SERVING_UNUSED) -> None:
    """Undo `keep_out` for `names` (a no-op when they were not blocked)."""
    for name in names:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
