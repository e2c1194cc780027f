"""Helpers shared by the test suites: ports, polling, containers. No fixtures here."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from devtools import (
    Process,
    booted_worker_pids,
    free_port,
    init_pid,
    processes,
    wait_for_http,
    worker_pids,
)

__all__ = [
    "booted_worker_pids",
    "docker_run",
    "free_port",
    "image_name",
    "init_pid",
    "Process",
    "processes",
    "serving_container",
    "wait_for_http",
    "worker_pids",
]


def image_name() -> str:
    return os.environ.get("BOOSTBOX_IMAGE", "boostbox:latest")


def docker_run(
    args: Sequence[str],
    *,
    opt_ml: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """`docker run --rm IMAGE args...` with /opt/ml mounted; returns the finished process."""
    cmd = ["docker", "run", "--rm", "--network", "none"]
    if opt_ml is not None:
        cmd += ["-v", f"{opt_ml}:/opt/ml"]
    for key, value in (env or {}).items():
        cmd += ["-e", f"{key}={value}"]
    cmd += [image_name(), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


@contextlib.contextmanager
def serving_container(
    model_dir: Path | None,
    *,
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    startup_timeout: float = 60.0,
) -> Iterator[tuple[str, str]]:
    """Run `IMAGE serve` on a free loopback port; yield (base_url, container_name)."""
    port = free_port()
    name = f"boostbox-test-{uuid.uuid4().hex[:10]}"
    cmd = ["docker", "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8080"]
    if model_dir is not None:
        cmd += ["-v", f"{model_dir}:/opt/ml/model:ro"]
    for key, value in (env or {}).items():
        cmd += ["-e", f"{key}={value}"]
    cmd += [*extra_args, image_name(), "serve"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/ping", timeout=startup_timeout)
        yield base, name
    except TimeoutError as e:
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True)
        raise TimeoutError(f"{e}\n--- container logs ---\n{logs.stdout}{logs.stderr}") from e
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def terminate_once_started(run: subprocess.Popen[str], started: Callable[[], bool]) -> str:
    """SIGTERM `run` as soon as `started()` (e.g. it has a container), never after it ended;
    its output. Kills it if it outlives the signal by two minutes."""
    try:
        deadline = time.monotonic() + 120
        while not started() and run.poll() is None:
            assert time.monotonic() < deadline, "nothing started within 120 s"
            time.sleep(0.2)
        assert run.poll() is None, "the run ended before it could be seen started"
        run.send_signal(signal.SIGTERM)
        log, _ = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    return log
