"""`python -m boostbox.monitor report --baseline MODEL --capture DIR [--out DIR]`.

Compares captured endpoint traffic (SageMaker data-capture JSONL) with the model's training
baseline; see boostbox.monitoring.offline. Exit status 0 (violations or not), 2 for bad input.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from boostbox.errors import UserError
from boostbox.monitoring import offline

logger = logging.getLogger(__name__)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m boostbox.monitor", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)
    report = verbs.add_parser("report", help="drift report of captured traffic vs the baseline")
    report.add_argument("--baseline", type=Path, required=True, help="model folder or tar.gz")
    report.add_argument("--capture", type=Path, required=True, help="data-capture folder")
    report.add_argument("--out", type=Path, default=Path("monitoring-report"))
    report.add_argument("--top", type=int, default=6, help="columns in the plot")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        outcome = offline.run(args.baseline, args.capture, args.out, args.top)
    except UserError as e:
        logger.error("boostbox monitor: %s", e)
        return 2
    drift = outcome.report["drift"]
    logger.info(
        "%d rows compared; drift on: %s", drift["rows"], ", ".join(drift["alarms"]) or "nothing"
    )
    for name, path in outcome.files.items():
        logger.info("%-10s %s", name, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
