"""TLS through the guard: the connection goes to the checked address, the certificate
is still verified against the URL's host name."""

import httpx
import pytest

from server.egress import GuardedTransport
from tests.support.http_servers import RouteServer
from tests.support.tls import TlsMaterial


@pytest.fixture
def tls():
    material = TlsMaterial("svc.example.com")
    yield material
    material.close()


@pytest.fixture
def https_routes(tls, settings):
    with RouteServer(tls=tls.server_context) as server:
        settings.AGENTLOOM_EGRESS = {
            **settings.AGENTLOOM_EGRESS,
            "allow": [f"127.0.0.1:{server.port}"],
        }
        yield server


def get(transport: GuardedTransport, url: str) -> httpx.Response:
    response = transport.handle_request(httpx.Request("GET", url))
    response.read()
    return response


def test_certificate_checked_against_the_host_name(tls, https_routes, resolver_stub):
    with GuardedTransport(ssl_context=tls.client_context) as transport:
        answer = get(transport, f"https://svc.example.com:{https_routes.port}/ok")
        assert answer.status_code == 200
        assert https_routes.requests[0]["headers"]["Host"] == f"svc.example.com:{https_routes.port}"
        # Same address, another name: the certificate does not match it.
        with pytest.raises(httpx.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|mismatch"):
            get(transport, f"https://loopback.test:{https_routes.port}/ok")
    assert len(https_routes.requests) == 1


def test_unknown_authority_is_refused(https_routes, resolver_stub):
    with GuardedTransport() as transport, pytest.raises(httpx.ConnectError, match="CERTIFICATE"):
        get(transport, f"https://svc.example.com:{https_routes.port}/ok")
    assert https_routes.requests == []
