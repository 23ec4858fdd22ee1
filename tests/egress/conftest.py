import socket
import uuid

import pytest

from tests.support.http_servers import RouteServer

# What the resolver stub answers: names the tests use, and nothing else.
STUB_ANSWERS = {
    "loopback.test": ["127.0.0.1"],
    "svc.example.com": ["127.0.0.1"],
    "evil-example.com": ["127.0.0.1"],
    "mixed.test": ["93.184.216.34", "127.0.0.1"],
    "metadata.test": ["169.254.169.254"],
    "v6loop.test": ["::1"],
}


@pytest.fixture
def resolver_stub(monkeypatch):
    """Name resolution from STUB_ANSWERS: a test never asks a real DNS server."""
    real = socket.getaddrinfo

    def stub(host, port, family=0, type=0, proto=0, flags=0):
        name = (host.decode() if isinstance(host, bytes) else str(host)).lower().rstrip(".")
        if name not in STUB_ANSWERS:
            return real(host, port, family, type, proto, flags)
        answers = []
        for address in STUB_ANSWERS[name]:
            fam = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if fam == socket.AF_INET6 else (address, port)
            answers.append((fam, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
        return answers

    monkeypatch.setattr(socket, "getaddrinfo", stub)


@pytest.fixture
def routes():
    with RouteServer() as server:
        yield server


@pytest.fixture
def other_routes():
    with RouteServer() as server:
        yield server


@pytest.fixture
def egress(settings, routes):
    """Egress settings allowing the route server (only), with short limits."""

    def configure(*allow: str, **limits):
        settings.AGENTLOOM_EGRESS = {
            **settings.AGENTLOOM_EGRESS,
            "allow": [f"127.0.0.1:{routes.port}", *allow],
            **limits,
        }
        return settings.AGENTLOOM_EGRESS

    configure()
    return configure


@pytest.fixture
def workspace_id() -> str:
    return str(uuid.uuid4())
