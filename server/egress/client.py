"""``fetch``: one outbound HTTP request to a user-given address, with every limit applied.

Redirects are followed here, not by httpx, so each hop is checked like the
first (scheme, the workspace's domains, then the addresses in transport.py) and
a hop to another origin drops the caller's credentials. The body is read as a
stream and abandoned past the size cap, so an endless answer costs at most the
cap. See docs/egress.md.
"""

from __future__ import annotations

import json as jsonlib
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from server.egress.addresses import checked_addresses, domain_allowed
from server.egress.errors import (
    EgressRefused,
    EgressTimeout,
    EgressTooLarge,
    EgressUnreachable,
)
from server.egress.rate import take_request_slot
from server.egress.transport import deadline, shared_transport

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# The only caller headers that follow a redirect to another origin: anything
# else (Authorization, API-key headers, cookies) was meant for the first one.
_KEPT_ACROSS_ORIGINS = frozenset({"accept", "accept-language", "user-agent"})
_BODY_HEADERS = frozenset({"content-length", "content-type", "transfer-encoding"})


@dataclass(frozen=True)
class EgressResponse:
    """A finished response: the body is read, the connection is back in the pool."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    url: str

    @property
    def text(self) -> str:
        return self.content.decode(self.headers.encoding or "utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


def fetch(
    method: str,
    url: str,
    *,
    workspace_id: uuid.UUID | str | None,
    allowed_domains: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
    json: Any = None,
    timeout_s: float | None = None,
    max_bytes: int | None = None,
) -> EgressResponse:
    """Send one request through the guard; raise an ``EgressError`` subclass if it cannot be.

    ``timeout_s`` and ``max_bytes`` may only lower the operator's limits.
    """
    limits = settings.AGENTLOOM_EGRESS
    total_s = min(timeout_s or limits["total_timeout_s"], limits["total_timeout_s"])
    cap = min(max_bytes or limits["max_response_bytes"], limits["max_response_bytes"])
    if workspace_id is not None:
        take_request_slot(str(workspace_id))
    try:
        request = httpx.Request(method, url, headers=headers, content=content, json=json)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise EgressRefused(f"invalid URL ({exc})") from None
    timeouts = {"connect": limits["connect_timeout_s"], "read": total_s, "write": total_s}
    with deadline(time.monotonic() + total_s):
        for _ in range(limits["max_redirects"] + 1):
            _check_url(request.url, allowed_domains)
            request.extensions["timeout"] = {**timeouts, "pool": total_s}
            response = _send(request, total_s)
            if response.status_code in _REDIRECTS and "location" in response.headers:
                response.close()
                request = _redirected(request, response)
                continue
            return _read(request, response, cap, total_s)
    raise EgressRefused(f"more than {limits['max_redirects']} redirects")


def check_destination(url: str, allowed_domains: Sequence[str] = ()) -> None:
    """Refuse ``url`` as ``fetch`` would, without sending anything.

    For callers whose HTTP client is not ``fetch`` (a model SDK): they check the
    address up front, for a clear error, and connect through ``GuardedTransport``.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise EgressRefused(f"invalid URL ({exc})") from None
    _check_url(parsed, allowed_domains)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    limits = settings.AGENTLOOM_EGRESS
    checked_addresses(parsed.host, port, tuple(limits["allow"]), limits["connect_timeout_s"])


def _check_url(url: httpx.URL, allowed_domains: Sequence[str]) -> None:
    if url.scheme not in ("http", "https"):
        raise EgressRefused(f"scheme {url.scheme or '(none)'!r} is not http or https")
    if not url.host:
        raise EgressRefused("the URL has no host")
    if not domain_allowed(url.host, allowed_domains):
        raise EgressRefused(f"{url.host} is outside the workspace's allowed domains")


def _send(request: httpx.Request, total_s: float) -> httpx.Response:
    try:
        return shared_transport().handle_request(request)
    except httpx.TimeoutException:
        raise EgressTimeout(f"{request.url.host} did not answer within {total_s:g} s") from None
    except httpx.TransportError as exc:
        raise EgressUnreachable(f"{request.url.host}: {type(exc).__name__}") from None


def _redirected(request: httpx.Request, response: httpx.Response) -> httpx.Request:
    try:
        url = request.url.join(response.headers["location"])
    except httpx.InvalidURL as exc:
        raise EgressRefused(f"invalid redirect location ({exc})") from None
    method = request.method
    # As browsers do: 303 always, and 301/302 after a POST, continue with a GET.
    status = response.status_code
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method = "GET"
    keeps_body = method == request.method
    same_origin = (url.scheme, url.host, url.port) == (
        request.url.scheme,
        request.url.host,
        request.url.port,
    )
    headers = {
        name: value
        for name, value in request.headers.items()
        if name != "host"
        and (keeps_body or name not in _BODY_HEADERS)
        and (same_origin or name in _KEPT_ACROSS_ORIGINS)
    }
    return httpx.Request(
        method, url, headers=headers, content=request.content if keeps_body else None
    )


def _read(
    request: httpx.Request, response: httpx.Response, cap: int, total_s: float
) -> EgressResponse:
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise EgressTooLarge(f"{request.url.host} announced {declared} bytes, over {cap}")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise EgressTooLarge(f"{request.url.host} sent more than {cap} bytes")
            chunks.append(chunk)
    except httpx.TimeoutException:
        raise EgressTimeout(f"{request.url.host} did not finish within {total_s:g} s") from None
    except (httpx.TransportError, httpx.DecodingError) as exc:
        raise EgressUnreachable(f"{request.url.host}: {type(exc).__name__}") from None
    finally:
        response.close()
    return EgressResponse(
        status_code=response.status_code,
        headers=response.headers,
        content=b"".join(chunks),
        url=str(request.url),
    )
