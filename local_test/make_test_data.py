"""Regenerate local_test/test_dir/ and payload.csv/payload.json from scikit-learn's diabetes data.

Run once; the output is committed (a few KB): `.venv/bin/python local_test/make_test_data.py`.
Deterministic: the seed's splits with a fixed random_state, the first rows of each part,
features rounded to 4 decimals.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path

import demo_data
import numpy as np
import seed

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Settings:
    out: Path
    """The folder that receives test_dir/ and the payload files."""
    train_rows: int
    validation_rows: int
    payload_rows: int


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--train-rows", type=int, default=90)
    parser.add_argument("--validation-rows", type=int, default=30)
    parser.add_argument("--payload-rows", type=int, default=5)
    args = parser.parse_args(argv)
    return Settings(args.out, args.train_rows, args.validation_rows, args.payload_rows)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = parse_args(argv)
    full = demo_data.split(demo_data.load(classification=False))
    small = demo_data.Split(
        train=full.train.head(settings.train_rows),
        validation=full.validation.head(settings.validation_rows),
        test=full.test.head(settings.payload_rows),
    )
    rounded = demo_data.Split(
        *(
            part.round(4).astype({demo_data.LABEL: np.int64})
            for part in (small.train, small.validation, small.test)
        )
    )
    fmt = "%.4f"
    test_dir = settings.out / "test_dir"
    demo_data.write_opt_ml(test_dir, rounded, seed.hyperparameters(), float_format=fmt)
    payload = demo_data.write_csv(
        rounded.test_features, settings.out / "payload.csv", float_format=fmt
    )
    rows = rounded.test_features.to_numpy(dtype=float).tolist()
    as_json = demo_data.write_json(settings.out / "payload.json", seed.json_request(rows))
    logger.info("wrote %s and %s (%d rows, no label)", payload, as_json, len(rows))


if __name__ == "__main__":
    main()
