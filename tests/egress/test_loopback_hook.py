"""The test process's own guard: the audit hook that keeps every test on loopback."""

import socket
import sys

import pytest

from tests.support.loopback_only import take_violations


def test_hook_refuses_a_connect_past_loopback():
    # Raised by hand: a real connect would send a packet if the hook were missing.
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sys.audit("socket.connect", sock, ("192.0.2.1", 80))
    assert take_violations() == ["socket.connect to 192.0.2.1:80"]


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1"])
def test_hook_lets_loopback_through(host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sys.audit("socket.connect", sock, (host, 80))
    assert take_violations() == []
