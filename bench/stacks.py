"""The HTTP stacks under load: boostbox, the HTTP floor, the BYOC-sample stack and MLServer."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devtools import free_port

from bench import servers
from bench.data import MLSERVER_MODEL_NAME, Payloads
from bench.settings import BENCH_DIR, Settings

logger = logging.getLogger(__name__)

BASELINES = BENCH_DIR / "baselines"
LOCK_FILE = BENCH_DIR.parent / "requirements.lock"
BYOC_PINNED = ("xgboost-cpu", "pandas", "flask", "gunicorn")
MLSERVER_PYTHONS = ("python3.12", "python3.11", "python3.10")
"""MLServer 1.7 does not support Python 3.13; the first of these found makes its venv."""


@dataclass(frozen=True)
class Stack:
    """One HTTP server kind: how to reach it and what a 1-row request looks like."""

    key: str
    label: str
    path: str
    body: Path
    content_type: str
    checks_prediction: bool = True


def stacks(payloads: Payloads) -> dict[str, Stack]:
    csv = payloads.one_row_csv
    return {
        "boostbox": Stack("boostbox", "boostbox image", "/invocations", csv, "text/csv"),
        "floor": Stack(
            "floor", "HTTP floor (flask+gunicorn hello)", "/invocations", csv, "text/csv", False
        ),
        "floor-host": Stack(
            "floor-host",
            "HTTP floor, host process (no docker-proxy)",
            "/invocations",
            csv,
            "text/csv",
            False,
        ),
        "byoc": Stack(
            "byoc", "BYOC sample (nginx+pandas+DMatrix)", "/invocations", csv, "text/csv"
        ),
        "mlserver": Stack(
            "mlserver",
            "MLServer + mlserver-xgboost (V2 JSON), via docker-proxy",
            f"/v2/models/{MLSERVER_MODEL_NAME}/infer",
            payloads.one_row_v2_json,
            "application/json",
        ),
        "mlserver-direct": Stack(
            "mlserver-direct",
            "MLServer, host process reached directly (no docker-proxy)",
            f"/v2/models/{MLSERVER_MODEL_NAME}/infer",
            payloads.one_row_v2_json,
            "application/json",
        ),
    }


def serving_env(settings: Settings) -> dict[str, str]:
    """Same worker count and one prediction thread for every stack."""
    return {
        "SAGEMAKER_MODEL_SERVER_WORKERS": str(settings.workers),
        "MODEL_SERVER_WORKERS": str(settings.workers),
        "OMP_NUM_THREADS": "1",
    }


def boostbox(settings: Settings) -> contextlib.AbstractContextManager[servers.Running]:
    return servers.container(
        settings.image,
        ["serve"],
        ready_path="/ping",
        cpus=settings.server_cpus,
        mounts={settings.model_dir: "/opt/ml/model:ro"},
        env=serving_env(settings),
        timeout=settings.startup_timeout_s,
    )


def _gunicorn_args(settings: Settings) -> list[str]:
    args = ["-w", str(settings.workers), "-k", settings.floor_worker_class, "--keep-alive", "5"]
    return args + (["--threads", str(settings.floor_threads)] if settings.floor_threads > 1 else [])


def floor(settings: Settings) -> contextlib.AbstractContextManager[servers.Running]:
    """Hello-world flask app on the boostbox image's own Python, flask and gunicorn."""
    return servers.container(
        settings.image,
        [
            *_gunicorn_args(settings),
            *("-b", "0.0.0.0:8080", "floor_app:app"),
        ],
        ready_path="/ping",
        cpus=settings.server_cpus,
        mounts={BASELINES / "floor": "/app:ro"},
        env={"OMP_NUM_THREADS": "1", "PYTHONPATH": "/app"},
        entrypoint="/opt/venv/bin/gunicorn",
        timeout=settings.startup_timeout_s,
    )


@contextlib.contextmanager
def floor_host(settings: Settings) -> Iterator[servers.Running]:
    """The same floor app as a host process: measures what the docker-proxy hop costs."""
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", *_gunicorn_args(settings)]
    cmd += ["-b", f"127.0.0.1:{port}", "--chdir", str(BASELINES / "floor"), "floor_app:app"]
    with servers.process(
        cmd,
        port=port,
        ready_path="/ping",
        cpus=settings.server_cpus,
        env={"OMP_NUM_THREADS": "1"},
        timeout=settings.startup_timeout_s,
    ) as running:
        yield running


def _locked_versions() -> list[str]:
    text = LOCK_FILE.read_text(encoding="utf-8") if LOCK_FILE.is_file() else ""
    args = []
    for name in BYOC_PINNED:
        found = re.search(rf"^{re.escape(name)}==(\S+)", text, re.MULTILINE)
        if found:
            arg = "XGBOOST" if name == "xgboost-cpu" else name.upper()
            args += ["--build-arg", f"{arg}={name}=={found.group(1)}"]
    return args


def byoc_image() -> str:
    """Build the BYOC-style image (tagged by its files' hash, so edits rebuild) if missing."""
    folder = BASELINES / "byoc"
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    build_args = _locked_versions()
    digest.update(" ".join(build_args).encode())
    image = f"boostbox-bench-byoc:{digest.hexdigest()[:12]}"
    if servers.image_exists(image):
        return image
    logger.info("building %s (once; cached by Docker afterwards)", image)
    cmd = ["docker", "build", "--network", "host", "-q", "-t", image, *build_args, str(folder)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"building {image} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return image


def byoc(settings: Settings) -> contextlib.AbstractContextManager[servers.Running]:
    return servers.container(
        byoc_image(),
        ["serve"],
        ready_path="/ping",
        cpus=settings.server_cpus,
        mounts={settings.model_dir: "/opt/ml/model:ro"},
        env=serving_env(settings),
        timeout=settings.startup_timeout_s,
    )


def _find_python() -> str:
    for name in MLSERVER_PYTHONS:
        found = shutil.which(name)
        if found:
            return found
        pyenv = sorted(Path.home().glob(f".pyenv/versions/{name.removeprefix('python')}*/bin"))
        if pyenv and (pyenv[-1] / "python3").exists():
            return str(pyenv[-1] / "python3")
    raise RuntimeError(f"MLServer needs one of {', '.join(MLSERVER_PYTHONS)}; none found")


def mlserver_venv(settings: Settings) -> Path:
    """bench/.work/mlserver-venv with mlserver and mlserver-xgboost from PyPI (made once)."""
    venv = settings.mlserver_venv
    exe = venv / "bin" / "mlserver"
    if exe.exists():
        return exe
    python = _find_python()
    logger.info("creating %s with %s (once)", venv, python)
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
    packages = ["mlserver", "mlserver-xgboost"]
    if settings.mlserver_parallel_workers > 0:
        packages.append("uvloop<0.21")  # 0.23 breaks parallel workers (PERF-NOTES)
    proc = subprocess.run([*pip, *packages], capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0 or not exe.exists():
        raise RuntimeError(f"pip install mlserver failed:\n{proc.stderr[-3000:]}")
    return exe


def mlserver(settings: Settings) -> contextlib.AbstractContextManager[servers.Running]:
    """MLServer behind docker-proxy: the same loopback hop as every container stack."""
    return _mlserver(settings, proxy=True)


def mlserver_direct(settings: Settings) -> contextlib.AbstractContextManager[servers.Running]:
    return _mlserver(settings, proxy=False)


@contextlib.contextmanager
def _mlserver(settings: Settings, *, proxy: bool) -> Iterator[servers.Running]:
    exe = mlserver_venv(settings)
    model_dir = settings.work_dir / "mlserver-model"
    port = free_port()
    config = {
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": free_port(),
        "metrics_port": free_port(),
        "parallel_workers": settings.mlserver_parallel_workers,
    }
    (model_dir / "settings.json").write_text(json.dumps(config), encoding="utf-8")
    with servers.process(
        [str(exe), "start", str(model_dir)],
        port=port,
        ready_path=f"/v2/models/{MLSERVER_MODEL_NAME}/ready",
        cpus=settings.server_cpus,
        env={"OMP_NUM_THREADS": "1"},
        cwd=model_dir,
        log_path=settings.work_dir / "mlserver.log",
        timeout=settings.startup_timeout_s,
        proxy=proxy,
    ) as running:
        yield running


STARTERS = {
    "boostbox": boostbox,
    "floor": floor,
    "floor-host": floor_host,
    "byoc": byoc,
    "mlserver": mlserver,
    "mlserver-direct": mlserver_direct,
}
