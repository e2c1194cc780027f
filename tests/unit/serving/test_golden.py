"""Golden request/response pairs under tests/data/golden (index.json lists them).

Each case names a model fixture (binary, multiclass, regression), the Content-Type, Accept,
optional custom attributes and ServingConfig fields, and the expected status. Responses are
compared after rounding every number to 4 significant digits (float32 and XGBoost release
noise). Regenerate after an intended change with: `python -m tests.unit.serving.test_golden`.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sagemaker_training import recordio

from tests.unit.serving.conftest import ClientFactory

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "golden"
NUMBER = re.compile(r"-?\d+\.?\d*(?:[eE][-+]?\d+)?")
LABEL_SIZE_1 = "text/csv; label_size=1"
CSV3 = b"0.5,-1,2,0.25\n-1.5,0.3,,1\n2,2,-0.5,-2\n"
ROWS = np.asarray([[0.5, -1, 2, 0.25], [-1.5, 0.3, np.nan, 1], [2, 2, -0.5, -2]], dtype=np.float32)


def _recordio(x: np.ndarray, sparse: bool) -> bytes:
    buffer = io.BytesIO()
    if sparse:
        recordio._write_spmatrix_to_sparse_tensor(buffer, sp.csr_matrix(np.nan_to_num(x)))
    else:
        recordio._write_numpy_to_dense_tensor(buffer, x)
    return buffer.getvalue()


def _parquet(x: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(x, columns=["a", "b", "c", "d"]).to_parquet(buffer)
    return buffer.getvalue()


def _cases() -> list[tuple[dict[str, Any], bytes]]:
    """(index entry, request body) for every golden case."""
    json_rows = json.dumps(
        {"instances": [[None if np.isnan(v) else float(v) for v in r] for r in ROWS]}
    )
    sel_all = [
        "predicted_label",
        "labels",
        "probability",
        "probabilities",
        "raw_score",
        "raw_scores",
    ]
    plain = [
        ("binary-csv-csv", "binary", "text/csv", "text/csv", CSV3),
        ("binary-csv-json", "binary", "text/csv", "application/json", CSV3),
        ("binary-csv-jsonlines", "binary", "text/csv", "application/jsonlines", CSV3),
        ("multiclass-csv-csv", "multiclass", "text/csv", "text/csv", CSV3),
        (
            "multiclass-json-json",
            "multiclass",
            "application/json",
            "application/json",
            json_rows.encode(),
        ),
        (
            "regression-jsonlines-csv",
            "regression",
            "application/jsonlines",
            "text/csv",
            b'[0.5,-1,2,0.25]\n[-1.5,0.3,null,1]\n{"features":[2,2,-0.5,-2]}\n',
        ),
        (
            "binary-libsvm-csv",
            "binary",
            "text/libsvm",
            "text/csv",
            b"1 0:0.5 1:-1 2:2 3:0.25\n0:-1.5 1:0.3 3:1\n0:2 1:2 2:-0.5 3:-2\n",
        ),
        (
            "binary-parquet-json",
            "binary",
            "application/x-parquet",
            "application/json",
            _parquet(ROWS),
        ),
        (
            "binary-recordio-dense-csv",
            "binary",
            "application/x-recordio-protobuf",
            "text/csv",
            _recordio(ROWS, sparse=False),
        ),
        (
            "binary-recordio-sparse-jsonlines",
            "binary",
            "application/x-recordio-protobuf",
            "application/jsonlines",
            _recordio(ROWS, sparse=True),
        ),
    ]
    cases: list[tuple[dict[str, Any], bytes]] = [
        ({"name": n, "model": m, "content_type": ct, "accept": a}, body)
        for n, m, ct, a, body in plain
    ]
    special: list[tuple[dict[str, Any], bytes]] = [
        (
            {
                "name": "binary-select-all-csv",
                "model": "binary",
                "accept": "text/csv",
                "config": {"inference_output": sel_all},
            },
            CSV3,
        ),
        (
            {
                "name": "multiclass-select-json",
                "model": "multiclass",
                "accept": "application/json",
                "config": {
                    "inference_output": ["predicted_label", "probabilities", "predicted_score"]
                },
            },
            CSV3,
        ),
        (
            {
                "name": "regression-select-jsonlines",
                "model": "regression",
                "accept": "application/jsonlines",
                "config": {"inference_output": ["predicted_score", "probability"]},
            },
            CSV3,
        ),
        (
            {
                "name": "binary-batch-json",
                "model": "binary",
                "accept": "application/json",
                "config": {"batch": True},
            },
            CSV3,
        ),
        (
            {
                "name": "multiclass-batch-csv",
                "model": "multiclass",
                "accept": "text/csv",
                "config": {"batch": True},
            },
            CSV3,
        ),
        (
            {
                "name": "binary-contributions-json",
                "model": "binary",
                "accept": "application/json",
                "custom_attributes": "output=contributions",
            },
            CSV3,
        ),
        (
            {
                "name": "multiclass-leaf-csv",
                "model": "multiclass",
                "accept": "text/csv",
                "custom_attributes": "output=leaf",
            },
            CSV3,
        ),
        (
            {
                "name": "multiclass-margin-jsonlines",
                "model": "multiclass",
                "accept": "application/jsonlines",
                "custom_attributes": "output=margin",
            },
            CSV3,
        ),
        (
            {"name": "error-malformed-csv", "model": "binary", "status": 400},
            b"1,2,3,4\n5,six,7,8\n",
        ),
        ({"name": "error-too-few-columns", "model": "binary", "status": 400}, b"1,2,3\n"),
        ({"name": "error-too-many-columns", "model": "binary", "status": 400}, b"1,2,3,4,5\n"),
        (
            {
                "name": "error-content-type",
                "model": "binary",
                "content_type": "text/plain",
                "status": 415,
            },
            CSV3,
        ),
        (
            {"name": "error-accept", "model": "binary", "accept": "application/xml", "status": 406},
            CSV3,
        ),
        (
            {
                "name": "error-custom-attribute",
                "model": "binary",
                "custom_attributes": "output=shap",
                "status": 400,
            },
            CSV3,
        ),
    ]
    official: list[tuple[dict[str, Any], bytes]] = [
        (
            {
                "name": "binary-bare-csv-xjsonlines",
                "model": "binary",
                "content_type": "CSV",
                "accept": "application/x-jsonlines",
            },
            CSV3,
        ),
        (
            {"name": "binary-labelsize1-csv", "model": "binary", "content_type": LABEL_SIZE_1},
            CSV3,
        ),
        (
            {"name": "binary-missing-spellings-csv", "model": "binary", "accept": "text/csv"},
            b"0.5,-1,2,0.25\n-1.5,0.3,NA,1\n2,null,-0.5,NaN\n",
        ),
        (
            {
                "name": "binary-gzip-json",
                "model": "binary",
                "accept": "application/json",
                "content_encoding": "gzip",
            },
            gzip.compress(CSV3, mtime=0),
        ),
        (
            {
                "name": "binary-foreign-attributes-csv",
                "model": "binary",
                "custom_attributes": "trace_id=abc,3f2b8c1e-9d4a-4f6e-8a7b-2c1d0e9f8a7b",
            },
            CSV3,
        ),
        (
            {
                "name": "error-label-size",
                "model": "binary",
                "content_type": "text/csv; label_size=2",
                "status": 400,
            },
            CSV3,
        ),
        (
            {"name": "error-content-encoding", "model": "binary", "content_encoding": "br"},
            CSV3,
        ),
    ]
    official[-1][0]["status"] = 415
    cases += special + official
    for entry, _ in cases:
        entry.setdefault("content_type", "text/csv")
        entry.setdefault("status", 200)
    return cases


def _call(make_client: ClientFactory, case: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    config = dict(case.get("config", {}))
    if "inference_output" in config:
        config["inference_output"] = tuple(config["inference_output"])
    headers = {"Content-Type": case["content_type"]}
    if "accept" in case:
        headers["Accept"] = case["accept"]
    if "content_encoding" in case:
        headers["Content-Encoding"] = case["content_encoding"]
    if "custom_attributes" in case:
        headers["X-Amzn-SageMaker-Custom-Attributes"] = case["custom_attributes"]
    response = make_client(case["model"], **config).post("/invocations", data=body, headers=headers)
    return response.status_code, response.data


def _rounded(text: str) -> str:
    return NUMBER.sub(lambda m: f"{float(m.group()):.4g}", text)


def _index() -> list[dict[str, Any]]:
    path = GOLDEN / "index.json"
    if not path.exists():  # test_index_lists_every_case fails then
        return []
    return list(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("case", _index(), ids=lambda c: str(c["name"]))
def test_golden(make_client: ClientFactory, case: dict[str, Any]) -> None:
    body = (GOLDEN / f"{case['name']}.request").read_bytes()
    expected = (GOLDEN / f"{case['name']}.response").read_text(encoding="utf-8")
    status, data = _call(make_client, case, body)
    assert status == case["status"]
    assert _rounded(data.decode()) == _rounded(expected)


def test_index_lists_every_case() -> None:
    assert [c["name"] for c in _index()] == [entry["name"] for entry, _ in _cases()]


def regenerate() -> None:
    """Write every case's request and current response (run after an intended change)."""
    from boostbox.artifact import LoadedModel, ModelMetadata
    from boostbox.config import ServingConfig
    from boostbox.serving.app import create_app
    from boostbox.serving.predictor import Predictor
    from tests.unit.serving.conftest import MODELS, train

    predictors = {}
    for name, objective in MODELS.items():
        booster = train(objective)
        predictors[name] = Predictor(LoadedModel(booster, ModelMetadata.from_booster(booster)))

    def make(model: str = "binary", **config: Any) -> Any:
        return create_app(predictors[model], ServingConfig(**config)).test_client()

    GOLDEN.mkdir(parents=True, exist_ok=True)
    index = []
    for entry, body in _cases():
        (GOLDEN / f"{entry['name']}.request").write_bytes(body)
        status, data = _call(make, entry, body)
        assert status == entry["status"], (entry, status, data)
        (GOLDEN / f"{entry['name']}.response").write_bytes(data)
        index.append(entry)
    (GOLDEN / "index.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    regenerate()
