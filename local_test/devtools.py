"""Dev helpers shared by local_test/, tests/ and bench/: ports, readiness polling, containers.

Standard library only, so it runs in every virtualenv (the SDK's too). Everything imports it
as `devtools`: local_test/ scripts from their own folder, tests/ through pytest's `pythonpath`,
bench/ through the Makefile's PYTHONPATH. Nothing of boostbox.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(
    url: str,
    *,
    timeout: float = 60.0,
    status: int = 200,
    interval: float = 0.1,
    alive: Callable[[], None] | None = None,
) -> float:
    """Poll `url` until it answers `status`; return the seconds it took.

    `alive` is called between polls and may raise to stop waiting early (a server process
    that exited). TimeoutError names the last answer or error otherwise.
    """
    start = time.monotonic()
    last: object = None
    while time.monotonic() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == status:
                    return time.monotonic() - start
                last = response.status
        except urllib.error.HTTPError as e:
            last = e.code
        except (OSError, urllib.error.URLError) as e:
            last = e
        if alive is not None:
            alive()
        time.sleep(interval)
    raise TimeoutError(f"{url} did not answer {status} within {timeout:g} s (last: {last})")


def containers_labelled(label: str) -> list[str]:
    """IDs of every container, running or exited, that carries `label` (key or key=value)."""
    found = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={label}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return found.stdout.split()


PS_FIELDS = "pid,ppid,ruid,euid,suid,fsuid,rgid,egid,sgid,fsgid,supgid,rss"
"""`ps -o` columns `processes` asks `docker top` for, in this order."""


@dataclass(frozen=True)
class Process:
    ppid: int
    uid: list[int]
    """real, effective, saved, filesystem"""
    gid: list[int]
    groups: list[int]
    """supplementary groups"""
    rss_kb: int


def _ids(column: str) -> list[int]:
    return [] if column == "-" else [int(n) for n in column.split(",")]


def processes(container: str) -> dict[int, Process]:
    """pid -> Process for every process of a running container, as the host sees it.

    `docker top` runs `ps` on the Docker host: the pids are host pids (what `os.kill` and
    /proc on the host take), the container needs no tools of its own.
    """
    found = subprocess.run(
        ["docker", "top", container, "-o", PS_FIELDS],
        capture_output=True,
        text=True,
        check=True,
    )
    table = {}
    for line in found.stdout.splitlines()[1:]:
        pid, ppid, *ids, supgid, rss = line.split()
        table[int(pid)] = Process(
            ppid=int(ppid),
            uid=[int(n) for n in ids[:4]],
            gid=[int(n) for n in ids[4:]],
            groups=_ids(supgid),
            rss_kb=int(rss),
        )
    return table


def init_pid(container: str) -> int:
    """The host pid of the container's first process (its PID 1: gunicorn's master)."""
    found = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Pid}}", container],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(found.stdout)


def worker_pids(container: str) -> set[int]:
    """gunicorn's workers (host pids): the children of the master, the container's PID 1."""
    master = init_pid(container)
    return {pid for pid, info in processes(container).items() if info.ppid == master}


def booted_worker_pids(container: str, count: int, timeout: float = 60) -> set[int]:
    """The workers' pids once all `count` have forked (/ping answers after the first)."""
    deadline = time.monotonic() + timeout
    pids = worker_pids(container)
    while len(pids) < count and time.monotonic() < deadline:
        time.sleep(0.1)
        pids = worker_pids(container)
    return pids
