"""The image against the official algorithm's contracts: recordio-protobuf training, and a
k-fold job whose fold-model folder `serve` answers as one ensemble."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
import requests
import scipy.sparse as sp
from sagemaker_training import recordio

from boostbox import artifact
from tests.support import docker_run, serving_container
from tests.unit.training.builders import FAST_HPS, Channel, csv_text, write_job

pytestmark = pytest.mark.container

CV_LINE = re.compile(r"^\[6\]\ttrain-logloss:[0-9.]+\tvalidation-logloss:[0-9.]+$", re.MULTILINE)
"""k-fold's summary: the folds' per-round lines stop at [5] (num_round=6)."""


def _classes(rows: int = 120) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    x = rng.random((rows, 4))
    return x, ((x[:, 0] + 0.3 * rng.random(rows)) > 0.65).astype(float)


def _records(x: np.ndarray, y: np.ndarray, *, sparse: bool) -> bytes:
    """What the SageMaker SDK's RecordSet writes: features plus the label map per record."""
    buffer = io.BytesIO()
    if sparse:
        recordio._write_spmatrix_to_sparse_tensor(buffer, sp.csr_matrix(x), y)
    else:
        recordio._write_numpy_to_dense_tensor(buffer, x.astype(np.float32), y)
    return buffer.getvalue()


@pytest.mark.parametrize("content_type", ["application/x-recordio-protobuf", "recordio-protobuf"])
@pytest.mark.parametrize("sparse", [False, True])
def test_recordio_protobuf_channels_train(
    image: str, tmp_path: Path, content_type: str, sparse: bool
) -> None:
    x, y = _classes()
    x[x < 0.2] = 0.0
    files = {"part-0.pbr": _records(x[:60], y[:60], sparse=sparse)}
    files["more/part-1.pbr"] = _records(x[60:], y[60:], sparse=sparse)
    write_job(
        tmp_path,
        {**FAST_HPS, "objective": "binary:logistic"},
        {"train": Channel(content_type, files)},
    )
    done = docker_run(["train"], opt_ml=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    booster = artifact.load(tmp_path / "model").booster
    assert booster.num_features() == 4
    assert re.search(r"^\[4\]\ttrain-logloss:", done.stdout, re.MULTILINE)


def test_kfold_job_then_serve_its_fold_models(image: str, tmp_path: Path) -> None:
    x, y = _classes()
    hps = {
        **FAST_HPS,
        "num_round": "6",
        "objective": "binary:logistic",
        "_kfold": "3",
        "early_stopping_rounds": "2",
        "eval_metric": "logloss",
    }
    write_job(
        tmp_path,
        hps,
        {
            "train": Channel("text/csv", {"t.csv": csv_text(x[:90], y[:90])}),
            "validation": Channel("text/csv", {"v.csv": csv_text(x[90:], y[90:])}),
        },
    )
    done = docker_run(["train"], opt_ml=tmp_path, timeout=180)
    assert done.returncode == 0, done.stderr
    model_dir = tmp_path / "model"
    folds = artifact.fold_model_files(model_dir)
    assert [p.name for p in folds] == ["xgboost-model-0", "xgboost-model-1", "xgboost-model-2"]
    table = np.loadtxt(tmp_path / "output" / "data" / "predictions.csv", delimiter=",")
    assert table.shape == (120, 3)
    assert CV_LINE.search(done.stdout), done.stdout[-2000:]
    model_dir.chmod(0o755)
    rows = x[:5].astype(np.float32)
    body = "\n".join(",".join(f"{v:.6g}" for v in row) for row in rows)
    expected = np.mean([artifact.load_booster(p).inplace_predict(rows) for p in folds], axis=0)
    with serving_container(model_dir) as (url, _):
        got = requests.post(
            f"{url}/invocations", data=body, headers={"Content-Type": "text/csv"}, timeout=30
        )
        assert got.status_code == 200, got.text
        values = np.asarray([float(v) for v in got.text.split()])
        np.testing.assert_allclose(values, expected, rtol=1e-4)
    with serving_container(model_dir, env={"SAGEMAKER_INFERENCE_ENSEMBLE": "false"}) as (url, _):
        got = requests.post(
            f"{url}/invocations", data=body, headers={"Content-Type": "text/csv"}, timeout=30
        )
        first = artifact.load_booster(folds[0]).inplace_predict(rows)
        np.testing.assert_allclose([float(v) for v in got.text.split()], first, rtol=1e-4)


def test_legacy_model_from_an_official_1x_image_stops_serve_saying_what_to_do(
    image: str, tmp_path: Path
) -> None:
    from tests.unit.serving.test_official_contracts import legacy_model_bytes

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "xgboost-model").write_bytes(legacy_model_bytes(b"binary:logistic"))
    result = docker_run(["serve"], opt_ml=tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "legacy binary format" in result.stderr and "xgboost<3.1" in result.stderr
