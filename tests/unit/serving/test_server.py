"""server.main and the gunicorn application, without starting gunicorn."""

from __future__ import annotations

import gc
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from gunicorn.errors import HaltServer
from gunicorn.workers.gthread import ThreadWorker

from boostbox.artifact import MODEL_FILE
from boostbox.config import ServingConfig
from boostbox.paths import OptMl
from boostbox.serving import server
from boostbox.serving.worker import BoundedThreadWorker
from tests.unit.serving.conftest import save, serve_main, train


def config_for(root: Path, **fields: object) -> ServingConfig:
    return ServingConfig(paths=OptMl(root), **fields)  # type: ignore[arg-type]


def test_gunicorn_settings_follow_the_config(tmp_path: Path) -> None:
    app = server.Server(config_for(tmp_path, port=9000, workers=3, timeout=90, worker_threads=6))
    cfg = app.cfg
    assert cfg.bind == ["0.0.0.0:9000"]
    assert cfg.workers == 3
    assert cfg.worker_class is BoundedThreadWorker and cfg.threads == 6
    assert issubclass(cfg.worker_class, ThreadWorker)  # gthread, stalled clients bounded
    assert cfg.keepalive > 0  # a new connection per request halved 1-row throughput
    assert cfg.timeout == 90
    assert cfg.graceful_timeout < 30  # SageMaker sends SIGKILL 30 s after SIGTERM
    assert cfg.preload_app is False  # OpenMP + fork: see server.py


def test_each_worker_builds_an_app_from_the_model(tmp_path: Path) -> None:
    save(train("binary:logistic"), tmp_path / "model")
    try:
        app = server.Server(config_for(tmp_path)).load()
        assert gc.get_freeze_count() > 0  # load-time objects left out of later collections
    finally:
        gc.unfreeze()  # this test process goes on collecting as before
    assert app.test_client().get("/ping").status_code == 200


def test_a_model_that_does_not_load_stops_the_worker_with_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / MODEL_FILE).write_bytes(b"\x80\x04not a model")
    with pytest.raises(SystemExit) as exited:
        server.Server(config_for(tmp_path)).load()
    assert exited.value.code == server.WORKER_BOOT_ERROR
    assert "cannot load the model" in caplog.text
    assert "BOOSTBOX_ALLOW_PICKLE" in caplog.text


def test_main_exits_non_zero_with_one_clear_line_without_a_model(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert serve_main({"SAGEMAKER_BASE_DIR": str(tmp_path)}) == 1
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1
    assert "cannot start" in lines[0] and MODEL_FILE in lines[0]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("SAGEMAKER_INFERENCE_OUTPUT", "predicted_label,bogus"),
        ("BOOSTBOX_LOG_LEVEL", "VERBOSE"),
        ("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "text/html"),
    ],
)
def test_main_reports_bad_config_once_before_gunicorn(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    key: str,
    value: str,
) -> None:
    def never(self: server.Server) -> None:
        raise AssertionError("gunicorn must not start on a bad setting")

    monkeypatch.setattr(server.Server, "run", never)
    assert serve_main({"SAGEMAKER_BASE_DIR": str(tmp_path), key: value}) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and key in errors[0] and value in errors[0]


def test_a_halt_raised_while_stopping_is_the_exit_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Two workers failing to boot at once make gunicorn raise HaltServer from its own halt."""

    def halt_twice(self: server.Server) -> None:
        raise HaltServer("Worker failed to boot.", 3)

    monkeypatch.setattr(server.Server, "run", halt_twice)
    with caplog.at_level(logging.ERROR):
        assert server.run_gunicorn(server.Server(config_for(tmp_path))) == 3
    assert "Worker failed to boot." in caplog.text


@pytest.mark.parametrize(
    ("verb", "environ", "lean"),
    [
        ("serve", {}, True),
        ("serve", {"SAGEMAKER_PROGRAM": "inference.py"}, False),
        ("serve", {"SAGEMAKER_MULTI_MODEL": "true"}, False),
        ("serve", {"SAGEMAKER_BIND_TO_PORT": "http"}, True),
        ("train", {}, True),
        ("train", {"SAGEMAKER_PROGRAM": "train.py"}, False),
    ],
)
def test_scikit_learn_stays_importable_where_user_code_may_need_it(
    verb: str, environ: dict[str, str], lean: bool, tmp_path: Path
) -> None:
    environ = {"SAGEMAKER_BASE_DIR": str(tmp_path), **environ}
    probe = (
        "import importlib.util, json, sys\n"
        "from boostbox.__main__ import keep_imports_lean\n"
        f"ran = keep_imports_lean({environ!r}, {verb!r})\n"
        "try:\n    import sklearn  # noqa: F401\n    ok = True\n"
        "except ImportError:\n    ok = False\n"
        "print(json.dumps([ran, ok]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == [lean, not lean]
