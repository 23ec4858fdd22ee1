"""Every refused destination ends in ``egress_refused`` before any connection is opened.

Each URL points at the trap server's port where it could reach it at all; the
trap must see no request, and the loopback-only audit hook fails the test on
any connection past loopback.
"""

import ipaddress
import time

import pytest

from server.egress import EgressRefused, EgressUnreachable, check_destination, fetch
from server.egress.addresses import refusal_reason

REFUSED_HOSTS = [
    "127.0.0.1",
    "localhost",
    "[::1]",
    "0.0.0.0",
    "169.254.169.254",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::127.0.0.1]",
    "[2002:7f00:1::1]",
    "[fe80::1]",
    "[fc00::1]",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "2130706433",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "0x7f000001",
    "127.1",
    "loopback.test",
    "LOOPBACK.TEST.",
    "mixed.test",
    "metadata.test",
    "v6loop.test",
]


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_refused_before_connecting(egress, trap, resolver_stub, workspace_id, host):
    started = time.monotonic()
    with pytest.raises(EgressRefused) as refused:
        fetch("GET", f"http://{host}:{trap.port}/", workspace_id=workspace_id)
    assert refused.value.code == "egress_refused"
    assert refused.value.reason
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "file:///etc/passwd", "gopher://127.0.0.1/", "http:///nohost", "//x"],
)
def test_other_schemes_are_refused(egress, url, workspace_id):
    with pytest.raises(EgressRefused):
        fetch("GET", url, workspace_id=workspace_id)


def test_allowed_port_does_not_open_other_ports(egress, routes, trap, workspace_id):
    assert fetch("GET", f"{routes.url}/ok", workspace_id=workspace_id).json() == {"ok": True}
    with pytest.raises(EgressRefused):
        fetch("GET", f"{trap.url}/ok", workspace_id=workspace_id)


def test_allow_by_name_and_by_network(egress, other_routes, resolver_stub, workspace_id):
    by_ip = f"http://127.0.0.1:{other_routes.port}/ok"
    egress("loopback.test")
    by_name = fetch("GET", f"http://loopback.test:{other_routes.port}/ok", workspace_id=None)
    assert by_name.status_code == 200
    with pytest.raises(EgressRefused):
        fetch("GET", by_ip, workspace_id=workspace_id)
    egress("127.0.0.0/8")
    assert fetch("GET", by_ip, workspace_id=workspace_id).status_code == 200


def test_workspace_domains_narrow_further(egress, other_routes, trap, resolver_stub, workspace_id):
    egress("127.0.0.0/8")
    domains = ["example.com"]
    answer = fetch(
        "GET",
        f"http://svc.example.com:{other_routes.port}/ok",
        workspace_id=workspace_id,
        allowed_domains=domains,
    )
    assert answer.status_code == 200
    for url in (f"http://evil-example.com:{trap.port}/", f"http://127.0.0.1:{trap.port}/"):
        with pytest.raises(EgressRefused, match="allowed domains"):
            fetch("GET", url, workspace_id=workspace_id, allowed_domains=domains)


def test_unknown_name_is_unreachable_not_a_hang(egress, resolver_stub, workspace_id):
    with pytest.raises(EgressUnreachable) as failed:
        fetch("GET", "http://no-such-name.invalid/", workspace_id=workspace_id)
    assert failed.value.code == "egress_unreachable"


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("fc00::1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("::ffff:10.0.0.1", "embeds"),
        ("64:ff9b::a00:1", "reserved"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "embeds"),
    ],
)
def test_refusal_reasons(address, kind):
    reason = refusal_reason(ipaddress.ip_address(address))
    assert reason is not None
    assert kind in reason


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert refusal_reason(ipaddress.ip_address(address)) is None


def test_check_destination_sends_nothing(egress, routes, trap, resolver_stub):
    check_destination(f"{routes.url}/v1")
    for url in (f"{trap.url}/v1", "http://metadata.test/", "ftp://example.com/"):
        with pytest.raises(EgressRefused):
            check_destination(url)
    with pytest.raises(EgressRefused, match="allowed domains"):
        check_destination(f"{routes.url}/v1", allowed_domains=["example.com"])
    assert routes.requests == []
