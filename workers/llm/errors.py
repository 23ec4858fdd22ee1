"""Classify litellm's exceptions into ``ModelCallError`` codes (which are retryable).

What is worth a retry is said in docs/run-semantics.md, "Errors".

Matching is by class name along the exception's MRO, most specific class first.
litellm's exceptions subclass the OpenAI SDK's ones of the same names, so this also
covers an SDK error that escapes litellm's own mapping; and a subclass litellm adds
later (such as ``MidStreamFallbackError`` under ``ServiceUnavailableError``) lands
on its parent's code without a change here. Classes that carry nothing more than a
status (``APIError`` for a 403, say) are classified by that status. One exception to
"outermost class wins": a timeout or connection failure anywhere in the cause chain
decides, because then no HTTP response came back and the outer status is made up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from workers.llm.types import ErrorCode, ModelCallError

# Retryability follows the code (RETRYABLE_CODES), so the table only names codes.
ERROR_CODE_BY_CLASS: dict[str, ErrorCode] = {
    "ContextWindowExceededError": "context_window",
    "ContentPolicyViolationError": "content_policy",
    "NotFoundError": "unknown_model",
    "RateLimitError": "rate_limited",
    "Timeout": "timeout",  # litellm's
    "APITimeoutError": "timeout",  # the OpenAI SDK's; a subclass of APIConnectionError
    "APIConnectionError": "connection",
    "InternalServerError": "provider_error",
    "ServiceUnavailableError": "provider_error",
    "BadGatewayError": "provider_error",
    "AuthenticationError": "auth",
    "PermissionDeniedError": "auth",
    "BadRequestError": "bad_request",
    "UnprocessableEntityError": "bad_request",
    # The outbound guard's (server.egress), raised inside the SDK's connection attempt.
    "EgressRefused": "egress_refused",
    "EgressUnreachable": "connection",
}

ERROR_CODE_BY_STATUS: dict[int, ErrorCode] = {
    400: "bad_request",
    401: "auth",
    403: "auth",
    404: "unknown_model",
    408: "timeout",
    413: "context_window",
    422: "bad_request",
    429: "rate_limited",
}

_MASKED_KEY = re.compile(r"\S*\*{4,}\S*")

# The codes of a call that got no HTTP response at all.
_NO_RESPONSE: tuple[ErrorCode, ...] = ("timeout", "connection")


def classify_provider_error(exc: BaseException) -> ModelCallError:
    message = str(exc) or type(exc).__name__
    codes = [_code_by_class(link) for link in _chain(exc)]
    if "egress_refused" in codes:  # the guard decided; the SDK's wrapping says nothing more
        return ModelCallError("egress_refused", message)
    # litellm reports a refused connection as a 500 "Connection error." caused by
    # the SDK's APIConnectionError.
    if no_response := next((code for code in codes if code in _NO_RESPONSE), None):
        return ModelCallError(no_response, message)
    status = _status_of(exc)
    if codes[0] is not None:
        return ModelCallError(codes[0], message, status=status)
    return error_for_status(status, message)


def scrub(message: str, secret: str | None) -> str:
    """``message`` without the key, whole or in the half-masked form providers echo."""
    if secret:
        message = message.replace(secret, "[key]")
    # "sk-****…abcd": a provider naming the key it refused.
    return _MASKED_KEY.sub("[key]", message)


def error_for_status(status: int | None, message: str) -> ModelCallError:
    """Classify by HTTP status alone: any 5xx is the provider's fault, hence retryable."""
    if status is not None and status >= 500:
        return ModelCallError("provider_error", message, status=status)
    code = ERROR_CODE_BY_STATUS.get(status or 0, "model_error")
    return ModelCallError(code, message, status=status)


def _code_by_class(exc: BaseException) -> ErrorCode | None:
    for cls in type(exc).__mro__:
        if code := ERROR_CODE_BY_CLASS.get(cls.__name__):
            return code
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what caused it, and so on."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None
