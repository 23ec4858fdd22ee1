"""Requests an `http` node or a compensation sends: rendered, authenticated, guarded.

Shared by the worker's http node (workers/runtime/http_node.py) and the
rollback service (services/side_effects.py). Templates are rendered with the
node run's expression budget; the credential's headers are added last and
only here, so they are never part of anything recorded (a side effect's
compensation, an event, an error): every error message passes through
``redact`` with the secret values of the request.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from server.accounts.models import Workspace
from server.core.errors import CodedError
from server.core.limits import engine_limits
from server.credentials.crypto import SecretUnreadable, decrypt_secret
from server.credentials.models import Provider
from server.credentials.selectors import credential_in_workspace
from server.egress import EgressError, EgressRateLimited, EgressRefused, EgressResponse, fetch
from workers.engine.expressions import ExpressionBudget, render_template
from workers.engine.http_request import (
    FORBIDDEN_CHARS,
    MAX_HEADER_CHARS,
    MAX_URL_CHARS,
    RESERVED_HEADERS,
    RequestTemplate,
    retryable_status,
)

_REDACTED = "[redacted]"


class HttpCallError(CodedError):
    """A request that could not be made or was answered with an error status."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(code, message, retryable=retryable)
        # How long the other side asked us to wait, when it said (rate limits).
        self.wait_s: float | None = None


@dataclass(frozen=True)
class PreparedRequest:
    """A rendered request, as it may be recorded: no credential in it."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": dict(self.headers),
            "body": self.body,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PreparedRequest:
        return cls(raw["method"], raw["url"], dict(raw.get("headers") or {}), raw.get("body"))

    @property
    def parsed_url(self) -> httpx.URL:
        return httpx.URL(self.url)


def render_line(
    text: str,
    data: Mapping[str, Any],
    budget: ExpressionBudget,
    what: str,
    limit: int = MAX_HEADER_CHARS,
) -> str:
    """A one-line template (a URL, a header or query value) rendered and checked."""
    rendered = render_template(text, dict(data), limits=engine_limits(), budget=budget)
    if len(rendered) > limit:
        raise HttpCallError("invalid_request", f"the rendered {what} is over {limit:,} characters")
    if FORBIDDEN_CHARS.search(rendered):
        raise HttpCallError(
            "invalid_request", f"the rendered {what} holds a line break or a NUL character"
        )
    return rendered


def prepare(
    template: RequestTemplate, data: Mapping[str, Any], budget: ExpressionBudget
) -> PreparedRequest:
    """Render every template of the request over ``data``; ``ExpressionError`` if one fails."""
    url = render_line(template.url, data, budget, "url", MAX_URL_CHARS)
    query = {
        name: render_line(value, data, budget, f"query {name}")
        for name, value in template.query.items()
    }
    headers = {
        name: render_line(value, data, budget, f"header {name}")
        for name, value in template.headers.items()
    }
    body = None
    if template.body is not None:
        body = render_template(template.body, dict(data), limits=engine_limits(), budget=budget)
        if "content-type" not in {name.lower() for name in headers}:
            headers["Content-Type"] = _content_type(body)
    try:
        parsed = httpx.URL(url)
        if query:
            parsed = parsed.copy_merge_params(query)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise HttpCallError("invalid_request", f"the rendered url is not a URL ({exc})") from None
    return PreparedRequest(template.method, str(parsed), headers, body)


def _content_type(body: str) -> str:
    try:
        json.loads(body)
    except ValueError:
        return "text/plain; charset=utf-8"
    return "application/json"


@dataclass(frozen=True)
class Authentication:
    """A credential's headers and the secret values never to show."""

    headers: Mapping[str, str]
    secrets: tuple[str, ...]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, _REDACTED)
        return text


NO_AUTHENTICATION = Authentication({}, ())


def authentication(workspace_id: uuid.UUID | str, credential_id: str | None) -> Authentication:
    """The headers of an ``http`` credential of the workspace (docs/credentials.md)."""
    if not credential_id:
        return NO_AUTHENTICATION
    credential = credential_in_workspace(workspace_id, credential_id)
    if credential is None:
        raise HttpCallError(
            "credential_not_found", f"credential {credential_id} does not exist in this workspace"
        )
    if credential.provider != Provider.HTTP:
        raise HttpCallError(
            "credential_mismatch",
            f"credential {credential.name!r} is for {credential.provider}, not for http requests",
        )
    try:
        secret = decrypt_secret(credential.secret_token)
    except SecretUnreadable as exc:
        raise HttpCallError("credential_unreadable", exc.message) from None
    headers: dict[str, str] = {}
    token = secret.get("token")
    if token:
        header = credential.config.get("header") or "Authorization"
        headers[header] = f"Bearer {token}" if header.lower() == "authorization" else token
    headers.update(secret.get("headers") or {})
    secrets = tuple(sorted({token or "", *headers.values()} - {""}, key=len, reverse=True))
    return Authentication(headers, secrets)


def send(
    workspace_id: uuid.UUID | str,
    request: PreparedRequest,
    auth: Authentication,
    *,
    timeout_s: float,
    extra_headers: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
    error_status_ok: bool = False,
) -> EgressResponse:
    """Send through the outbound guard; an ``HttpCallError`` for every failure.

    A status ≥ 400 is one too, unless ``error_status_ok`` (a preview shows the answer).
    """
    allowed = (
        Workspace.objects.filter(pk=workspace_id).values_list("allowed_domains", flat=True).first()
    )
    headers = {
        name: value
        for name, value in {**request.headers, **(extra_headers or {})}.items()
        if name.lower() not in RESERVED_HEADERS
    }
    headers.update(auth.headers)
    try:
        response = fetch(
            request.method,
            request.url,
            workspace_id=workspace_id,
            allowed_domains=allowed or (),
            headers=headers,
            content=request.body.encode() if request.body is not None else None,
            timeout_s=timeout_s,
            max_bytes=max_bytes,
        )
    except EgressError as exc:
        error = HttpCallError(
            exc.code,
            auth.redact(exc.reason),
            retryable=not isinstance(exc, EgressRefused) and exc.code != "egress_too_large",
        )
        if isinstance(exc, EgressRateLimited):
            error.wait_s = exc.wait_s
        raise error from None
    if response.status_code >= 400 and not error_status_ok:
        host = request.parsed_url.host
        snippet = auth.redact(response.text[:200])
        error = HttpCallError(
            "http_status",
            f"{host} answered {response.status_code}: {snippet}".rstrip(": "),
            retryable=retryable_status(response.status_code),
        )
        error.wait_s = _retry_after(response)
        raise error
    return response


def _retry_after(response: EgressResponse) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isascii() and value.isdigit() else None
