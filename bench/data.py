"""The benchmark's model, request payloads and training files, generated once into .work/."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import xgboost as xgb

from boostbox import artifact

logger = logging.getLogger(__name__)

N_FEATURES = 28
"""HIGGS-shaped: 28 float features, binary label (PERF-NOTES' model)."""
N_TREES = 200
DEPTH = 5
SEED = 20261125
MLSERVER_MODEL_NAME = "bench"

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Payloads:
    """Request bodies on disk (wrk's Lua script reads them) and the rows they hold."""

    one_row_csv: Path
    one_row_v2_json: Path
    batch_csv: Path
    large_csv: Path
    one_row: FloatArray


def features(rng: np.random.Generator, rows: int) -> tuple[FloatArray, FloatArray]:
    """Features plus a noisy nonlinear binary label, so trees have real splits to learn."""
    x = rng.normal(size=(rows, N_FEATURES)).astype(np.float32)
    signal = x[:, 0] * x[:, 1] + np.sin(x[:, 2]) + 0.5 * x[:, 3] - 0.25 * x[:, 4] ** 2
    noise = rng.normal(scale=0.5, size=rows)
    y = (signal + noise > 0).astype(np.float32)
    return x, y


def csv_lines(x: FloatArray, label: FloatArray | None = None) -> str:
    """Rows as `%.6f` CSV (label first when given), newline-terminated."""
    cols = x if label is None else np.column_stack([label, x])
    return "\n".join(",".join(f"{v:.6f}" for v in row) for row in cols.tolist()) + "\n"


def ensure_model(model_dir: Path, mlserver_dir: Path) -> xgb.Booster:
    """200 trees of depth 5 saved with boostbox.artifact.save, plus model.json for MLServer."""
    model_file = model_dir / "xgboost-model"
    mlserver_file = mlserver_dir / "model.json"
    if model_file.is_file() and mlserver_file.is_file():
        return artifact.load(model_dir).booster
    rng = np.random.default_rng(SEED)
    x, y = features(rng, 20_000)
    params = {"objective": "binary:logistic", "max_depth": DEPTH, "eta": 0.1, "nthread": 2}
    booster = xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=N_TREES)
    if booster.num_boosted_rounds() != N_TREES:
        raise RuntimeError(f"model has {booster.num_boosted_rounds()} trees, not {N_TREES}")
    artifact.save(booster, model_dir, artifact.ModelMetadata.from_booster(booster))
    mlserver_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(mlserver_file))
    settings = {
        "name": MLSERVER_MODEL_NAME,
        "implementation": "mlserver_xgboost.XGBoostModel",
        "parameters": {"uri": "./model.json"},
    }
    (mlserver_dir / "model-settings.json").write_text(json.dumps(settings), encoding="utf-8")
    logger.info(
        "model: %d trees, depth %d, %d features -> %s", N_TREES, DEPTH, N_FEATURES, model_dir
    )
    return booster


def ensure_payloads(payload_dir: Path, *, batch_rows: int, large_bytes: int) -> Payloads:
    """1-row CSV and V2 JSON, a `batch_rows` CSV and a CSV just under `large_bytes`."""
    payload_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED + 1)
    one_row = features(rng, 1)[0]
    batch = features(rng, batch_rows)[0]
    row_bytes = len(csv_lines(batch[:100])) / 100
    large = features(rng, int(large_bytes / row_bytes * 0.97))[0]
    paths = Payloads(
        one_row_csv=payload_dir / "one_row.csv",
        one_row_v2_json=payload_dir / "one_row_v2.json",
        batch_csv=payload_dir / f"batch_{batch_rows}.csv",
        large_csv=payload_dir / f"large_{large_bytes}.csv",
        one_row=one_row,
    )
    paths.one_row_csv.write_text(csv_lines(one_row).rstrip("\n"), encoding="utf-8")
    v2 = {
        "inputs": [
            {
                "name": "predict",
                "shape": [1, N_FEATURES],
                "datatype": "FP32",
                "data": [round(v, 6) for v in one_row[0].tolist()],
            }
        ]
    }
    paths.one_row_v2_json.write_text(json.dumps(v2), encoding="utf-8")
    paths.batch_csv.write_text(csv_lines(batch), encoding="utf-8")
    text = csv_lines(large)
    while len(text) > large_bytes:  # the 0.97 margin makes this rare
        text = text[: text.rindex("\n", 0, len(text) - 1) + 1]
    paths.large_csv.write_text(text, encoding="utf-8")
    return paths


def ensure_training_files(train_dir: Path, rows: int, formats: tuple[str, ...]) -> dict[str, Path]:
    """`rows` x 28 training files (label first) per format, written once and reused."""
    train_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for fmt in formats:
        path = train_dir / f"train_{rows}.{fmt}"
        out[fmt] = path
        if path.is_file():
            continue
        logger.info("generating %s (once; reused by later runs)", path)
        rng = np.random.default_rng(SEED + 2)
        tmp = path.with_suffix(".partial")
        with tmp.open("w", encoding="utf-8") as f:
            for start in range(0, rows, 100_000):
                x, y = features(rng, min(100_000, rows - start))
                f.write(csv_lines(x, y) if fmt == "csv" else libsvm_lines(x, y))
        tmp.rename(path)
    return out


def libsvm_lines(x: FloatArray, y: FloatArray) -> str:
    """`label 1:v 2:v ...` (one-based indices, every feature present)."""
    names = [f"{i + 1}:" for i in range(x.shape[1])]
    return (
        "\n".join(
            f"{int(label)} " + " ".join(n + f"{v:.6f}" for n, v in zip(names, row, strict=True))
            for label, row in zip(y.tolist(), x.tolist(), strict=True)
        )
        + "\n"
    )
