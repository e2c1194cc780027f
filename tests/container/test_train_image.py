"""`docker run IMAGE train` against tmp /opt/ml trees: formats, early stopping, failures."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.support import docker_run
from tests.unit.training.builders import (
    BAD_CASES,
    FAST_HPS,
    SEED_HPS,
    BadCase,
    Channel,
    csv_text,
    gz,
    libsvm_text,
    parquet_bytes,
    regression,
    write_job,
)

pytestmark = pytest.mark.container

X, Y = regression(rows=80, features=3)

CHANNELS = {
    "csv": Channel("text/csv", {"a.csv": csv_text(X, Y)}),
    "libsvm_default": Channel(None, {"nested/a.libsvm": libsvm_text(X, Y)}),
    "parquet": Channel("application/x-parquet", {"a.parquet": parquet_bytes(X, Y)}),
    "csv_gzip": Channel("text/csv; charset=utf-8", {"part-0000": gz(csv_text(X, Y))}),
}
METRIC_LINE = re.compile(r"^\[(\d+)\]\ttrain-rmse:[\d.]+\tvalidation-rmse:[\d.]+$", re.MULTILINE)


@pytest.fixture
def opt_ml(tmp_path: Path) -> Path:
    root = tmp_path / "opt_ml"
    root.mkdir()
    return root


def test_seed_hyperparameters_early_stop_on_validation(image: str, opt_ml: Path) -> None:
    write_job(
        opt_ml,
        SEED_HPS,
        {
            "train": Channel("text/csv", {"t.csv": csv_text(X[:60], Y[:60])}),
            "validation": Channel("text/csv", {"v.csv": csv_text(X[60:], Y[60:])}),
        },
    )
    done = docker_run(["train"], opt_ml=opt_ml, timeout=120)
    assert done.returncode == 0, done.stderr
    rounds = [int(n) for n in METRIC_LINE.findall(done.stdout)]
    assert rounds == list(range(len(rounds))) and 0 < len(rounds) < 200
    assert "Early stopping" in done.stderr
    summary = json.loads((opt_ml / "output" / "data" / "evaluation.json").read_text())
    assert summary["rounds_trained"] == len(rounds)
    assert summary["best_iteration"] < len(rounds) - 1
    assert (opt_ml / "model" / "xgboost-model").stat().st_size > 0
    assert not (opt_ml / "output" / "failure").exists()


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_content_types_train(image: str, opt_ml: Path, name: str) -> None:
    write_job(opt_ml, FAST_HPS, {"train": CHANNELS[name]})
    done = docker_run(["train"], opt_ml=opt_ml, timeout=120)
    assert done.returncode == 0, done.stderr
    metadata = json.loads((opt_ml / "model" / "boostbox-metadata.json").read_text())
    assert metadata["num_feature"] == 3
    assert re.search(r"^\[4\]\ttrain-rmse:", done.stdout, re.MULTILINE)


@pytest.mark.parametrize("case", BAD_CASES, ids=[c.name for c in BAD_CASES])
def test_bad_inputs_exit_2_with_failure_line(image: str, opt_ml: Path, case: BadCase) -> None:
    case.build(opt_ml)
    done = docker_run(["train"], opt_ml=opt_ml, timeout=120)
    assert done.returncode == 2, done.stderr
    failure = (opt_ml / "output" / "failure").read_text()
    assert failure.count("\n") == 1 and len(failure.encode()) < 1024
    for words in case.expected:
        assert words in failure
    assert "Traceback" not in done.stderr


def test_disk_full_writing_the_model_is_one_line_exit_1(image: str, opt_ml: Path) -> None:
    """A tmpfs of 8 KiB as /opt/ml/model: the job fails cleanly, naming the cause and fix."""
    x, y = regression(rows=400, features=5)
    write_job(
        opt_ml,
        {"num_round": "50", "max_depth": "6"},
        {"train": Channel("text/csv", {"a.csv": csv_text(x, y)})},
    )
    done = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "-v", f"{opt_ml}:/opt/ml",
         "--tmpfs", "/opt/ml/model:size=8k", image, "train"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-2000:]
    failure = (opt_ml / "output" / "failure").read_text()
    assert failure == (
        "Could not write the model to /opt/ml/model: [Errno 28] No space left on device "
        "(the model volume is full: give the job a larger VolumeSizeInGB)\n"
    )
    assert "Traceback" not in done.stderr


def test_unreadable_channel_folder_is_a_user_error(image: str, opt_ml: Path) -> None:
    """As a non-root user (root reads anything): a channel folder with mode 000."""
    write_job(opt_ml, FAST_HPS, {"train": Channel("text/csv", {"a.csv": csv_text(X, Y)})})
    for path in [opt_ml, *opt_ml.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    (opt_ml / "input" / "data" / "train").chmod(0o000)
    done = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--user", "65534:65534",
         "-v", f"{opt_ml}:/opt/ml", image, "train"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    (opt_ml / "input" / "data" / "train").chmod(0o755)
    assert done.returncode == 2, done.stderr[-2000:]
    failure = (opt_ml / "output" / "failure").read_text()
    assert failure.count("\n") == 1 and "/opt/ml/input/data/train" in failure, failure
    assert "Traceback" not in done.stderr
