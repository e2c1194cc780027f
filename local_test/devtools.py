"""Dev helpers shared by local_test/, tests/ and bench/: ports, readiness polling, containers.

Standard library only, so it runs in every virtualenv (the SDK's too). Everything imports it
as `devtools`: local_test/ scripts from their own folder, tests/ through pytest's `pythonpath`,
bench/ through the Makefile's PYTHONPATH. Nothing of boostbox.
"""

from __future__ import annotations

import json
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


_PROCESSES = """
import json, os
table = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        continue
    table[pid] = {
        "ppid": int(fields["PPid"]),
        "uid": [int(u) for u in fields["Uid"].split()],
        "gid": [int(g) for g in fields["Gid"].split()],
        "groups": [int(g) for g in fields["Groups"].split()],
        "rss_kb": int(fields.get("VmRSS", "0 kB").split()[0]),
    }
print(json.dumps(table))
"""


@dataclass(frozen=True)
class Process:
    ppid: int
    uid: list[int]
    """real, effective, saved, filesystem"""
    gid: list[int]
    groups: list[int]
    """supplementary groups"""
    rss_kb: int


def processes(container: str) -> dict[int, Process]:
    """pid -> Process, read from /proc inside `container`."""
    found = subprocess.run(
        ["docker", "exec", container, "python", "-c", _PROCESSES],
        capture_output=True,
        text=True,
        check=True,
    )
    return {int(pid): Process(**info) for pid, info in json.loads(found.stdout).items()}


def worker_pids(container: str) -> set[int]:
    """gunicorn's workers: the children of the master, which is the container's PID 1."""
    return {pid for pid, info in processes(container).items() if info.ppid == 1}
