"""In-process reference: the fastest plain load of the training file, then xgboost.train.

CSV: pyarrow.csv (multi-threaded) -> float32 matrix -> QuantileDMatrix. libsvm: XGBoost's own
text parser (its default indexing: index i is column i). Writes load/train seconds as JSON so
the harness can split the wall time.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pyarrow.csv as pacsv
import xgboost as xgb


def load(path: str, fmt: str) -> xgb.DMatrix:
    if fmt == "csv":
        table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(autogenerate_column_names=True))
        matrix = np.column_stack([c.to_numpy() for c in table.columns]).astype(np.float32)
        return xgb.QuantileDMatrix(matrix[:, 1:], label=matrix[:, 0])
    if fmt == "libsvm":
        # XGBoost's default indexing, as boostbox and the official algorithm read libsvm:
        # index i is column i (a 1-based file leaves column 0 empty). indexing_mode=1 built
        # another matrix (no empty column), which XGBoost's hist bins with ~4x less memory and
        # trains faster: the comparison would not be of the same job.
        return xgb.DMatrix(f"{path}?format=libsvm")
    raise SystemExit(f"unknown format {fmt}")


def main(argv: list[str]) -> int:
    path, fmt, params_json, out = argv
    params = json.loads(params_json)
    rounds = int(params.pop("num_round"))
    start = time.perf_counter()
    dtrain = load(path, fmt)
    loaded = time.perf_counter()
    xgb.train(params, dtrain, num_boost_round=rounds, evals=[(dtrain, "train")], verbose_eval=10)
    done = time.perf_counter()
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"load_s": loaded - start, "train_s": done - loaded, "rows": dtrain.num_row()}, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
