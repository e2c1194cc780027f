"""Faults under load against a serving container: a worker SIGKILLed, SIGTERM to the
container, the model file removed after start, slow clients. Recovery times are printed
(`-s` shows them; README's Reliability section has the last figures), not asserted tightly."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.support import serving_container, worker_pids
from tests.unit.serving.conftest import save, train

pytestmark = pytest.mark.container

ROW = b"0.5,-1,2,0.25\n"
WORKERS = 2
RECOVERY_BOUND = 30.0
"""Seconds: generous (the machine is shared); the measured figure is printed."""


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = save(train("binary:logistic"), tmp_path_factory.mktemp("faults") / "model")
    path.chmod(0o755)
    return path


class Load:
    """`clients` threads posting ROW in a loop; counts statuses and connection errors."""

    def __init__(self, url: str, clients: int = 4) -> None:
        self.url, self.stop = url, threading.Event()
        self.outcomes: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            try:
                answer = session.post(
                    f"{self.url}/invocations", data=ROW, headers={"Content-Type": "text/csv"},
                    timeout=30,
                )  # fmt: skip
                outcome = str(answer.status_code)
            except requests.RequestException as e:
                outcome = type(e).__name__
                session = requests.Session()
            with self.lock:
                self.outcomes[outcome] += 1

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def wait_until(predicate: Callable[[], bool], timeout: float) -> float:
    """Poll `predicate()` until true; return the seconds it took (raise on the deadline)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    raise TimeoutError(f"not within {timeout}s")


@pytest.fixture
def served(image: str, model: Path) -> Iterator[tuple[str, str]]:
    env = {"MODEL_SERVER_WORKERS": str(WORKERS)}
    with serving_container(model, env=env) as found:
        wait_until(lambda: len(worker_pids(found[1])) == WORKERS, 60)
        yield found


def test_sigkill_a_worker_under_load(served: tuple[str, str]) -> None:
    url, container = served
    before = worker_pids(container)
    victim = min(before)
    with Load(url) as load:
        wait_until(lambda: sum(load.outcomes.values()) > 50, 60)
        os.kill(victim, signal.SIGKILL)  # a host pid from `docker top`: our container's worker
        killed = time.monotonic()

        def replaced_all() -> bool:
            pids = worker_pids(container)
            return len(pids) == WORKERS and victim not in pids

        wait_until(replaced_all, RECOVERY_BOUND)
        replaced = time.monotonic() - killed
        served_after = sum(load.outcomes.values())
        wait_until(lambda: sum(load.outcomes.values()) > served_after + 50, 60)
    print(f"\nSIGKILL: worker replaced in {replaced:.2f} s; outcomes {dict(load.outcomes)}")
    failures = {k: v for k, v in load.outcomes.items() if k != "200"}
    assert sum(failures.values()) <= 4, failures  # at most the in-flight requests (4 clients)
    assert requests.get(f"{url}/ping", timeout=10).status_code == 200


def test_sigterm_under_load_finishes_in_flight_and_exits_0(served: tuple[str, str]) -> None:
    url, container = served
    with Load(url) as load:
        wait_until(lambda: sum(load.outcomes.values()) > 50, 60)
        start = time.monotonic()
        subprocess.run(["docker", "kill", "--signal", "TERM", container], check=True)
        code = subprocess.run(
            ["docker", "wait", container], capture_output=True, text=True, timeout=60, check=True
        ).stdout.strip()
        stopped = time.monotonic() - start
    print(f"\nSIGTERM: exit {code} after {stopped:.2f} s; outcomes {dict(load.outcomes)}")
    assert code == "0"
    assert stopped < 30  # SageMaker's grace period
    server_errors = {k: v for k, v in load.outcomes.items() if k.isdigit() and k != "200"}
    assert not server_errors  # in-flight requests answered; later ones find the port closed


def test_model_file_removed_after_start(image: str, model: Path, tmp_path: Path) -> None:
    own = tmp_path / "model"
    own.mkdir()
    for file in model.iterdir():
        (own / file.name).write_bytes(file.read_bytes())
    own.chmod(0o777)
    with serving_container(own, env={"MODEL_SERVER_WORKERS": str(WORKERS)}) as (url, name):
        wait_until(lambda: len(worker_pids(name)) == WORKERS, 60)
        before = worker_pids(name)
        for file in own.iterdir():
            file.unlink()
        with Load(url) as load:
            wait_until(lambda: sum(load.outcomes.values()) > 100, 60)
        assert set(load.outcomes) == {"200"}, load.outcomes
        assert worker_pids(name) == before
        assert requests.get(f"{url}/ping", timeout=10).status_code == 200


def test_slow_clients_do_not_starve_others(served: tuple[str, str]) -> None:
    """More byte-by-byte uploads and never-reading clients than request threads."""
    url, _ = served
    port = int(url.rsplit(":", 1)[1])
    slow: list[socket.socket] = []
    body = ROW * 2000
    for _ in range(12):  # 2 workers x 4 threads = 8 request threads
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:1]
        )
        slow.append(s)
    for _ in range(4):  # never read: large answers pile up in the socket buffers
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        request = (
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
        )  # fmt: skip
        s.sendall(request * 3)
        slow.append(s)
    try:
        times = []
        for _ in range(10):
            start = time.monotonic()
            answer = requests.post(
                f"{url}/invocations", data=ROW, headers={"Content-Type": "text/csv"}, timeout=120
            )
            times.append(time.monotonic() - start)
            assert answer.status_code == 200
            for s in slow[:12]:
                try:
                    s.send(b"0")  # keep dribbling
                except OSError:
                    pass  # the server dropped this stalled client: what we want
        print(f"\nslow clients: 10 normal requests, slowest {max(times):.2f} s")
        assert max(times) < 60  # bounded by worker.CLIENT_IO_TIMEOUT (10 s) per stalled read
    finally:
        for s in slow:
            s.close()


def test_clients_stalling_in_their_headers_do_not_starve_others(served: tuple[str, str]) -> None:
    """More clients than request threads send part of their headers, then one byte a second
    and never the end: each frees its thread after worker.HEADER_TIMEOUT (10 s) in all, and a
    normal client is answered (before: it waited as long as the stalled clients stayed)."""
    url, _ = served
    port = int(url.rsplit(":", 1)[1])
    stalled: list[socket.socket] = []
    for _ in range(12):  # 2 workers x 4 threads = 8 request threads
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Ty")
        stalled.append(s)
    stop = threading.Event()

    def dribble() -> None:
        while not stop.wait(1.0):
            for s in stalled:
                with contextlib.suppress(OSError):  # dropped by the server: what we want
                    s.send(b"p")

    dribbler = threading.Thread(target=dribble, daemon=True)
    dribbler.start()
    try:
        start = time.monotonic()
        answer = requests.post(
            f"{url}/invocations", data=ROW, headers={"Content-Type": "text/csv"}, timeout=120
        )
        waited = time.monotonic() - start
        assert answer.status_code == 200
        print(f"\nheader-stalling clients: a normal request answered after {waited:.2f} s")
        # 10 s per round of stalled clients a worker's 4 threads take; all 12 may land on
        # one worker (measured with 16: 40 s, 4 rounds). Whatever the spread, the check
        # below fails without the bound: gunicorn alone never closes these connections.
        assert waited < 60
        stop.set()
        for s in stalled:  # the server closed every stalled connection
            s.settimeout(RECOVERY_BOUND)  # a read that times out fails the test
            with contextlib.suppress(ConnectionResetError):
                while s.recv(1024):
                    pass
    finally:
        stop.set()
        dribbler.join(timeout=10)
        for s in stalled:
            s.close()
