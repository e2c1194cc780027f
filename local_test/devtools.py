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
