"""Redirects, size, time and rate: each ends in its own error, never a hang."""

import time
from urllib.parse import quote

import pytest

from server.egress import (
    EgressRateLimited,
    EgressRefused,
    EgressTimeout,
    EgressTooLarge,
    fetch,
)


def redirect(server, to: str, status: int = 302) -> str:
    return f"{server.url}/redirect?status={status}&to={quote(to, safe='')}"


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{trap}/",
        "http://localhost:{trap}/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:{trap}/",
        "http://2130706433:{trap}/",
        "file:///etc/passwd",
    ],
)
def test_redirect_to_a_refused_address(egress, routes, trap, workspace_id, target):
    with pytest.raises(EgressRefused):
        fetch("GET", redirect(routes, target.format(trap=trap.port)), workspace_id=workspace_id)
    assert len(routes.requests) == 1


def test_redirect_to_an_allowed_server_is_followed(egress, routes, other_routes, workspace_id):
    egress(f"127.0.0.1:{other_routes.port}")
    answer = fetch(
        "POST",
        redirect(routes, f"{other_routes.url}/ok", status=307),
        workspace_id=workspace_id,
        headers={"Authorization": "Bearer first-origin-only", "Accept": "application/json"},
        content=b"payload",
    )
    assert answer.json() == {"ok": True}
    assert answer.url == f"{other_routes.url}/ok"
    received = other_routes.requests[0]
    assert received["method"] == "POST"
    assert received["body"] == b"payload"
    headers = {name.lower(): value for name, value in received["headers"].items()}
    assert "authorization" not in headers
    assert headers["accept"] == "application/json"


def test_303_turns_into_get_without_body(egress, routes, workspace_id):
    fetch("POST", redirect(routes, "/ok", status=303), workspace_id=workspace_id, json={"a": 1})
    assert [r["method"] for r in routes.requests] == ["POST", "GET"]
    assert routes.requests[1]["body"] == b""


def test_at_most_five_redirects(egress, routes, workspace_id):
    url = f"{routes.url}/ok"
    for _ in range(6):
        url = redirect(routes, url)
    with pytest.raises(EgressRefused, match="more than 5 redirects"):
        fetch("GET", url, workspace_id=workspace_id)
    assert len(routes.requests) == 6
    url = f"{routes.url}/ok"
    for _ in range(5):
        url = redirect(routes, url)
    assert fetch("GET", url, workspace_id=workspace_id).status_code == 200


@pytest.mark.parametrize("declare", ["0", "1"])
def test_oversized_response(egress, routes, workspace_id, declare):
    egress(max_response_bytes=1024 * 1024)
    with pytest.raises(EgressTooLarge) as too_large:
        fetch("GET", f"{routes.url}/big?bytes=50000000&declare={declare}", workspace_id=None)
    assert too_large.value.code == "egress_too_large"
    exact = fetch("GET", f"{routes.url}/big?bytes={1024 * 1024}", workspace_id=workspace_id)
    assert len(exact.content) == 1024 * 1024


def test_caller_may_lower_the_cap_but_not_raise_it(egress, routes, workspace_id):
    egress(max_response_bytes=1000)
    with pytest.raises(EgressTooLarge):
        fetch("GET", f"{routes.url}/big?bytes=2000", workspace_id=workspace_id, max_bytes=10**9)
    with pytest.raises(EgressTooLarge):
        fetch("GET", f"{routes.url}/big?bytes=600", workspace_id=workspace_id, max_bytes=500)


@pytest.mark.parametrize("path", ["/slow?s=30", "/drip"])
def test_slow_answers_end_at_the_total_timeout(egress, routes, workspace_id, path):
    egress(total_timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(EgressTimeout) as timed_out:
        fetch("GET", f"{routes.url}{path}", workspace_id=workspace_id)
    assert timed_out.value.code == "egress_timeout"
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "in-process"])
def test_rate_per_workspace(egress, routes, workspace_id, settings, shared):
    if not shared:
        settings.REDIS_URL = ""
    egress(rate_per_workspace="3/min")
    for _ in range(3):
        fetch("GET", f"{routes.url}/ok", workspace_id=workspace_id)
    with pytest.raises(EgressRateLimited) as limited:
        fetch("GET", f"{routes.url}/ok", workspace_id=workspace_id)
    assert limited.value.code == "egress_rate_limited"
    assert limited.value.wait_s > 0
    assert len(routes.requests) == 3
    fetch("GET", f"{routes.url}/ok", workspace_id=workspace_id + "-another")
