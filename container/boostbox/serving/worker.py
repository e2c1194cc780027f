"""gunicorn's gthread worker with every client read and write bounded in time.

gunicorn gives a connection one of the worker's request threads once its first bytes arrive,
then reads the request line and headers from a blocking socket: a client that sends part of
its headers and stalls holds that thread as long as it keeps the connection open, and
`threads x workers` such clients stop the endpoint. This worker bounds both phases:

- headers: each request thread notes when it starts reading a connection; the worker's main
  loop (it wakes at least once a second) shuts down the read side of a connection whose
  headers are still incomplete after HEADER_TIMEOUT. The blocked read then sees end of
  stream, gunicorn drops the connection as a client disconnection (a debug log line) and
  the thread is free again.
- body and response: once the headers are read, the socket gets a CLIENT_IO_TIMEOUT per
  read or write; a body that stops arriving ends in 408 (serving.app), a client that never
  reads its answer is dropped.

The body and response bound is the kernel's (SO_RCVTIMEO, SO_SNDTIMEO), not Python's
`settimeout`: a Python timeout puts the socket in non-blocking mode and polls before every
read and write, which cost ~90 us of CPU per 1-row request here (the container's CPU per
request under load, 500 -> 410 us). The kernel bound costs a setsockopt per request; the
receive bound is lifted once the request is answered, so a kept-alive connection's next
headers are bounded by the deadline above alone (as a new connection's are).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

CLIENT_IO_TIMEOUT = 10.0
"""Seconds a request thread waits for one read or write on its client's socket once the
headers are in (measured: without it, 12 clients dribbling bodies or never reading held all
8 threads and others waited > 120 s)."""
HEADER_TIMEOUT = 10.0
"""Seconds a request thread may spend on a connection's request line and headers, counted
from when it takes the connection (gunicorn's wait of up to 5 s for a new connection's first
bytes included; a kept-alive connection reaches a thread only once it is readable)."""


def timeval(seconds: float) -> bytes:
    """A `struct timeval` for SO_RCVTIMEO / SO_SNDTIMEO (0: no bound)."""
    whole = int(seconds)
    return struct.pack("@ll", whole, round((seconds - whole) * 1_000_000))


UNBOUNDED = timeval(0)


class BoundedThreadWorker(ThreadWorker):  # type: ignore[misc]
    """ThreadWorker whose request threads cannot be held by a stalled client."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_deadlines: dict[socket.socket, float] = {}
        """Connections whose headers a request thread is reading -> when to give up."""
        self.deadlines_lock = threading.Lock()

    def handle(self, conn: Any) -> Any:
        """In a request thread: serve `conn`'s next request, its headers on the clock."""
        sock: socket.socket = conn.sock
        with self.deadlines_lock:
            self.header_deadlines[sock] = time.monotonic() + HEADER_TIMEOUT
        try:
            return super().handle(conn)
        finally:
            self.headers_read(sock)
            if getattr(conn, "receive_bounded", False):
                conn.receive_bounded = False
                with contextlib.suppress(OSError):  # closed with the request
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, UNBOUNDED)

    def handle_request(self, req: Any, conn: Any) -> Any:
        """In a request thread, the headers read: the body and the answer get the I/O bound
        (the send bound once per connection, the receive bound until `handle` ends)."""
        sock: socket.socket = conn.sock
        self.headers_read(sock)
        bound = timeval(CLIENT_IO_TIMEOUT)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, bound)
        conn.receive_bounded = True
        if not getattr(conn, "send_bounded", False):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, bound)
            conn.send_bounded = True
        return super().handle_request(req, conn)

    def headers_read(self, sock: socket.socket) -> None:
        with self.deadlines_lock:
            self.header_deadlines.pop(sock, None)

    def murder_pending(self) -> None:
        """In the main loop, after gunicorn's own expiry of idle connections: end the header
        reads past their deadline (under the lock: a read that finished in time is safe)."""
        super().murder_pending()
        now = time.monotonic()
        with self.deadlines_lock:
            late = [sock for sock, deadline in self.header_deadlines.items() if deadline <= now]
            for sock in late:
                del self.header_deadlines[sock]
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RD)
        if late:
            self.log.info("Dropped %d connection(s) whose headers stalled.", len(late))
