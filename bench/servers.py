"""Start one server at a time on 127.0.0.1 (a container or a process), always cleaned up."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devtools import free_port, wait_for_http

logger = logging.getLogger(__name__)

CONTAINER_PREFIX = "boostbox-bench-"


DOCKER_PROXY_PATHS = (
    "/usr/sbin/docker-proxy",
    "/usr/bin/docker-proxy",
    "/usr/libexec/docker/docker-proxy",
)
"""Docker's userland proxy: every published container port on loopback goes through it."""


@dataclass(frozen=True)
class Running:
    """A server that answered its health check: where it listens and how long it took."""

    base_url: str
    startup_s: float
    container: str | None = None
    pid: int | None = None
    proxied: bool = False
    """Reached through docker-proxy (containers always; host processes when asked)."""


def docker_proxy() -> str | None:
    found = shutil.which("docker-proxy")
    return found or next((p for p in DOCKER_PROXY_PATHS if os.access(p, os.X_OK)), None)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL it if it is still there 15 s later."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def _docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@contextlib.contextmanager
def container(
    image: str,
    args: Sequence[str],
    *,
    ready_path: str,
    cpus: str = "",
    mounts: Mapping[Path, str] | None = None,
    env: Mapping[str, str] | None = None,
    entrypoint: str | None = None,
    timeout: float = 120,
) -> Iterator[Running]:
    """`docker run -d` publishing 8080 on a free 127.0.0.1 port; `docker rm -f` on exit."""
    port = free_port()
    tag = re.sub(r"[^A-Za-z0-9_.-]", "-", image.rsplit("/", 1)[-1])  # boostbox:h1 -> boostbox-h1
    name = f"{CONTAINER_PREFIX}{tag}-{uuid.uuid4().hex[:10]}"
    cmd = ["run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8080"]
    if cpus:
        cmd += ["--cpuset-cpus", cpus]
    for host_path, target in (mounts or {}).items():
        cmd += ["-v", f"{host_path.resolve()}:{target}"]
    for key, value in (env or {}).items():
        cmd += ["-e", f"{key}={value}"]
    if entrypoint:
        cmd += ["--entrypoint", entrypoint]
    base = f"http://127.0.0.1:{port}"
    start = time.monotonic()
    try:
        started = _docker(*cmd, image, *args)
        if started.returncode != 0:
            raise RuntimeError(f"docker run {image} failed: {started.stderr.strip()}")
        try:
            wait_for_http(base + ready_path, timeout=timeout, interval=0.02)
        except TimeoutError as e:
            logs = _docker("logs", "--tail", "40", name)
            raise TimeoutError(f"{e}\n--- {image} logs ---\n{logs.stdout}{logs.stderr}") from e
        yield Running(
            base_url=base, startup_s=time.monotonic() - start, container=name, proxied=True
        )
    finally:
        _docker("rm", "-f", name)


@contextlib.contextmanager
def process(
    cmd: Sequence[str],
    *,
    port: int,
    ready_path: str,
    cpus: str = "",
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    log_path: Path | None = None,
    timeout: float = 120,
    proxy: bool = False,
) -> Iterator[Running]:
    """A host process in its own session (killed as a group on exit), pinned with taskset.

    `proxy`: put docker-proxy in front (127.0.0.1:front -> 127.0.0.1:port), so the process
    pays the same userland hop as a published container port.
    """
    full = ["taskset", "-c", cpus, *cmd] if cpus and shutil.which("taskset") else list(cmd)
    start = time.monotonic()
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(open(log_path, "wb")) if log_path else subprocess.DEVNULL
        proc = subprocess.Popen(
            full,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    front: subprocess.Popen[bytes] | None = None
    base = f"http://127.0.0.1:{port}"
    try:
        proxy_exe = docker_proxy() if proxy else None
        if proxy and proxy_exe is None:
            logger.warning("docker-proxy not found: %s is reached directly", cmd[0])
        if proxy_exe:
            front_port = free_port()
            # docker-proxy reports to its parent on fd 3; without one open it would close
            # its own listener (fd 3), so give it /dev/null there, as dockerd gives a pipe.
            args = ["-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", str(front_port)]
            args += ["-container-ip", "127.0.0.1", "-container-port", str(port)]
            front = subprocess.Popen(
                ["sh", "-c", 'exec "$0" "$@" 3>/dev/null', proxy_exe, *args],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            base = f"http://127.0.0.1:{front_port}"
        try:
            wait_for_http(base + ready_path, timeout=timeout, interval=0.02)
        except TimeoutError as e:
            tail = log_path.read_text(errors="replace")[-3000:] if log_path else ""
            raise TimeoutError(f"{e}\n--- {cmd[0]} log ---\n{tail}") from e
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}")
        yield Running(
            base_url=base, startup_s=time.monotonic() - start, pid=proc.pid, proxied=bool(front)
        )
    finally:
        if front is not None:
            _stop(front)
        _stop(proc)


def container_processes(name: str) -> list[tuple[int, int, float, str]]:
    """(pid, ppid, rss MB, command) of every process in a running container (`docker top`)."""
    out = _docker("top", name, "-eo", "pid,ppid,rss,args")
    rows: list[tuple[int, int, float, str]] = []
    for line in out.stdout.splitlines()[1:]:
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[0].isdigit():
            rows.append((int(parts[0]), int(parts[1]), int(parts[2]) / 1024, parts[3]))
    return rows


def worker_rss_mb(name: str) -> list[float]:
    """RSS of each worker: processes whose parent is another process of the container."""
    rows = container_processes(name)
    pids = {pid for pid, _, _, _ in rows}
    return [rss for _, ppid, rss, _ in rows if ppid in pids]


def image_size_mb(image: str) -> float:
    out = _docker("image", "inspect", "-f", "{{.Size}}", image)
    if out.returncode != 0:
        raise RuntimeError(f"image {image} not found: {out.stderr.strip()}")
    return int(out.stdout.strip()) / 1e6


def image_exists(image: str) -> bool:
    return _docker("image", "inspect", image).returncode == 0
