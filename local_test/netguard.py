"""Refuse every socket connection and DNS lookup that is not loopback or a unix socket.

Installed before the SageMaker SDK (and boto3) are imported, it turns any attempt to reach
AWS (STS, S3 telemetry, CloudWatch Logs, instance metadata...) into an immediate
`NetworkRefused` and records it, so a run that ends with `guard.refused` empty has provably
made no call off this machine, even where the SDK swallows the exception. Standard library
only; runs on the SDK's Python (3.11) and the project's (3.13).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOCAL_NAMES = frozenset({"", "localhost", "localhost.localdomain", "ip6-localhost"})


class NetworkRefused(ConnectionRefusedError):
    """A connection or lookup outside loopback, refused before any packet left."""


def is_loopback_host(host: object) -> bool:
    """True for None (the local host), localhost names and 127.0.0.0/8, ::1 literals."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().strip("[]").lower().split("%", 1)[0]
    if name in LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def is_allowed_address(family: int, address: object) -> bool:
    """A socket address a guarded process may connect or send to."""
    if family == getattr(socket, "AF_UNIX", None):
        return True
    if family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and address:
        return is_loopback_host(address[0])
    return False


@dataclass
class Guard:
    """The installed patches; `refused` lists every refused attempt, `uninstall()` undoes."""

    refused: list[str] = field(default_factory=list)
    _saved: dict[tuple[Any, str], Any] = field(default_factory=dict)

    def refuse(self, what: str) -> NetworkRefused:
        self.refused.append(what)
        return NetworkRefused(f"netguard: refused {what} (only loopback and unix sockets)")

    def _patch(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = getattr(owner, name)
        self._saved[(owner, name)] = original
        setattr(owner, name, make(original))

    def install(self) -> Guard:
        guard = self

        def wrap_connect(original: Any) -> Any:
            def connect(sock: socket.socket, address: Any) -> Any:
                if not is_allowed_address(sock.family, address):
                    raise guard.refuse(f"connect to {address!r}")
                return original(sock, address)

            return connect

        def wrap_sendto(original: Any) -> Any:
            def sendto(sock: socket.socket, data: Any, *args: Any) -> Any:
                address = args[-1] if args else None
                if not is_allowed_address(sock.family, address):
                    raise guard.refuse(f"sendto {address!r}")
                return original(sock, data, *args)

            return sendto

        def wrap_lookup(original: Any) -> Any:
            def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
                if not is_loopback_host(host):
                    raise guard.refuse(f"name lookup of {host!r}")
                return original(host, *args, **kwargs)

            return lookup

        self._patch(socket.socket, "connect", wrap_connect)
        self._patch(socket.socket, "connect_ex", wrap_connect)
        self._patch(socket.socket, "sendto", wrap_sendto)
        for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
            self._patch(socket, name, wrap_lookup)
        return self

    def uninstall(self) -> None:
        for (owner, name), original in reversed(list(self._saved.items())):
            setattr(owner, name, original)
        self._saved.clear()


def install() -> Guard:
    """Patch the socket module for the rest of the process; returns the guard to inspect."""
    return Guard().install()
