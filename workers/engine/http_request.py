"""The `http` node's configuration (SPEC §11, docs/workflow-document.md, "The http node").

Pure data and rules: what a request looks like before its templates are
rendered, its defaults, and which answers are worth another try. Sending it is
the worker's (workers/runtime/http_node.py), through the outbound guard.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from workers.engine.retry import RetryPolicy

SideEffect = Literal["none", "reversible", "irreversible"]
ResponseParse = Literal["auto", "json", "text"]

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
SIDE_EFFECTS: tuple[SideEffect, ...] = ("none", "reversible", "irreversible")
RESPONSE_PARSES: tuple[ResponseParse, ...] = ("auto", "json", "text")
# Methods that change nothing by HTTP's own definition: a node that sends one
# records no side effect unless it says otherwise; any other method is taken
# to act on the world (irreversibly) unless the node declares how it does.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HTTP_DEFAULT_TIMEOUT_S = 30.0
IDEMPOTENCY_HEADER = "Idempotency-Key"
# The key the response has in the data a compensation's templates read.
RESPONSE_KEY = "response"

# Bounds on a request's parts, before and after rendering: a URL longer than
# what servers accept, or hundreds of headers, is a mistake, not a request.
MAX_URL_CHARS = 8192
MAX_HEADER_CHARS = 8192
MAX_HEADERS = 50
MAX_QUERY_PARAMS = 100
MAX_MANUAL_CHARS = 10_000
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,200}")
# Set by the worker from the body and the credential; a template may not set them.
RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
# Characters no rendered URL or header value may hold: they would split a
# request line or a header (CR, LF) or end a C string (NUL).
FORBIDDEN_CHARS = re.compile(r"[\x00\r\n]")


def retryable_status(status: int) -> bool:
    """A status worth another try: rate limited, or the server's own failure."""
    return status == 429 or 500 <= status <= 599


def default_side_effect(method: str) -> SideEffect:
    return "none" if method.upper() in SAFE_METHODS else "irreversible"


@dataclass(frozen=True)
class RequestTemplate:
    """A request whose url, header and query values and body are `{{ }}` templates."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> RequestTemplate:
        """Expects a config that passed validation."""
        body = raw.get("body")
        return cls(
            method=str(raw.get("method") or "GET").upper(),
            url=str(raw["url"]),
            headers=dict(raw.get("headers") or {}),
            query=dict(raw.get("query") or {}),
            body=body if isinstance(body, str) and body != "" else None,
        )


@dataclass(frozen=True)
class Compensation:
    """How to undo a side effect: a reverse request, or instructions for a person."""

    request: RequestTemplate | None = None
    manual: str | None = None

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> Compensation | None:
        if not raw:
            return None
        if raw.get("manual") is not None:
            return cls(manual=str(raw["manual"]))
        return cls(request=RequestTemplate.from_config(raw))


@dataclass(frozen=True)
class HttpConfig:
    """An `http` node's configuration with every default resolved."""

    request: RequestTemplate
    credential: str | None
    timeout_s: float
    retry: RetryPolicy
    response_format: ResponseParse
    side_effect: SideEffect
    idempotency_key: str | None
    compensation: Compensation | None

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> HttpConfig:
        """Expects a config that passed validation."""
        request = RequestTemplate.from_config(raw)
        timeout = raw.get("timeout_s")
        return cls(
            request=request,
            credential=raw.get("credential") or None,
            timeout_s=float(timeout) if timeout is not None else HTTP_DEFAULT_TIMEOUT_S,
            retry=RetryPolicy.from_config(raw.get("retry")),
            response_format=cast(ResponseParse, raw.get("response_format") or "auto"),
            side_effect=cast(
                SideEffect, raw.get("side_effect") or default_side_effect(request.method)
            ),
            idempotency_key=raw.get("idempotency_key") or None,
            compensation=Compensation.from_config(raw.get("compensation")),
        )


def new_http_config() -> dict[str, Any]:
    """The config a new http node starts with on the canvas."""
    return {
        "method": "GET",
        "url": "https://example.com/",
        "headers": {},
        "query": {},
        "body": None,
        "credential": None,
        "timeout_s": HTTP_DEFAULT_TIMEOUT_S,
        "response_format": "auto",
        "side_effect": "none",
        "idempotency_key": None,
        "compensation": None,
        "retry": {
            "max_attempts": 3,
            "backoff": "exponential",
            "initial_delay_ms": 1000,
            "max_delay_ms": 30000,
            "jitter": True,
        },
        "on_error": None,
    }
