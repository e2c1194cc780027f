"""The native `train` and `serve` commands exactly as README shows them run boostbox."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.support import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def readme_command(verb: str) -> list[str]:
    """The README's native command line for `verb` (VAR=value ... .venv/bin/VERB), split."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"^((?:\w+=\S+ )+)\.venv/bin/{verb}$", readme, flags=re.MULTILINE)
    assert found, f"README shows no native `.venv/bin/{verb}` line"
    return found.group(1).split()


def environ_for(assignments: list[str], base: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    for assignment in assignments:
        key, _, value = assignment.partition("=")
        env[key] = value
    env["SAGEMAKER_BASE_DIR"] = str(base)  # the README's folder, copied so the test owns it
    if "SAGEMAKER_BIND_TO_PORT" in env:
        env["SAGEMAKER_BIND_TO_PORT"] = str(port)
    return env


def test_native_train_and_serve_are_boostbox(tmp_path: Path) -> None:
    base = tmp_path / "opt_ml"
    shutil.copytree(ROOT / "local_test" / "test_dir" / "input", base / "input")
    train = subprocess.run(
        [str(BIN / "train")],
        env=environ_for(readme_command("train"), base, 0),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert train.returncode == 0, train.stderr[-2000:]
    assert (base / "model" / "xgboost-model").is_file(), train.stderr[-2000:]
    assert (base / "output" / "success").exists()

    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "serve")],
        env=environ_for(readme_command("serve"), base, port)
        | {"SAGEMAKER_MODEL_SERVER_WORKERS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/ping", timeout=60)
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0, stderr[-2000:]
    assert "boostbox" in stderr
