"""How a boostbox process ends: flush, then exit with the decided status, no finalization.

Native libraries can abort during the interpreter's finalization after the work is done.
Measured here: a Parquet read through a Python file object leaves a Python-owned buffer in a
future that one of pyarrow's IO threads releases; when that happens while Python 3.13 is
finalizing, the thread is ended inside a C++ destructor -> `terminate called without an
active exception`, SIGABRT, exit 134. SageMaker reads `train`'s exit status, so a job that
wrote its model would fail there. `train`, `serve` and every gunicorn worker therefore end
through `finish`, as the SageMaker training toolkit ends its entry points.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn


def flush_all() -> None:
    """Flush every log handler and both standard streams; a closed stream is skipped."""
    names: list[str | None] = [None, *logging.root.manager.loggerDict]
    for name in names:
        for handler in getattr(logging.getLogger(name), "handlers", ()):
            try:
                handler.flush()
            except (OSError, ValueError):
                pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def exit_status(exit: SystemExit) -> int:
    """The status `sys.exit(code)` would give: None is 0, an int itself, anything else 1."""
    if exit.code is None:
        return 0
    return exit.code if isinstance(exit.code, int) else 1


def finish(status: int) -> NoReturn:
    """Flush, then leave with `status` at once (os._exit: no atexit, no finalization)."""
    flush_all()
    os._exit(status)
