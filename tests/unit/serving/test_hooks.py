"""Serving script mode: each hook alone over the built-in stages, transform_fn, errors."""

from __future__ import annotations

import io
import json
import logging
import tarfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from flask.testing import FlaskClient

from boostbox.artifact import MODEL_FILE
from boostbox.config import ServingConfig
from boostbox.errors import ConfigError, ModelLoadError
from boostbox.paths import OptMl
from boostbox.serving import hooks, server
from boostbox.serving.app import create_app
from boostbox.serving.multimodel.app import create_multi_model_app
from boostbox.serving.multimodel.registry import ModelRegistry
from tests.unit.serving.conftest import serve_main

ROW = [0.5, -1.0, 2.0, 0.25]
CSV = ",".join(str(v) for v in ROW)


def expected(model_dir: Path, rows: int = 1) -> np.ndarray:
    booster = xgb.Booster()
    booster.load_model(bytearray((model_dir / MODEL_FILE).read_bytes()))
    return np.asarray(booster.inplace_predict(np.asarray([ROW] * rows, dtype=np.float32)))


def write_module(folder: Path, source: str, name: str = "inference.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def client_for(model_dir: Path, program: Path, **config: Any) -> FlaskClient:
    settings = ServingConfig(**config)
    return create_app(hooks.load_handler(model_dir, settings, program), settings).test_client()


def post(client: FlaskClient, body: str = CSV, **headers: str) -> Any:
    return client.post("/invocations", data=body, headers={"Content-Type": "text/csv", **headers})


MODEL_FN = """
import os
import xgboost

def model_fn(model_dir):
    booster = xgboost.Booster()
    with open(os.path.join(model_dir, "xgboost-model"), "rb") as handle:
        booster.load_model(bytearray(handle.read()))
    return booster
"""


def test_model_fn_alone_returns_a_booster_the_builtin_stages_use(
    tmp_path: Path, model_dirs: dict[str, Path]
) -> None:
    client = client_for(model_dirs["binary"], write_module(tmp_path, MODEL_FN))
    response = post(client, f"{CSV}\n{CSV}", Accept="application/json")
    assert response.status_code == 200
    scores = [p["score"] for p in response.get_json()["predictions"]]
    np.testing.assert_allclose(scores, expected(model_dirs["binary"], 2), rtol=1e-6)


def test_model_fn_with_a_sklearn_style_object(tmp_path: Path, model_dirs: dict[str, Path]) -> None:
    source = """
    class Constant:
        def predict(self, data):
            return [7.0] * data.shape[0]

    def model_fn(model_dir):
        return Constant()
    """
    client = client_for(model_dirs["binary"], write_module(tmp_path, source))
    assert post(client, f"{CSV}\n{CSV}").data.decode().splitlines() == ["7.0", "7.0"]


def test_input_fn_alone(tmp_path: Path, model_dirs: dict[str, Path]) -> None:
    source = """
    import numpy as np

    def input_fn(body, content_type):
        assert content_type == "text/x-pipes"
        return np.asarray([[float(v) for v in body.decode().split("|")]], dtype=np.float32)
    """
    client = client_for(model_dirs["binary"], write_module(tmp_path, source))
    body = "|".join(str(v) for v in ROW)
    response = post(client, body, **{"Content-Type": "text/x-pipes"})
    assert response.status_code == 200
    np.testing.assert_allclose(float(response.data), expected(model_dirs["binary"])[0], rtol=1e-6)


def test_predict_fn_alone_gets_boostbox_predictor(
    tmp_path: Path, model_dirs: dict[str, Path]
) -> None:
    source = """
    def predict_fn(data, model):
        return 1.0 - model.predict(data)
    """
    client = client_for(model_dirs["binary"], write_module(tmp_path, source))
    response = post(client)
    np.testing.assert_allclose(
        float(response.data), 1.0 - expected(model_dirs["binary"])[0], rtol=1e-6
    )


def test_output_fn_alone_sees_accept_and_sets_the_type(
    tmp_path: Path, model_dirs: dict[str, Path]
) -> None:
    source = """
    import json

    def output_fn(prediction, accept):
        return json.dumps({"accept": accept, "p": prediction.tolist()}), "application/x-mine"
    """
    client = client_for(model_dirs["binary"], write_module(tmp_path, source))
    response = post(client, Accept="text/plain")
    assert response.status_code == 200
    assert response.mimetype == "application/x-mine"
    body = json.loads(response.data)
    assert body["accept"] == "text/plain"
    np.testing.assert_allclose(body["p"], expected(model_dirs["binary"]), rtol=1e-6)


def test_output_fn_gets_the_default_accept_for_star(
    tmp_path: Path, model_dirs: dict[str, Path]
) -> None:
    source = """
    def output_fn(prediction, accept):
        return accept
    """
    client = client_for(model_dirs["binary"], write_module(tmp_path, source))
    response = post(client, Accept="*/*")
    assert response.data == b"text/csv"
    assert response.mimetype == "text/csv"


def test_transform_fn(tmp_path: Path, model_dirs: dict[str, Path]) -> None:
    source = """
    def transform_fn(model, body, content_type, accept):
        return f"{type(model).__name__} {len(body)} {content_type} {accept}"
    """
    client = client_for(model_dirs["binary"], write_module(tmp_path, source))
    response = post(client, Accept="application/json")
    assert response.data.decode() == f"Predictor {len(CSV)} text/csv application/json"
    assert response.mimetype == "application/json"


@pytest.mark.parametrize("other", ["input_fn", "predict_fn", "output_fn"])
def test_transform_fn_with_another_hook_is_a_startup_error(tmp_path: Path, other: str) -> None:
    source = f"""
    def transform_fn(model, body, content_type, accept):
        return body

    def {other}(*args):
        return None
    """
    with pytest.raises(ConfigError, match=f"transform_fn and {other}"):
        hooks.load_module(write_module(tmp_path, source))


def test_model_fn_only_module_keeps_every_builtin_feature(
    tmp_path: Path, model_dirs: dict[str, Path]
) -> None:
    """No hooks at all but SAGEMAKER_PROGRAM set: the selection and custom outputs still work."""
    client = client_for(
        model_dirs["binary"],
        write_module(tmp_path, "VALUE = 1\n"),
        inference_output=("predicted_label",),
    )
    assert post(client).data.decode().strip() in ("0", "1")
    leaf = post(client, **{"X-Amzn-SageMaker-Custom-Attributes": "output=leaf"})
    assert leaf.status_code == 200
    assert post(client, Accept="image/png").status_code == 406


@pytest.mark.parametrize(
    ("source", "status", "fragment"),
    [
        (
            "def input_fn(body, ct):\n    raise ValueError('bad\\nsecond line')\n",
            500,
            "inference.py: input_fn raised ValueError: bad",
        ),
        (
            "def predict_fn(data, model):\n    return {}['missing']\n",
            500,
            "predict_fn raised KeyError",
        ),
        (
            "from boostbox.errors import BadRequest\n"
            "def input_fn(body, ct):\n    raise BadRequest('no pipes')\n",
            400,
            "no pipes",
        ),
        ("def output_fn(prediction, accept):\n    return 42\n", 500, "output_fn returned a int"),
    ],
)
def test_a_raising_hook_answers_one_json_line_and_the_worker_serves_on(
    tmp_path: Path,
    model_dirs: dict[str, Path],
    caplog: pytest.LogCaptureFixture,
    source: str,
    status: int,
    fragment: str,
) -> None:
    client = client_for(model_dirs["binary"], write_module(tmp_path, source))
    with caplog.at_level(logging.INFO):
        response = post(client)
    assert response.status_code == status
    message = response.get_json()["error"]
    assert fragment in message
    assert "\n" not in message
    assert client.get("/ping").status_code == 200
    assert post(client).status_code == status


def test_a_raising_model_fn_is_a_model_load_error(
    tmp_path: Path, model_dirs: dict[str, Path]
) -> None:
    program = write_module(tmp_path, "def model_fn(model_dir):\n    raise OSError('no file')\n")
    with pytest.raises(ModelLoadError, match="model_fn raised OSError: no file"):
        hooks.load_handler(model_dirs["binary"], ServingConfig(), program)


def test_import_error_and_missing_module_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be imported: ModuleNotFoundError"):
        hooks.load_module(write_module(tmp_path, "import not_a_module_anywhere\n"))
    with pytest.raises(ConfigError, match="SAGEMAKER_PROGRAM.*does not exist"):
        hooks.load_module(tmp_path / "absent.py")


def test_the_module_imports_its_siblings(tmp_path: Path, model_dirs: dict[str, Path]) -> None:
    write_module(tmp_path, "FACTOR = 3.0\n", name="helper_for_boostbox_test.py")
    source = """
    import helper_for_boostbox_test

    def predict_fn(data, model):
        return model.predict(data) * 0 + helper_for_boostbox_test.FACTOR
    """
    client = client_for(model_dirs["binary"], write_module(tmp_path, source))
    assert post(client).data.decode().strip() == "3.0"


# --- where the module is found -----------------------------------------------------------


def config_for(root: Path, **environ: str) -> ServingConfig:
    return ServingConfig.from_environ({"SAGEMAKER_BASE_DIR": str(root), **environ})


def test_program_defaults_to_model_code_folder(tmp_path: Path) -> None:
    assert hooks.program_path(config_for(tmp_path)) is None
    found = hooks.program_path(config_for(tmp_path, SAGEMAKER_PROGRAM="inference"))
    assert found == tmp_path / "model" / "code" / "inference.py"


@pytest.mark.parametrize("prefix", ["", "file://"])
def test_submit_directory_as_folder_or_file_url(tmp_path: Path, prefix: str) -> None:
    (tmp_path / "src").mkdir()
    config = config_for(
        tmp_path, SAGEMAKER_PROGRAM="serve.py", SAGEMAKER_SUBMIT_DIRECTORY=f"{prefix}{tmp_path}/src"
    )
    assert hooks.program_path(config) == tmp_path / "src" / "serve.py"


def test_submit_directory_as_tarball(tmp_path: Path) -> None:
    archive = tmp_path / "sourcedir.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"def output_fn(prediction, accept):\n    return 'tar'\n"
        info = tarfile.TarInfo("serve.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    config = config_for(
        tmp_path, SAGEMAKER_PROGRAM="serve.py", SAGEMAKER_SUBMIT_DIRECTORY=f"file://{archive}"
    )
    path = hooks.program_path(config)
    assert path is not None and path.name == "serve.py"
    assert "output_fn" in hooks.load_module(path).hooks


def test_main_stops_with_exit_2_on_a_hook_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write_module(
        tmp_path / "model" / "code",
        "def transform_fn(m, b, c, a):\n    return b\n\ndef output_fn(p, a):\n    return p\n",
    )
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(tmp_path))
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "inference.py")
    assert serve_main() == 2
    assert "transform_fn and output_fn" in caplog.text


def test_worker_builds_the_app_through_model_fn(
    tmp_path: Path, model_dirs: dict[str, Path]
) -> None:
    """No xgboost-model in /opt/ml/model: model_fn decides what the model is."""
    source = MODEL_FN.replace(
        'os.path.join(model_dir, "xgboost-model")', repr(str(model_dirs["binary"] / MODEL_FILE))
    )
    write_module(tmp_path / "model" / "code", source)
    config = config_for(tmp_path, SAGEMAKER_PROGRAM="inference.py")
    assert server.check_program(config) is not None
    client = server.build_app(config).test_client()
    np.testing.assert_allclose(
        float(post(client).data), expected(model_dirs["binary"])[0], rtol=1e-6
    )


# --- multi-model ----------------------------------------------------------------------------


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[ModelRegistry]:
    created = ModelRegistry.create(tmp_path)
    yield created
    created.destroy()


def test_multi_model_uses_each_model_own_inference_module(
    tmp_path: Path, model_dirs: dict[str, Path], registry: ModelRegistry
) -> None:
    scripted = tmp_path / "scripted"
    scripted.mkdir()
    (scripted / MODEL_FILE).write_bytes((model_dirs["binary"] / MODEL_FILE).read_bytes())
    write_module(scripted / "code", "def output_fn(prediction, accept):\n    return 'scripted'\n")
    worker = create_multi_model_app(
        registry, ServingConfig(multi_model=True), memory=lambda: None
    ).test_client()
    for name, url in (("plain", model_dirs["binary"]), ("scripted", scripted)):
        loaded = worker.post("/models", json={"model_name": name, "url": str(url)})
        assert loaded.status_code == 200, loaded.get_json()
    invoke = {"data": CSV, "headers": {"Content-Type": "text/csv"}}
    assert worker.post("/models/scripted/invoke", **invoke).data == b"scripted"
    plain = worker.post("/models/plain/invoke", **invoke)
    np.testing.assert_allclose(float(plain.data), expected(model_dirs["binary"])[0], rtol=1e-6)


def test_multi_model_hook_conflict_is_a_400_on_load(
    tmp_path: Path, model_dirs: dict[str, Path], registry: ModelRegistry
) -> None:
    broken = tmp_path / "broken"
    write_module(
        broken / "code",
        "def transform_fn(m, b, c, a):\n    return b\n\ndef input_fn(b, c):\n    return b\n",
    )
    (broken / MODEL_FILE).write_bytes((model_dirs["binary"] / MODEL_FILE).read_bytes())
    worker = create_multi_model_app(registry, ServingConfig(), memory=lambda: None).test_client()
    loaded = worker.post("/models", json={"model_name": "broken", "url": str(broken)})
    assert loaded.status_code == 400
    assert "transform_fn and input_fn" in loaded.get_json()["error"]


def test_serving_config_reads_program_and_submit_directory() -> None:
    config = ServingConfig.from_environ(
        {"SAGEMAKER_PROGRAM": " inference.py ", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/code"}
    )
    assert (config.program, config.submit_directory) == ("inference.py", "/opt/ml/code")
    assert ServingConfig.from_environ({}).program is None
    assert OptMl(Path("/x")).model_dir / "code" == Path("/x/model/code")


def test_main_installs_requirements_first_and_stops_when_pip_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    code = tmp_path / "model" / "code"
    write_module(code, "def output_fn(p, a):\n    return 'x'\n")
    (code / "requirements.txt").write_text("==not a requirement\n")
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(tmp_path))
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "inference.py")
    assert serve_main() == 2
    assert "pip install -r requirements.txt failed with status 1" in caplog.text
