"""local_test/netguard.py refuses off-machine connections and lookups before they happen."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.workflow.conftest import load_local_test_module


@pytest.fixture(scope="module")
def netguard() -> ModuleType:
    return load_local_test_module("netguard")


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        (None, True),
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        (b"localhost", True),
        ("sts.amazonaws.com", False),
        ("169.254.169.254", False),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2001:db8::1", False),
    ],
)
def test_loopback_hosts(netguard: ModuleType, host: object, allowed: bool) -> None:
    assert netguard.is_loopback_host(host) is allowed


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Stand-ins for the real socket calls, so a broken guard records instead of connecting."""
    calls: list[Any] = []

    def fake_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(("lookup", host))
        return []

    def fake_connect(sock: socket.socket, address: Any) -> None:
        calls.append(("connect", address))

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", fake_connect)
    yield calls


def test_guard_refuses_and_records(netguard: ModuleType, recorded: list[Any]) -> None:
    guard = netguard.install()
    try:
        with pytest.raises(netguard.NetworkRefused, match="sagemaker.us-east-1"):
            socket.getaddrinfo("sagemaker.us-east-1.amazonaws.com", 443)
        with socket.socket() as sock:
            with pytest.raises(ConnectionRefusedError, match="192.0.2.1"):
                sock.connect(("192.0.2.1", 443))
            sock.connect(("127.0.0.1", 9))
        socket.getaddrinfo("localhost", 8080)
    finally:
        guard.uninstall()
    socket.getaddrinfo("example.invalid", 1)  # uninstalled: straight to the stand-in

    assert recorded == [
        ("connect", ("127.0.0.1", 9)),
        ("lookup", "localhost"),
        ("lookup", "example.invalid"),
    ]
    assert len(guard.refused) == 2


def test_unix_sockets_pass(netguard: ModuleType, recorded: list[Any]) -> None:
    guard = netguard.install()
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect("/var/run/docker.sock")
    finally:
        guard.uninstall()
    assert recorded == [("connect", "/var/run/docker.sock")]
    assert guard.refused == []
