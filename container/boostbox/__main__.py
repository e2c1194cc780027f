"""Image entry point: `docker run IMAGE train|serve`; any other command is exec'd as given."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    verb = args[0] if args else "train"
    if verb == "train":
        from boostbox.training.job import main as train_main

        sys.exit(train_main())
    if verb == "serve":
        from boostbox.serving.server import main as serve_main

        sys.exit(serve_main())
    os.execvp(args[0], args)


if __name__ == "__main__":
    main()
