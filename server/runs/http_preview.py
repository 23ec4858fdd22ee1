"""An `http` node's test request from the editor (docs/api.md, "Send a test request").

The same path as a run's request (templates rendered with an expression
budget, the credential added last, the outbound guard with the workspace's
domains and rate), with tighter bounds: a preview holds an API process, not a
worker. What comes back is for a person to look at: the status, the headers
(secret-bearing ones masked, any credential value redacted) and the start of
the body.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from server.core.errors import ApiError
from server.core.limits import engine_limits
from server.runs import http_calls
from workers.engine.expressions import ExpressionBudget, ExpressionError
from workers.engine.http_request import HttpConfig
from workers.engine.validation import validate_document

PREVIEW_TIMEOUT_S = 10.0
PREVIEW_MAX_BYTES = 1024 * 1024
PREVIEW_BODY_CHARS = 16_384
MASKED = "[hidden]"
# Headers whose values are credentials or sessions, whoever set them.
_SECRET_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "api-key", "apikey", "auth")
_CONFIG_FIELD = "nodes[0].data.config"
# The status of each failure: refusals and mistakes are the caller's (400), a
# destination that did not answer usably is 422 (the workspace's rate: 429).
_STATUS_OF_CODE = {
    "egress_timeout": 422,
    "egress_unreachable": 422,
    "egress_too_large": 422,
    "egress_failed": 422,
}


class RateLimited(ApiError):
    """The workspace's outbound rate is used up: 429 with Retry-After."""

    status_code = 429

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__("egress_rate_limited", message, retry_after_s=wait_s)
        self.wait = wait_s  # DRF sends it as Retry-After


def _is_secret_header(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_HEADER_WORDS)


def _shown_headers(
    headers: Mapping[str, str] | Any, auth: http_calls.Authentication
) -> dict[str, str]:
    return {
        name: MASKED if _is_secret_header(name) else auth.redact(value)
        for name, value in headers.items()
    }


def _checked_config(config: Any) -> HttpConfig:
    """The config as a run would read it, or the first of its problems as a 400."""
    document = {
        "schema_version": 1,
        "nodes": [{"id": "preview", "type": "http", "data": {"config": config}}],
        "edges": [],
    }
    problems = [
        problem
        for problem in validate_document(document, limits=engine_limits())
        if problem.severity == "error" and (problem.field or "").startswith(_CONFIG_FIELD)
    ]
    if problems:
        first = problems[0]
        field = (first.field or "")[len(_CONFIG_FIELD) :].lstrip(".") or None
        raise ApiError(
            "invalid_config",
            first.message,
            field=field,
            problems=[problem.as_dict() for problem in problems[:20]],
        )
    return HttpConfig.from_config(config)


def send_test_request(workspace_id: uuid.UUID, config: Any, data: Any) -> dict[str, Any]:
    """Send the node's request once over ``data``; ``ApiError`` for every failure.

    The idempotency key is not sent: a test request must not make the server
    take the run's real request for a repeat of it.
    """
    http = _checked_config(config)
    budget = ExpressionBudget.for_request(engine_limits())
    auth = http_calls.NO_AUTHENTICATION
    try:
        request = http_calls.prepare(http.request, data, budget)
        auth = http_calls.authentication(workspace_id, http.credential)
        response = http_calls.send(
            workspace_id,
            request,
            auth,
            timeout_s=min(http.timeout_s, PREVIEW_TIMEOUT_S),
            max_bytes=PREVIEW_MAX_BYTES,
            error_status_ok=True,
        )
    except ExpressionError as exc:
        raise ApiError(
            "expression_error", exc.message, position=exc.position, reason=exc.code
        ) from None
    except http_calls.HttpCallError as exc:
        if exc.wait_s is not None:
            raise RateLimited(exc.message, exc.wait_s) from None
        raise ApiError(
            exc.code, auth.redact(exc.message), status_code=_STATUS_OF_CODE.get(exc.code, 400)
        ) from None
    text = auth.redact(response.text)
    return {
        "request": {
            "method": request.method,
            "url": auth.redact(request.url),
            "headers": _shown_headers(request.headers, auth),
        },
        "status": response.status_code,
        "headers": _shown_headers(response.headers, auth),
        "body": text[:PREVIEW_BODY_CHARS],
        "truncated": len(text) > PREVIEW_BODY_CHARS,
        "bytes": len(response.content),
    }
