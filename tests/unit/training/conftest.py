"""Fixtures for the training unit tests: a tmp /opt/ml root and a main() runner."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from boostbox.training import job

LOGGERS = ("boostbox", "boostbox.metrics", "py.warnings")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() configures logging for the process; undo it so caplog keeps working."""
    saved = {
        name: (list(lg.handlers), lg.propagate, lg.level)
        for name, lg in ((n, logging.getLogger(n)) for n in LOGGERS)
    }
    yield
    logging.captureWarnings(False)
    for name, (handlers, propagate, level) in saved.items():
        lg = logging.getLogger(name)
        lg.handlers[:] = handlers
        lg.propagate = propagate
        lg.setLevel(level)


@pytest.fixture
def opt_ml(tmp_path: Path) -> Path:
    root = tmp_path / "opt_ml"
    root.mkdir()
    return root


@dataclass(frozen=True)
class Outcome:
    code: int
    failure: str | None
    stdout: str
    stderr: str


@pytest.fixture
def run_main(opt_ml: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """Call job.main with SAGEMAKER_BASE_DIR (and any `extra` variables) injected."""

    def run(**extra: str) -> Outcome:
        code = job.main({"SAGEMAKER_BASE_DIR": str(opt_ml), **extra})
        failure_file = opt_ml / "output" / "failure"
        failure = failure_file.read_text() if failure_file.exists() else None
        out = capsys.readouterr()
        return Outcome(code, failure, out.out, out.err)

    return run
