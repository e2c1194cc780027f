"""`docker run IMAGE train` in script mode, and the three hyperparameter encodings in both modes."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from moto.server import ThreadedMotoServer

from boostbox import artifact
from tests.support import docker_run
from tests.unit.training.builders import Channel, csv_text, parquet_bytes, regression, write_job

pytestmark = pytest.mark.container

EXAMPLE = Path(__file__).resolve().parents[2] / "local_test" / "script" / "train_script.py"
X, Y = regression(rows=80, features=3)
CHANNELS = {
    "train": Channel("application/x-parquet", {"t.parquet": parquet_bytes(X[:60], Y[:60])}),
    "validation": Channel("text/csv", {"v.csv": csv_text(X[60:], Y[60:])}),
}
ECHO = """
import json, os, sys
with open(os.path.join(os.environ["SM_MODEL_DIR"], "argv.json"), "w") as handle:
    json.dump(sys.argv[1:], handle)
"""

ENCODINGS = {
    "plain": {"objective": "reg:squarederror", "num_round": "3", "verbosity": "1", "x": "True"},
    "json": {"objective": '"reg:squarederror"', "num_round": "3", "verbosity": "1", "x": "true"},
    "v3": {"objective": "reg:squarederror", "num_round": "3", "verbosity": "1", "x": "true"},
}
SCRIPT_KEYS = {"plain": "train.py", "json": '"train.py"', "v3": "train.py"}


def _code(opt_ml: Path, files: dict[str, str]) -> str:
    """The submit directory as SageMaker local mode passes it: a folder in the container."""
    source = opt_ml / "src"
    source.mkdir()
    for name, text in files.items():
        (source / name).write_text(textwrap.dedent(text))
    return "/opt/ml/src"


@pytest.fixture
def opt_ml(tmp_path: Path) -> Path:
    root = tmp_path / "opt_ml"
    root.mkdir()
    return root


def test_example_script_trains_an_xgbregressor_with_boostbox_readers(
    image: str, opt_ml: Path
) -> None:
    hps = {
        "sagemaker_program": '"train_script.py"',
        "sagemaker_submit_directory": '"/opt/ml/src"',
        "n_estimators": "7",
        "max_depth": "2",
    }
    write_job(opt_ml, hps, CHANNELS)
    (opt_ml / "src").mkdir()
    shutil.copy(EXAMPLE, opt_ml / "src" / "train_script.py")
    done = docker_run(["train"], opt_ml=opt_ml, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "validation_0-rmse" in done.stdout  # XGBRegressor's own eval lines
    model = artifact.load(opt_ml / "model")
    assert model.booster.num_boosted_rounds() == 7
    assert model.metadata.num_feature == 3
    assert np.isfinite(model.booster.inplace_predict(X[:5])).all()
    assert (opt_ml / "output" / "success").exists()


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_encodings_in_algorithm_mode(image: str, opt_ml: Path, encoding: str) -> None:
    hps = {k: v for k, v in ENCODINGS[encoding].items() if k != "x"}
    write_job(opt_ml, hps, {"train": CHANNELS["train"]})
    done = docker_run(["train"], opt_ml=opt_ml, timeout=120)
    assert done.returncode == 0, done.stderr
    assert artifact.load(opt_ml / "model").metadata.objective == "reg:squarederror"


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_encodings_in_script_mode(image: str, opt_ml: Path, encoding: str) -> None:
    hps = dict(ENCODINGS[encoding])
    hps["sagemaker_program"] = SCRIPT_KEYS[encoding]
    hps["sagemaker_submit_directory"] = _code(opt_ml, {"train.py": ECHO})
    write_job(opt_ml, hps, {"train": CHANNELS["train"]})
    done = docker_run(["train"], opt_ml=opt_ml, timeout=120)
    assert done.returncode == 0, done.stderr
    argv = json.loads((opt_ml / "model" / "argv.json").read_text())
    assert argv == [
        "--num_round",
        "3",
        "--objective",
        "reg:squarederror",
        "--verbosity",
        "1",
        "-x",
        "True",
    ]


def test_a_failing_script_is_one_failure_line_and_exit_2(image: str, opt_ml: Path) -> None:
    text = "import pandas\n\nraise KeyError('label')\n"
    hps = {"sagemaker_program": "train.py", "sagemaker_submit_directory": "file:///opt/ml/src"}
    _code(opt_ml, {"train.py": text, "requirements.txt": "# nothing to install\n"})
    write_job(opt_ml, hps, {"train": CHANNELS["train"]})
    done = docker_run(["train"], opt_ml=opt_ml, timeout=120)
    assert done.returncode == 2
    assert (opt_ml / "output" / "failure").read_text() == "train.py raised KeyError: 'label'\n"
    assert "Traceback (most recent call last)" in done.stderr
    assert "Installing requirements.txt" in done.stderr


def test_bash_python_and_pip_are_on_path_for_sdk_v3_sm_train(image: str) -> None:
    check = "command -v python3 python pip3 pip && pip3 --version"
    done = docker_run(["/bin/bash", "-c", check], timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("/opt/venv/bin/") == 4


@pytest.fixture
def moto_s3() -> Iterator[tuple[str, Any]]:
    """A moto S3 on a loopback port (the container reaches it through --network host)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        client = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_bucket(Bucket="code")
        yield url, client
    finally:
        server.stop()


def test_submit_directory_from_s3_with_the_trimmed_botocore(
    image: str, opt_ml: Path, moto_s3: tuple[str, Any]
) -> None:
    url, client = moto_s3
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = textwrap.dedent(ECHO).encode()
        info = tarfile.TarInfo("train.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    client.put_object(Bucket="code", Key="job/source/sourcedir.tar.gz", Body=buffer.getvalue())
    hps = {
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": '"s3://code/job/source/sourcedir.tar.gz"',
        "sagemaker_region": '"us-east-1"',
        "depth": "2",
    }
    write_job(opt_ml, hps, {"train": CHANNELS["train"]})
    env = {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    command = ["docker", "run", "--rm", "--network", "host", "-v", f"{opt_ml}:/opt/ml"]
    for key, value in env.items():
        command += ["-e", f"{key}={value}"]
    done = subprocess.run(
        [*command, image, "train"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((opt_ml / "model" / "argv.json").read_text()) == ["--depth", "2"]
