"""Modules `serve` and `train` keep out: the ones `import xgboost` drags in for its sklearn API.

`import xgboost` runs `xgboost.compat`, which imports scikit-learn whenever it is installed
(~0.8 s and ~55 MB per worker, measured), and `xgboost.sklearn`, which imports
`scipy.special` (~0.35 s, it pulls scipy.linalg) for one function, `softmax`, used only by
the sklearn estimators' predict_proba. The built-in algorithm never uses either. `keep_out`
(run by the `serve` and `train` entries before their first `import xgboost`, unless user code
may run):
- puts `None` in `sys.modules["sklearn"]`: the import system's documented block, so
  `import sklearn` raises ImportError and xgboost takes its no-sklearn branch;
- puts a placeholder `scipy.special` whose `softmax` loads the real module when called.
A pickled model (opt-in) may need them, and k-fold uses scikit-learn's splitters: both call
`readmit` first, which lifts the block.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

BLOCKED = ("sklearn",)
DEFERRED = {"scipy.special": ("softmax",)}
"""Module -> the names xgboost imports from it at import time, each resolved when called."""


class _Deferred(types.ModuleType):
    """Stands in for a module until one of its functions is called; then the real one loads."""


def _deferred(module: str, name: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        readmit()
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = name
    return call


def keep_out() -> None:
    """Block scikit-learn and defer scipy.special unless already imported."""
    for name in BLOCKED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    for module, names in DEFERRED.items():
        if module not in sys.modules:
            placeholder = _Deferred(module, "placeholder set by boostbox.imports.keep_out")
            for name in names:
                setattr(placeholder, name, _deferred(module, name))
            sys.modules[module] = placeholder


def readmit() -> None:
    """Undo `keep_out` (a no-op for modules it did not block or defer)."""
    for name in BLOCKED:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
    for module in DEFERRED:
        if isinstance(sys.modules.get(module), _Deferred):
            del sys.modules[module]
