"""Image entry point: `docker run IMAGE train|serve`; any other command is exec'd as given."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    verb = args[0] if args else "train"
    if verb == "train":
        from boostbox.training.job import main as train_main

        sys.exit(train_main())
    if verb == "serve":
        serve()
    os.execvp(args[0], args)


def serve() -> None:
    """`serve` without scikit-learn in the workers unless user code may need it, then gunicorn."""
    keep_imports_lean(os.environ)
    from boostbox.serving.server import main as serve_main

    sys.exit(serve_main())


def keep_imports_lean(environ: Mapping[str, str]) -> bool:
    """Run boostbox.imports.keep_out unless script mode or multi-model (whose models may bring
    their own code/inference.py) may use xgboost's sklearn API; True when it ran."""
    from boostbox.config import ServingConfig
    from boostbox.errors import ConfigError
    from boostbox.imports import keep_out

    try:
        config = ServingConfig.from_environ(environ)
    except ConfigError:
        config = ServingConfig()  # serve's main reports the bad value, naming the variable
    if config.program or config.multi_model:
        return False
    keep_out()
    return True


if __name__ == "__main__":
    main()
