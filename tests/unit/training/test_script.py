"""Training script mode: the user's entry point, its arguments, SM_* variables and failures."""

from __future__ import annotations

import io
import json
import tarfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from boostbox.config import TrainingConfig
from boostbox.training import job as training_job
from boostbox.training import script

SCRIPT = """
import json, os, sys

with open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w") as handle:
    json.dump({"argv": sys.argv[1:], "cwd": os.getcwd(),
               "env": {k: v for k, v in os.environ.items() if k.startswith("SM_")}}, handle)
"""

ENCODINGS = {
    "plain (v2 Estimator)": {"sagemaker_program": "train.py", "max_depth": "3", "flag": "True"},
    "JSON (v2 framework)": {
        "sagemaker_program": '"train.py"',
        "max_depth": "3",
        "flag": "true",
        "_tuning_objective_metric": '"validation:rmse"',
    },
    "v3 (strings plain, JSON otherwise)": {
        "sagemaker_program": "train.py",
        "max_depth": "3",
        "flag": "true",
    },
}


@dataclass
class Job:
    root: Path
    capfd: pytest.CaptureFixture[str]
    environ: dict[str, str] = field(default_factory=dict)

    def write(self, hyperparameters: dict[str, str], **environ: str) -> None:
        config = self.root / "input" / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
        (self.root / "input" / "data" / "train").mkdir(parents=True, exist_ok=True)
        self.environ = {"SAGEMAKER_BASE_DIR": str(self.root), "PATH": "/usr/bin:/bin", **environ}

    def run(self) -> tuple[int, str | None, str]:
        code = training_job.main(self.environ)
        failure = self.root / "output" / "failure"
        err = self.capfd.readouterr().err
        return code, failure.read_text() if failure.exists() else None, err

    def seen(self) -> dict[str, Any]:
        return dict(json.loads((self.root / "model" / "seen.json").read_text()))


@pytest.fixture
def job(opt_ml: Path, capfd: pytest.CaptureFixture[str]) -> Job:
    return Job(opt_ml, capfd)


def source_dir(tmp_path: Path, text: str = SCRIPT, name: str = "train.py") -> Path:
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text))
    return folder


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_three_encodings_give_the_script_the_same_arguments(
    job: Job, tmp_path: Path, encoding: str
) -> None:
    hps = {**ENCODINGS[encoding], "sagemaker_submit_directory": str(source_dir(tmp_path))}
    job.write(hps)
    code, failure, _ = job.run()
    assert (code, failure) == (0, None)
    seen = job.seen()
    assert seen["argv"] == ["--flag", "True", "--max_depth", "3"]
    assert seen["cwd"] == str(job.root / "code")
    assert (job.root / "output" / "success").exists()


def test_sm_variables_follow_the_training_toolkit(job: Job, tmp_path: Path) -> None:
    job.write(
        {"sagemaker_program": "train.py", "eta": "0.1", "layers": "[1, 2]", "name": "x"},
        SAGEMAKER_SUBMIT_DIRECTORY=f"file://{source_dir(tmp_path)}",
    )
    assert job.run()[0] == 0
    env = job.seen()["env"]
    assert env["SM_MODEL_DIR"] == str(job.root / "model")
    assert env["SM_CHANNEL_TRAIN"] == str(job.root / "input" / "data" / "train")
    assert env["SM_CHANNELS"] == '["train"]'
    assert json.loads(env["SM_HPS"]) == {"eta": 0.1, "layers": [1, 2], "name": "x"}
    assert (env["SM_HP_ETA"], env["SM_HP_LAYERS"], env["SM_HP_NAME"]) == ("0.1", "[1,2]", "x")
    assert env["SM_USER_ENTRY_POINT"] == "train.py"
    assert json.loads(env["SM_USER_ARGS"]) == ["--eta", "0.1", "--layers", "[1, 2]", "--name", "x"]
    assert env["SM_CURRENT_HOST"] == "algo-1" and env["SM_HOSTS"] == '["algo-1"]'
    assert "SM_HP_SAGEMAKER_PROGRAM" not in env
    assert json.loads(env["SM_TRAINING_ENV"])["model_dir"] == str(job.root / "model")


def test_sagemaker_program_env_and_code_already_in_opt_ml_code(job: Job) -> None:
    source_dir(job.root, name="fit.py").rename(job.root / "code")
    job.write({"alpha": "1"}, SAGEMAKER_PROGRAM="fit.py")
    assert job.run()[0] == 0
    assert job.seen()["argv"] == ["--alpha", "1"]


def _tarball(path: Path, files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = textwrap.dedent(text).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def test_submit_directory_as_a_local_tarball(job: Job, tmp_path: Path) -> None:
    archive = tmp_path / "sourcedir.tar.gz"
    _tarball(archive, {"train.py": SCRIPT})
    job.write({"sagemaker_program": "train.py", "sagemaker_submit_directory": str(archive)})
    assert job.run()[0] == 0


def test_a_raising_script_is_one_failure_line_and_its_traceback_on_stderr(
    job: Job, tmp_path: Path
) -> None:
    text = "def fit():\n    raise ValueError('no label column\\nsecond line')\n\nfit()\n"
    job.write(
        {
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": str(source_dir(tmp_path, text)),
        }
    )
    code, failure, err = job.run()
    assert code == 2
    assert failure == "train.py raised ValueError: no label column\n"
    assert "Traceback (most recent call last)" in err and "in fit" in err


@pytest.mark.parametrize(
    ("text", "name", "line"),
    [
        ("import sys\nsys.exit(3)\n", "train.py", "train.py exited with status 3"),
        ('#!/bin/sh\necho "$@" >&2\nexit 4\n', "train.sh", "train.sh exited with status 4."),
    ],
)
def test_exit_status_of_python_and_shell_entry_points(
    job: Job, tmp_path: Path, text: str, name: str, line: str
) -> None:
    job.write(
        {
            "sagemaker_program": name,
            "key": "v",
            "sagemaker_submit_directory": str(source_dir(tmp_path, text, name)),
        }
    )
    code, failure, err = job.run()
    assert (code, failure) == (2, line + "\n")
    if name.endswith(".sh"):
        assert "--key v" in err


def test_missing_entry_point_names_what_is_there(job: Job, tmp_path: Path) -> None:
    job.write(
        {"sagemaker_program": "nope.py", "sagemaker_submit_directory": str(source_dir(tmp_path))}
    )
    code, failure, _ = job.run()
    assert code == 2
    assert failure is not None and "nope.py is not in" in failure and "train.py" in failure


def test_missing_submit_directory(job: Job) -> None:
    job.write({"sagemaker_program": "t.py", "sagemaker_submit_directory": "/does/not/exist"})
    code, failure, _ = job.run()
    assert code == 2 and failure is not None and "/does/not/exist does not exist" in failure


def test_requirements_are_installed_with_pip(job: Job, tmp_path: Path) -> None:
    folder = source_dir(tmp_path)
    (folder / "requirements.txt").write_text("==not a requirement\n")
    job.write({"sagemaker_program": "train.py", "sagemaker_submit_directory": str(folder)})
    code, failure, err = job.run()
    assert (code, failure) == (2, "pip install -r requirements.txt failed with status 1.\n")
    assert not (job.root / "model" / "seen.json").exists()


def test_config_picks_script_mode_only_with_a_program(opt_ml: Path) -> None:
    (opt_ml / "input" / "config").mkdir(parents=True)
    hps = opt_ml / "input" / "config" / "hyperparameters.json"
    hps.write_text(json.dumps({"num_round": "3"}))
    assert TrainingConfig.from_environ({"SAGEMAKER_BASE_DIR": str(opt_ml)}).program is None
    hps.write_text(
        json.dumps(
            {"sagemaker_program": '"t.py"', "sagemaker_submit_directory": '"s3://b/k.tar.gz"'}
        )
    )
    config = TrainingConfig.from_environ({"SAGEMAKER_BASE_DIR": str(opt_ml)})
    assert (config.program, config.submit_directory) == ("t.py", "s3://b/k.tar.gz")


def test_user_hyperparameters_strip_reserved_names() -> None:
    raw = {k: "1" for k in script.RESERVED} | {"sagemaker_other": "x", "depth": "2", "s": "a b"}
    assert script.user_hyperparameters(raw) == {"depth": 2, "s": "a b"}
    assert script.user_args({"bb": True, "aa": [1, "x"], "dd": {"k": 1}, "e": 2}) == [
        "--aa",
        "[1, 'x']",
        "--bb",
        "True",
        "--dd",
        "k=1",
        "-e",  # the toolkit gives one-letter names one dash
        "2",
    ]
