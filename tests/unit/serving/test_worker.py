"""serving.worker.BoundedThreadWorker over real loopback connections, without a master:
the test calls `handle` (a request thread's job) and `murder_pending` (what the worker's
main loop does at least once a second) itself."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from gunicorn.config import Config
from gunicorn.workers.gthread import TConn

from boostbox.serving import worker
from boostbox.serving.app import error_body

type Pair = tuple[socket.socket, TConn]


@pytest.fixture
def bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(worker, "HEADER_TIMEOUT", 0.2)
    cfg = Config()
    cfg.set("worker_tmp_dir", str(tmp_path))
    made = worker.BoundedThreadWorker(0, os.getppid(), [], None, 30, cfg, mock.Mock())
    yield made
    made.tmp.close()


@pytest.fixture
def connect() -> Iterator[Callable[[Config], Pair]]:
    """A client socket and the server side as gunicorn's TConn, over 127.0.0.1."""
    opened: list[socket.socket] = []

    def make(cfg: Config) -> Pair:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            client = socket.create_connection(listener.getsockname())
            accepted, address = listener.accept()
            server = listener.getsockname()
        opened.extend([client, accepted])
        return client, TConn(cfg, accepted, address, server)

    yield make
    for sock in opened:
        sock.close()


def test_a_client_stalling_in_its_headers_frees_the_thread(
    bounded: Any, connect: Callable[[Config], Pair]
) -> None:
    client, conn = connect(bounded.cfg)
    client.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Ty")  # and nothing more
    outcome: dict[str, object] = {}
    thread = threading.Thread(target=lambda: outcome.update(kept=bounded.handle(conn)))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while thread.is_alive() and time.monotonic() < deadline:
            bounded.murder_pending()
            thread.join(0.05)
        assert not thread.is_alive(), "the request thread is still reading the headers"
    finally:
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_WR)  # frees the thread if the worker did not
        thread.join(10)
    assert outcome == {"kept": False}  # the connection is closed, not kept alive
    assert bounded.header_deadlines == {}
    bounded.log.info.assert_called_with("Dropped %d connection(s) whose headers stalled.", 1)


def io_bounds(sock: socket.socket) -> tuple[bytes, bytes]:
    """The kernel's receive and send timeouts of `sock` (struct timeval bytes)."""
    size = len(worker.UNBOUNDED)
    return (
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, size),
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, size),
    )


def test_a_request_whose_headers_arrive_is_answered_with_the_io_bound(
    bounded: Any, connect: Callable[[Config], Pair]
) -> None:
    seen: dict[str, object] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., object]) -> list[bytes]:
        sock = environ["gunicorn.socket"]
        seen["timeout"] = sock.gettimeout()
        seen["bounds"] = io_bounds(sock)
        seen["reading"] = dict(bounded.header_deadlines)
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    bounded.wsgi = app
    client, conn = connect(bounded.cfg)
    client.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    assert bounded.handle(conn) is True  # kept alive
    bound = worker.timeval(worker.CLIENT_IO_TIMEOUT)
    # Blocking mode (no Python timeout, which polls before every read and write); the
    # kernel bounds the body and the answer.
    assert seen == {"timeout": None, "bounds": (bound, bound), "reading": {}}
    assert client.recv(1024).startswith(b"HTTP/1.1 200")
    # Answered: the next request's headers are bounded by the header deadline alone.
    assert io_bounds(conn.sock) == (worker.UNBOUNDED, bound)
    bounded.murder_pending()  # nothing late: the kept-alive connection stays open
    bounded.log.info.assert_not_called()


def test_a_body_that_stops_arriving_is_answered_408(
    bounded: Any, connect: Callable[[Config], Pair], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "CLIENT_IO_TIMEOUT", 0.2)
    failures: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: Callable[..., object]) -> list[bytes]:
        try:
            environ["wsgi.input"].read(10)
        except Exception as error:  # what the lean path and Flask's handler do
            failures.append(error)
            status, body = error_body(error, 100, "POST", "/invocations")
            start_response(f"{status} X", [("Content-Length", str(len(body)))])
            return [body]
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    bounded.wsgi = app
    client, conn = connect(bounded.cfg)
    client.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n1,2")
    outcome: dict[str, object] = {}
    thread = threading.Thread(target=lambda: outcome.update(kept=bounded.handle(conn)))
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the request thread is still waiting for the body"
    assert [type(e) for e in failures] in ([BlockingIOError], [TimeoutError])
    assert client.recv(1024).startswith(b"HTTP/1.1 408")
