"""Image entry point: `docker run IMAGE train|serve`; any other command is exec'd as given.

`train` and `serve` (these verbs and the console scripts) end through `process.finish`:
flushed streams, then the status the job decided, without the interpreter's finalization,
where a native library may still abort (see boostbox.process).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import NoReturn

from boostbox.process import exit_status, finish


def run_and_finish(entry: Callable[[], int]) -> NoReturn:
    """Run an entry point that returns its exit status; SystemExit keeps its code."""
    try:
        status = entry()
    except SystemExit as e:
        status = exit_status(e)
    except KeyboardInterrupt:
        status = 130
    except Exception:
        logging.getLogger(__name__).exception("boostbox: unexpected error")
        status = 1
    finish(status)


def train() -> NoReturn:
    """Console script `train`: scikit-learn kept out of the built-in algorithm (about 1.4 s of
    every job's start) unless a user script runs (keep_imports_lean)."""
    keep_imports_lean(os.environ, "train")
    from boostbox.training.job import main as train_main

    run_and_finish(train_main)


def serve() -> NoReturn:
    """Console script `serve`: scikit-learn kept out of the workers unless user code may need
    it (keep_imports_lean), then gunicorn."""
    keep_imports_lean(os.environ)
    from boostbox.serving.server import main as serve_main

    run_and_finish(serve_main)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    verb = args[0] if args else "train"
    if verb == "train":
        train()
    if verb == "serve":
        serve()
    os.execvp(args[0], args)


def keep_imports_lean(environ: Mapping[str, str], verb: str = "serve") -> bool:
    """Run boostbox.imports.keep_out unless user code may use xgboost's sklearn API: a script
    (both verbs) or multi-model serving (a model may bring its own code/inference.py); True
    when it ran. A bad setting is left for the verb's main to report, naming the variable."""
    from boostbox.config import ServingConfig, TrainingConfig
    from boostbox.errors import ConfigError
    from boostbox.imports import keep_out

    try:
        if verb == "train":
            user_code = TrainingConfig.from_environ(environ).program is not None
        else:
            serving = ServingConfig.from_environ(environ)
            user_code = serving.program is not None or serving.multi_model
    except ConfigError:
        user_code = False
    if user_code:
        return False
    keep_out()
    return True


if __name__ == "__main__":
    main()
