"""HTTP contract through the Flask test client: routes, statuses, JSON errors, batch mode."""

from __future__ import annotations

import json

import numpy as np
import pytest

from boostbox.config import MB, ServingConfig
from boostbox.errors import ConfigError
from boostbox.formats.mediatypes import ENCODABLE
from boostbox.serving.app import create_app
from boostbox.serving.codecs import ENCODERS
from boostbox.serving.predictor import OutputKind, Predictor
from tests.unit.serving.conftest import ClientFactory

ROW = "0.5,-1,2,0.25"


def test_ping_is_200_with_an_empty_body(make_client: ClientFactory) -> None:
    response = make_client().get("/ping")
    assert response.status_code == 200
    assert response.data == b""


def test_execution_parameters(make_client: ClientFactory) -> None:
    client = make_client(max_concurrent_transforms=4, max_payload_bytes=20 * MB)
    body = client.get("/execution-parameters").get_json()
    assert body == {
        "MaxConcurrentTransforms": 4,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 20,
    }


def test_csv_in_csv_out_by_default(
    make_client: ClientFactory, predictors: dict[str, Predictor]
) -> None:
    response = make_client().post("/invocations", data=f"{ROW}\n{ROW}", content_type="text/csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    lines = response.data.decode().splitlines()
    expected = predictors["binary"].booster.inplace_predict(
        np.asarray([[0.5, -1, 2, 0.25]] * 2, dtype=np.float32)
    )
    np.testing.assert_allclose([float(v) for v in lines], expected, rtol=1e-6)


def test_default_accept_override(make_client: ClientFactory) -> None:
    client = make_client(default_accept="application/json")
    for accept in (None, "*/*"):
        headers = {"Accept": accept} if accept else {}
        response = client.post("/invocations", data=ROW, content_type="text/csv", headers=headers)
        assert response.mimetype == "application/json"
        assert "score" in response.get_json()["predictions"][0]


def test_unsupported_default_accept_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT.*text/html"):
        ServingConfig.from_environ({"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/html"})


def test_every_configurable_accept_has_an_encoder() -> None:
    assert set(ENCODABLE) == set(ENCODERS)


def test_jsonlines_without_selection_is_one_score_per_line(make_client: ClientFactory) -> None:
    response = make_client("multiclass").post(
        "/invocations",
        data=f"{ROW}\n{ROW}\n{ROW}",
        content_type="text/csv",
        headers={"Accept": "application/jsonlines"},
    )
    assert response.status_code == 200
    lines = response.data.decode().splitlines()
    assert len(lines) == 3
    assert all(len(json.loads(line)["score"]) == 3 for line in lines)


@pytest.mark.parametrize("accept", ["text/csv", "application/json", "application/jsonlines"])
@pytest.mark.parametrize("model", ["binary", "multiclass", "regression"])
def test_batch_mode_answers_one_line_per_record(
    make_client: ClientFactory, accept: str, model: str
) -> None:
    rows = 70
    client = make_client(model, batch=True, inference_output=("predicted_label", "probabilities"))
    plain = make_client(model, batch=True)
    body = "\n".join([ROW] * rows)
    for c in (client, plain):
        response = c.post(
            "/invocations", data=body, content_type="text/csv", headers={"Accept": accept}
        )
        assert response.status_code == 200
        text = response.data.decode()
        assert text.endswith("\n")
        assert text.count("\n") == rows


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        (OutputKind.CONTRIBUTIONS, "contributions"),
        (OutputKind.LEAF, "leaf"),
        (OutputKind.MARGIN, "margin"),
    ],
)
def test_custom_outputs_through_the_header(
    make_client: ClientFactory, kind: OutputKind, key: str
) -> None:
    client = make_client("binary", inference_output=("predicted_label",))
    response = client.post(
        "/invocations",
        data=ROW,
        content_type="text/csv",
        headers={
            "Accept": "application/json",
            "X-Amzn-SageMaker-Custom-Attributes": f"output={kind}",
        },
    )
    assert response.status_code == 200
    assert list(response.get_json()["predictions"][0]) == [key]


def error(response: object) -> str:
    body = json.loads(response.data)  # type: ignore[attr-defined]
    assert list(body) == ["error"]
    return str(body["error"])


def test_empty_body_is_204(make_client: ClientFactory) -> None:
    response = make_client().post("/invocations", data=b"", content_type="text/csv")
    assert response.status_code == 204
    assert response.data == b""


@pytest.mark.parametrize(
    ("content_type", "body", "status", "names"),
    [
        ("text/csv", "1,2,3", 400, ["expects 4 features", "3 columns"]),
        ("text/csv", "1,2,3,4,5", 400, ["expects 4 features", "5 columns"]),
        ("text/csv", "1,2,3,4\n1,2,oops,4", 400, ["line 2", "column 3", "oops"]),
        ("text/libsvm", "0:1 9:1", 400, ["expects 4 features", "10 highest feature index"]),
        ("text/plain", ROW, 415, ["text/plain", "text/csv"]),
        ("application/json", "{}", 400, ["'instances' or 'features'"]),
        ("text/csv", "\n\n", 400, ["no records"]),
    ],
)
def test_errors_are_json_with_their_status(
    make_client: ClientFactory, content_type: str, body: str, status: int, names: list[str]
) -> None:
    response = make_client().post("/invocations", data=body, content_type=content_type)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    message = error(response)
    for name in names:
        assert name in message


class ExplodingPredictor(Predictor):
    """Counts calls and fails like a bug would."""

    calls = 0

    def predict(self, matrix: object, kind: OutputKind = OutputKind.PREDICTION) -> np.ndarray:
        ExplodingPredictor.calls += 1
        raise RuntimeError("boom")


@pytest.fixture
def exploding(predictors: dict[str, Predictor]) -> Predictor:
    predictor = predictors["binary"]
    broken = ExplodingPredictor.__new__(ExplodingPredictor)
    broken.__dict__.update(predictor.__dict__)
    ExplodingPredictor.calls = 0
    return broken


def test_bad_accept_is_406_before_predicting(exploding: Predictor) -> None:
    client = create_app(exploding, ServingConfig()).test_client()
    response = client.post(
        "/invocations", data=ROW, content_type="text/csv", headers={"Accept": "image/png"}
    )
    assert response.status_code == 406
    assert "image/png" in error(response)
    assert ExplodingPredictor.calls == 0


def test_unexpected_errors_are_500_json_and_the_app_keeps_serving(exploding: Predictor) -> None:
    client = create_app(exploding, ServingConfig()).test_client()
    response = client.post("/invocations", data=ROW, content_type="text/csv")
    assert response.status_code == 500
    assert "RuntimeError" in error(response)
    assert client.get("/ping").status_code == 200


@pytest.mark.parametrize("header", ["trace_id=abc", "3f2b8c1e-9d4a-4f6e-8a7b-2c1d0e9f8a7b"])
def test_foreign_custom_attributes_are_ignored(make_client: ClientFactory, header: str) -> None:
    client = make_client()
    plain = client.post("/invocations", data=ROW, content_type="text/csv")
    response = client.post(
        "/invocations",
        data=ROW,
        content_type="text/csv",
        headers={"X-Amzn-SageMaker-Custom-Attributes": header},
    )
    assert response.status_code == 200
    assert response.data == plain.data


def test_malformed_output_attribute_is_400(make_client: ClientFactory) -> None:
    response = make_client().post(
        "/invocations",
        data=ROW,
        content_type="text/csv",
        headers={"X-Amzn-SageMaker-Custom-Attributes": "trace_id=abc,output=explain"},
    )
    assert response.status_code == 400
    assert "output 'explain'" in error(response)


def test_payload_over_the_limit_is_413(make_client: ClientFactory) -> None:
    client = make_client(max_payload_bytes=1024)
    response = client.post("/invocations", data=(ROW + "\n") * 100, content_type="text/csv")
    assert response.status_code == 413
    assert "1024 byte limit" in error(response)


def test_unknown_routes_and_methods_are_json(make_client: ClientFactory) -> None:
    client = make_client()
    assert client.get("/nope").status_code == 404
    response = client.get("/invocations")
    assert response.status_code == 405
    assert error(response)
