"""`docker run IMAGE serve` against models trained on the host: the SageMaker inference contract.

A handful of containers (one per configuration, module-scoped) keep the suite short.
"""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests
import scipy.sparse as sp
from sagemaker_training import recordio

from tests.support import docker_run, serving_container
from tests.unit.serving.conftest import features, save, train

pytestmark = pytest.mark.container

CSV = "0.5,-1,2,0.25\n-1.5,0.3,,1\n2,2,-0.5,-2\n"
ROWS = np.asarray([[0.5, -1, 2, 0.25], [-1.5, 0.3, np.nan, 1], [2, 2, -0.5, -2]], np.float32)


def _recordio(sparse: bool) -> bytes:
    buffer = io.BytesIO()
    if sparse:
        recordio._write_spmatrix_to_sparse_tensor(buffer, sp.csr_matrix(np.nan_to_num(ROWS)))
    else:
        recordio._write_numpy_to_dense_tensor(buffer, ROWS)
    return buffer.getvalue()


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(ROWS, columns=list("abcd")).to_parquet(buffer)
    return buffer.getvalue()


BODIES = {
    "text/csv": CSV.encode(),
    "text/libsvm": b"0:0.5 1:-1 2:2 3:0.25\n1 0:-1.5 1:0.3 3:1\n0:2 1:2 2:-0.5 3:-2\n",
    "application/json": json.dumps(
        {"instances": [[None if np.isnan(v) else float(v) for v in row] for row in ROWS]}
    ).encode(),
    "application/jsonlines": b'[0.5,-1,2,0.25]\n[-1.5,0.3,null,1]\n{"features":[2,2,-0.5,-2]}\n',
    "application/x-parquet": _parquet(),
    "application/x-recordio-protobuf": _recordio(sparse=False),
}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("served")
    dirs = {
        "binary": save(train("binary:logistic"), root / "binary"),
        "regression": save(train("reg:squarederror"), root / "regression"),
    }
    official = root / "official"  # what the official algorithm writes: the native file only
    official.mkdir()
    raw = train("multi:softprob").save_raw(raw_format="ubj")
    (official / "xgboost-model").write_bytes(bytes(raw))
    dirs["multiclass"] = official
    for path in dirs.values():
        path.chmod(0o755)
    return dirs


@pytest.fixture(scope="module")
def binary_url(image: str, models: dict[str, Path]) -> Iterator[str]:
    with serving_container(models["binary"], env={"MODEL_SERVER_WORKERS": "2"}) as (url, _):
        yield url


@pytest.fixture(scope="module")
def binary_expected(models: dict[str, Path]) -> np.ndarray:
    from boostbox import artifact

    return np.asarray(artifact.load(models["binary"]).booster.inplace_predict(ROWS))


def post(url: str, body: bytes, content_type: str, **headers: str) -> requests.Response:
    return requests.post(
        f"{url}/invocations",
        data=body,
        headers={"Content-Type": content_type, **headers},
        timeout=30,
    )


def test_ping_and_execution_parameters(binary_url: str) -> None:
    ping = requests.get(f"{binary_url}/ping", timeout=5)
    assert ping.status_code == 200 and ping.content == b""
    params = requests.get(f"{binary_url}/execution-parameters", timeout=5).json()
    assert params["BatchStrategy"] == "MULTI_RECORD"
    assert params["MaxPayloadInMB"] == 6
    assert params["MaxConcurrentTransforms"] >= 1


@pytest.mark.parametrize("content_type", sorted(BODIES))
@pytest.mark.parametrize("accept", ["text/csv", "application/json", "application/jsonlines"])
def test_every_content_type_and_accept(
    binary_url: str, binary_expected: np.ndarray, content_type: str, accept: str
) -> None:
    response = post(binary_url, BODIES[content_type], content_type, Accept=accept)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(accept)
    if accept == "text/csv":
        got = [float(line) for line in response.text.splitlines()]
    elif accept == "application/json":
        got = [p["score"] for p in response.json()["predictions"]]
    else:
        got = [json.loads(line)["score"] for line in response.text.splitlines()]
    np.testing.assert_allclose(got, binary_expected, rtol=1e-5)


def test_sparse_recordio_and_recordio_output(binary_url: str, binary_expected: np.ndarray) -> None:
    from sagemaker_training.record_pb2 import Record

    from boostbox.formats.recordio import frames as _frames

    response = post(
        binary_url,
        _recordio(sparse=True),
        "application/x-recordio-protobuf",
        Accept="application/x-recordio-protobuf",
    )
    assert response.status_code == 200
    scores = []
    for frame in _frames(response.content):
        record = Record()
        record.ParseFromString(frame)
        scores += list(record.label["score"].float32_tensor.values)
    np.testing.assert_allclose(scores, binary_expected, rtol=1e-5)


@pytest.mark.parametrize(
    ("attribute", "key", "width"),
    [
        ("output=contributions", "contributions", 5),
        ("output=leaf", "leaf", 8),
        ("output=margin", "margin", 0),
    ],
)
def test_custom_attributes_select_extra_outputs(
    binary_url: str, attribute: str, key: str, width: int
) -> None:
    response = post(
        binary_url,
        CSV.encode(),
        "text/csv",
        Accept="application/json",
        **{"X-Amzn-SageMaker-Custom-Attributes": attribute},
    )
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert len(predictions) == 3
    value = predictions[0][key]
    assert (len(value) if width else 0) == width


@pytest.mark.parametrize(
    ("body", "content_type", "headers", "status", "needle"),
    [
        (b"", "text/csv", {}, 204, ""),
        (b"1,2,3\n", "text/csv", {}, 400, "expects 4 features"),
        (b"1,2,3,4,5\n", "text/csv", {}, 400, "expects 4 features"),
        (b"1,2,3,4\n1,x,3,4\n", "text/csv", {}, 400, "line 2, column 2"),
        (CSV.encode(), "text/plain", {}, 415, "text/plain"),
        (CSV.encode(), "text/csv", {"Accept": "image/png"}, 406, "image/png"),
        (CSV.encode(), "text/csv", {"X-Amzn-SageMaker-Custom-Attributes": "output=x"}, 400, "'x'"),
        (CSV.encode(), "text/csv", {"Content-Encoding": "br"}, 415, "Content-Encoding 'br'"),
    ],
)
def test_error_statuses(
    binary_url: str,
    body: bytes,
    content_type: str,
    headers: dict[str, str],
    status: int,
    needle: str,
) -> None:
    response = post(binary_url, body, content_type, **headers)
    assert response.status_code == status
    if status != 204:
        assert needle in response.json()["error"]
    assert requests.get(f"{binary_url}/ping", timeout=5).status_code == 200


def _raw_request(url: str, headers: str, body: bytes = b"") -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=20)
    sock.sendall(headers.encode() + body)
    return sock


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_payload_over_the_limit_is_413_without_reading_it(binary_url: str) -> None:
    size = 7 * 1024 * 1024
    sock = _raw_request(
        binary_url,
        "POST /invocations HTTP/1.1\r\nHost: test\r\nContent-Type: text/csv\r\n"
        f"Content-Length: {size}\r\nExpect: 100-continue\r\n\r\n",
    )
    with sock:
        data = _read_until(sock, b'"}')
    assert b" 413 " in data
    assert b"6291456 byte limit" in data


def test_selection_binary_every_accept(image: str, models: dict[str, Path]) -> None:
    env = {"SAGEMAKER_INFERENCE_OUTPUT": "Predicted_Label, probabilities"}
    with serving_container(models["binary"], env=env) as (url, _):
        lines = post(url, CSV.encode(), "text/csv", Accept="text/csv").text.splitlines()
        assert len(lines) == 3 and lines[0].split(",", 1)[1].startswith('"[')
        body = post(url, CSV.encode(), "text/csv", Accept="application/json").json()
        assert list(body["predictions"][0]) == ["predicted_label", "probabilities"]
        jsonlines = post(url, CSV.encode(), "text/csv", Accept="application/jsonlines").text
        first = json.loads(jsonlines.splitlines()[0])
        assert first["predicted_label"] in (0, 1) and len(first["probabilities"]) == 2


def first_probability(body: dict[str, list[dict[str, float]]]) -> str:
    return str(np.float32(body["predictions"][0]["probability"]))


def test_selection_multiclass_official_model(image: str, models: dict[str, Path]) -> None:
    env = {"SAGEMAKER_INFERENCE_OUTPUT": "predicted_label,labels,probability,predicted_score"}
    with serving_container(models["multiclass"], env=env) as (url, _):
        body = post(url, CSV.encode(), "text/csv", Accept="application/json").json()
        first = body["predictions"][0]
        assert first["labels"] == [0, 1, 2]
        assert 0 <= first["probability"] <= 1
        assert first["predicted_score"] is None  # not valid for multi:softprob -> NaN -> null
        plain = post(url, CSV.encode(), "text/csv", Accept="text/csv").text.splitlines()
        assert next(csv.reader(plain[:1])) == ["1", "[0, 1, 2]", first_probability(body), "nan"]


def test_regression_batch_of_5mb_keeps_one_line_per_record(
    image: str, models: dict[str, Path]
) -> None:
    rows = features(rows=150_000, seed=3, missing=0.05)
    text = pd.DataFrame(rows).to_csv(header=False, index=False, float_format="%.6f")
    assert len(text) > 5 * 1024 * 1024
    env = {"SAGEMAKER_BATCH": "true", "SAGEMAKER_INFERENCE_OUTPUT": "predicted_score"}
    with serving_container(models["regression"], env=env) as (url, _):
        for accept in ("text/csv", "application/jsonlines"):
            response = post(url, text.encode(), "text/csv", Accept=accept)
            assert response.status_code == 200, response.text[:200]
            assert response.text.endswith("\n")
            assert response.text.count("\n") == len(rows)


def test_sigterm_lets_the_in_flight_request_finish(image: str, models: dict[str, Path]) -> None:
    with serving_container(models["binary"], env={"MODEL_SERVER_WORKERS": "1"}) as (url, name):
        body = CSV.encode()
        sock = _raw_request(
            url,
            "POST /invocations HTTP/1.1\r\nHost: test\r\nContent-Type: text/csv\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n",
        )
        with sock:
            # The worker has parsed the headers and is waiting for the body: in flight.
            assert b"100 Continue" in _read_until(sock, b"100 Continue\r\n\r\n")
            subprocess.run(["docker", "kill", "--signal", "TERM", name], check=True)
            _wait_for_log(name, "Handling signal: term")
            sock.sendall(body)
            answer = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        assert b"HTTP/1.1 200" in answer
        assert answer.rstrip().count(b"\n") >= 3
        assert _wait_for_exit(name) == 0


def test_the_fast_path_walks_trees_in_c(image: str, models: dict[str, Path]) -> None:
    """The image compiles serving/_treewalk.so: each worker's model load names the walk."""
    with serving_container(models["binary"], env={"MODEL_SERVER_WORKERS": "1"}) as (url, name):
        assert post(url, CSV.encode(), "text/csv").status_code == 200
        _wait_for_log(name, "fast path compiled (pid")


def _wait_for_log(name: str, text: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True)
        if text in logs.stdout + logs.stderr:
            return
        time.sleep(0.1)
    raise TimeoutError(f"'{text}' not in the logs of {name} within {timeout}s")


def _wait_for_exit(name: str, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", name],
            capture_output=True,
            text=True,
        ).stdout.split()
        if state and state[0] == "false":
            return int(state[1])
        time.sleep(0.1)
    raise TimeoutError(f"{name} still running after {timeout}s")


def test_missing_model_exits_non_zero_with_one_clear_line(image: str, tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    result = docker_run(["serve"], opt_ml=tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "cannot start: No model file in /opt/ml/model" in result.stderr


def test_pickled_model_is_refused_without_the_opt_in(image: str, tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "xgboost-model").write_bytes(b"\x80\x04legacy")
    result = docker_run(["serve"], opt_ml=tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr  # refused before any worker starts
    assert "cannot start" in result.stderr and "BOOSTBOX_ALLOW_PICKLE" in result.stderr
