"""The bad-input catalog: tests/data/bad_inputs/<case>/ holds an /opt/ml tree and expected.json.

expected.json: {"exit": <status>, "failure": <the exact line of output/failure, with the
job's base folder spelled /opt/ml> or null when the job must train}. Every case runs through
the training entry (job.main) in-process; a few also through `python -m boostbox train`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.training.conftest import Outcome

CATALOG = Path(__file__).resolve().parents[2] / "data" / "bad_inputs"
CASES = sorted(p.name for p in CATALOG.iterdir() if (p / "expected.json").is_file())
CLI_CASES = ["hyperparameters_not_json", "parquet_string_column", "truncated_gzip"]


def expected(case: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((CATALOG / case / "expected.json").read_text())
    return loaded


def install(case: str, opt_ml: Path) -> None:
    shutil.copytree(CATALOG / case / "opt_ml", opt_ml, symlinks=True, dirs_exist_ok=True)


def test_catalog_has_at_least_20_failing_cases() -> None:
    failing = [case for case in CASES if expected(case)["exit"] != 0]
    assert len(failing) >= 20, failing


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case: str, opt_ml: Path, run_main: Callable[..., Outcome]) -> None:
    install(case, opt_ml)
    want = expected(case)
    outcome = run_main()
    assert outcome.code == want["exit"], outcome.stderr[-2000:]
    if want["failure"] is None:
        assert outcome.failure is None
        assert (opt_ml / "model" / "xgboost-model").is_file()
        return
    assert outcome.failure is not None
    assert outcome.failure.endswith("\n") and outcome.failure.count("\n") == 1
    assert len(outcome.failure.encode()) < 1024
    assert outcome.failure.rstrip("\n").replace(str(opt_ml), "/opt/ml") == want["failure"]
    assert "Traceback" not in outcome.failure
    if want["exit"] == 2:
        assert "Traceback" not in outcome.stderr  # user errors: one line, no stack


@pytest.mark.parametrize("case", CLI_CASES)
def test_bad_input_through_the_cli(case: str, opt_ml: Path) -> None:
    install(case, opt_ml)
    want = expected(case)
    done = subprocess.run(
        [sys.executable, "-m", "boostbox", "train"],
        env={**os.environ, "SAGEMAKER_BASE_DIR": str(opt_ml)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == want["exit"], done.stderr[-2000:]
    failure = (opt_ml / "output" / "failure").read_text()
    assert failure.rstrip("\n").replace(str(opt_ml), "/opt/ml") == want["failure"]
    assert "Traceback" not in done.stderr
