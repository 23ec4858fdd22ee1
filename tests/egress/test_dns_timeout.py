"""A resolver that does not answer ends in a timeout error, never a hang.

The resolver is a stub in the test process (``socket.getaddrinfo`` replaced):
``slow.test`` blocks until the test releases it, as a resolver that drops
queries does; no lookup leaves the machine.
"""

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from server.credentials.resolution import model_access
from server.credentials.services import create_credential
from server.egress import EgressTimeout, GuardedTransport, check_destination, fetch
from workers.llm.types import ModelCallError

SLOW = "slow.test"


@pytest.fixture
def slow_resolver(monkeypatch, routes):
    """``slow.test`` answers the route server's address only once ``release`` is set."""
    real = socket.getaddrinfo
    release = threading.Event()
    asked = []

    def stub(host, port, family=0, type=0, proto=0, flags=0):
        if str(host).rstrip(".").lower() != SLOW:
            return real(host, port, family, type, proto, flags)
        asked.append(host)
        release.wait(30)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", stub)
    yield asked
    release.set()


def slow_url(routes, path: str = "/ok") -> str:
    return f"http://{SLOW}:{routes.port}{path}"


def test_fetch_times_out_while_resolving(egress, routes, slow_resolver, workspace_id):
    egress(SLOW, connect_timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(EgressTimeout) as timed_out:
        fetch("GET", slow_url(routes), workspace_id=workspace_id)
    assert timed_out.value.code == "egress_timeout"
    assert f"resolving {SLOW}" in timed_out.value.reason
    assert time.monotonic() - started < 3
    assert slow_resolver == [SLOW]
    assert routes.requests == []


def test_the_total_timeout_bounds_the_lookup_too(egress, routes, slow_resolver, workspace_id):
    egress(SLOW, connect_timeout_s=30, total_timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(EgressTimeout):
        fetch("GET", slow_url(routes), workspace_id=workspace_id)
    assert time.monotonic() - started < 3


def test_check_destination_times_out(egress, routes, slow_resolver):
    egress(SLOW, connect_timeout_s=0.3)
    with pytest.raises(EgressTimeout):
        check_destination(slow_url(routes))


def test_the_transport_times_out_for_any_client(egress, routes, slow_resolver):
    egress(SLOW)
    with (
        httpx.Client(transport=GuardedTransport(), timeout=0.3) as client,
        pytest.raises(EgressTimeout),
    ):
        client.get(slow_url(routes))
    assert routes.requests == []


def test_more_slow_lookups_than_threads_all_end(egress, routes, slow_resolver, workspace_id):
    egress(SLOW, connect_timeout_s=0.5)

    def attempt(_: int) -> str:
        try:
            fetch("GET", slow_url(routes), workspace_id=workspace_id)
        except EgressTimeout as exc:
            return exc.code
        return "answered"

    started = time.monotonic()
    with ThreadPoolExecutor(40) as pool:
        codes = list(pool.map(attempt, range(40)))
    assert codes == ["egress_timeout"] * 40
    assert time.monotonic() - started < 10


def test_a_lookup_that_answers_in_time_connects(egress, routes, monkeypatch, workspace_id):
    egress(SLOW, connect_timeout_s=2)
    real = socket.getaddrinfo

    def late(host, port, *args, **kwargs):
        if host == SLOW:
            time.sleep(0.2)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", late)
    assert fetch("GET", slow_url(routes), workspace_id=workspace_id).json() == {"ok": True}


@pytest.mark.django_db
def test_a_model_base_that_does_not_resolve_in_time_is_a_retryable_timeout(
    egress, routes, slow_resolver, make_member
):
    egress(SLOW, connect_timeout_s=0.3)
    owner, workspace = make_member("slow-dns")
    credential = create_credential(
        user=owner,
        workspace_id=workspace.pk,
        name="slow",
        provider="openai_compatible",
        secret={"api_key": "sk-slow-dns-0000-1111"},
        config={"api_base": slow_url(routes, "/v1")},
    )
    with pytest.raises(ModelCallError) as failed:
        model_access(workspace.pk, "anything", str(credential.pk))
    assert (failed.value.code, failed.value.retryable) == ("timeout", True)
    assert "sk-slow-dns" not in failed.value.message
