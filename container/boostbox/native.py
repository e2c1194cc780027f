"""Small compiled libraries (plain C, loaded with ctypes) and what to do without them.

The image's build stage and `make venv` compile them next to the module that uses them; a
checkout without a C compiler still works, through that module's NumPy/Python fallback.
"""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path
from typing import Any


def open_library(
    path: Path,
    log: logging.Logger,
    what: str,
    fallback: str,
    entry: tuple[str, tuple[Any, ...]],
) -> ctypes.CDLL | None:
    """The library at `path` with its entry point typed (`entry`: name and argument types;
    every entry point returns an int status), or None after one INFO line on `log`: `what`
    is not available, `fallback` says what runs instead. Callers cache the result (one line
    per process)."""
    try:
        library = ctypes.CDLL(str(path))
    except OSError as e:
        log.info("%s is not available (%s); %s.", what, e, fallback)
        return None
    name, argtypes = entry
    function = getattr(library, name)
    function.argtypes = argtypes
    function.restype = ctypes.c_int
    return library
