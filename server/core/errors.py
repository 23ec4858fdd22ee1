"""One error shape for the whole API: ``{"code", "message", ...}``.

Clients branch on ``code``, which is stable; ``message`` is for people. Every
exception DRF or Django raises in a view is translated here, so no view builds
an error response by hand.
"""

from typing import Any

import redis
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response


class CodedError(Exception):
    """A failure its caller reports by code (a tool result, a step not recorded), not an answer.

    ``retryable``: whether trying the same thing again may succeed (a timeout,
    a rate limit), which decides whether a node's retry policy applies.
    """

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


class ApiError(exceptions.APIException):
    """A domain error with a stable code and optional extra fields."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"

    def __init__(
        self, code: str, message: str, *, status_code: int | None = None, **extra: Any
    ) -> None:
        super().__init__(detail=message, code=code)
        self.code = code
        self.message = message
        self.extra = extra
        if status_code is not None:
            self.status_code = status_code


class Conflict(ApiError):
    status_code: int = status.HTTP_409_CONFLICT


class Unavailable(ApiError):
    status_code: int = status.HTTP_503_SERVICE_UNAVAILABLE
    wait = 5  # DRF sends it as Retry-After


_CODES_BY_CLASS: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ParseError, "malformed_json"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "not_authenticated"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
]


def _message_of(detail: Any) -> str:
    if isinstance(detail, (list, tuple)) and detail:
        return _message_of(detail[0])
    if isinstance(detail, dict) and detail:
        return _message_of(next(iter(detail.values())))
    return str(detail)


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, ApiError):
        return {"code": exc.code, "message": exc.message, **exc.extra}
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        first_field, first_messages = next(iter(fields.items()), ("", ""))
        message = _message_of(first_messages)
        if first_field and first_field != "non_field_errors":
            message = f"{first_field}: {message}"
        return {"code": "invalid", "message": message, "fields": fields}
    # A code given where the exception is raised (``AuthenticationFailed(...,
    # code="token_expired")``) is more precise than the one of its class.
    given = exc.get_codes()
    for cls, code in _CODES_BY_CLASS:
        if isinstance(exc, cls):
            if isinstance(given, str) and given != exc.default_code:
                code = given
            return {"code": code, "message": _message_of(exc.detail)}
    return {"code": getattr(exc, "default_code", "error"), "message": _message_of(exc.detail)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Imported here: rest_framework.views loads the parser classes, and our
    # parser raises ApiError from this module (a cycle at import time).
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
        # Redis restarting (a deploy, a failover) is no fault of the request:
        # say so, and when to try again, rather than answer 500.
        exc = Unavailable(
            "unavailable",
            "A service Agentloom depends on is not answering; try again in a few seconds.",
        )
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    response.data = error_body(exc)
    return response
