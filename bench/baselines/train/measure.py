"""Run a command inside the container; write its wall time, peak RSS and exit code as JSON.

Used as `docker run --entrypoint python IMAGE /bench/measure.py OUT -- CMD...` for both the
boostbox `train` and the in-process reference, so both are timed and measured the same way.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    out, sep, *cmd = argv
    if sep != "--" or not cmd:
        raise SystemExit("usage: measure.py OUT -- CMD...")
    start = time.perf_counter()
    rc = subprocess.run(cmd, check=False).returncode
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"rc": rc, "wall_s": wall, "peak_rss_mb": peak_kb / 1024}, f)
    return rc


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
