"""Tests connect to loopback only: an audit hook refuses every other destination.

The hook runs inside ``socket.connect`` (and UDP sends) before the system call,
so a connection the product should have refused fails there and then, with no
packet sent, and the test that made it fails too. Postgres, Redis and the
tests' own servers are all on loopback.
"""

import ipaddress
import socket
import sys
from typing import Any

import pytest

_violations: list[str] = []
_installed = False
_EVENTS = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event not in _EVENTS:
        return
    sock, address = args[0], args[1]
    if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
        return
    if not isinstance(address, tuple) or _is_loopback(str(address[0])):
        return
    _violations.append(f"{event} to {address[0]}:{address[1]}")
    raise ConnectionRefusedError(f"tests may only reach loopback, not {address[0]}")


def install_loopback_only() -> None:
    """Install the hook once per process (audit hooks cannot be removed)."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


def take_violations() -> list[str]:
    """The attempts recorded so far, forgotten (for the hook's own test)."""
    taken = list(_violations)
    _violations.clear()
    return taken


@pytest.fixture(autouse=True)
def loopback_only():
    """Fail the test during which anything tried to reach past loopback."""
    seen = len(_violations)
    yield
    attempts = _violations[seen:]
    assert not attempts, f"non-loopback connections attempted: {attempts}"
