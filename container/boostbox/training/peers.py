"""Who is still there? A proof-of-life listener per host, a probe, and a watchdog.

XGBoost's socket errors name no peer, and a host that vanishes without closing its sockets
blocks the others until the collective timeout. Each host therefore listens on a small TCP
"beacon" port that only accepts and closes; survivors probe the beacons to name the lost host,
and a watchdog thread ends the job once a peer has stayed silent for a bounded time.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence

logger = logging.getLogger(__name__)

type Address = Callable[[str], tuple[str, int]]
"""host name -> (IPv4, beacon port); resolving raises OSError when the name is gone."""


class Beacon:
    """A TCP listener that only accepts and closes: proof of life for the other hosts."""

    def __init__(self, address: tuple[str, int]) -> None:
        self._sock = socket.create_server(address)
        self._sock.settimeout(0.5)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="boostbox-beacon", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


def unreachable(hosts: Sequence[str], address: Address, *, timeout: float = 3.0) -> list[str]:
    """The hosts whose beacon does not answer (name gone from DNS, refused, or silent)."""
    lost = []
    for host in hosts:
        try:
            with socket.create_connection(address(host), timeout=timeout):
                pass
        except OSError:
            lost.append(host)
    return lost


class Watchdog:
    """Probes the peers' beacons; calls `on_lost(hosts)` once some stay silent too long."""

    def __init__(
        self,
        peers: Sequence[str],
        address: Address,
        on_lost: Callable[[list[str]], None],
        *,
        peer_timeout: float,
        interval: float,
    ) -> None:
        self._peers = tuple(peers)
        self._address = address
        self._on_lost = on_lost
        self._timeout = peer_timeout
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="boostbox-watchdog", daemon=True)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def _run(self) -> None:
        silent_since: Mapping[str, float] = {}
        while not self._stop.wait(self._interval):
            now = time.monotonic()
            lost = unreachable(self._peers, self._address)
            silent_since = {h: silent_since.get(h, now) for h in lost}
            overdue = sorted(h for h, t in silent_since.items() if now - t >= self._timeout)
            if overdue and not self._stop.is_set():
                logger.error("Host(s) %s silent for %gs.", ", ".join(overdue), self._timeout)
                self._on_lost(overdue)
                return

    def stop(self) -> None:
        self._stop.set()
