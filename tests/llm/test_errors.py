"""litellm's exceptions → ``ModelCallError`` codes (what is worth a retry)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from workers.llm.errors import classify_provider_error, error_for_status

_RESPONSE = httpx.Response(403, request=httpx.Request("POST", "http://127.0.0.1/v1"))


def _build(litellm: Any, name: str) -> Any:
    """One instance of each litellm exception class, built as litellm builds them."""
    common = {"message": "boom", "model": "openai/x", "llm_provider": "openai"}
    match name:
        case "APIError":
            return litellm.APIError(status_code=503, **common)
        case "PermissionDeniedError" | "UnprocessableEntityError":
            return getattr(litellm, name)(response=_RESPONSE, **common)
        case "MidStreamFallbackError":
            return litellm.exceptions.MidStreamFallbackError(**common)
        case _:
            return getattr(litellm, name)(**common)


@pytest.mark.parametrize(
    ("name", "code", "retryable"),
    [
        ("RateLimitError", "rate_limited", True),
        ("Timeout", "timeout", True),
        ("APIConnectionError", "connection", True),
        ("InternalServerError", "provider_error", True),
        ("ServiceUnavailableError", "provider_error", True),
        ("BadGatewayError", "provider_error", True),
        ("MidStreamFallbackError", "provider_error", True),
        ("APIError", "provider_error", True),  # built with a 503
        ("BadRequestError", "bad_request", False),
        ("UnprocessableEntityError", "bad_request", False),
        ("AuthenticationError", "auth", False),
        ("PermissionDeniedError", "auth", False),
        ("ContextWindowExceededError", "context_window", False),
        ("ContentPolicyViolationError", "content_policy", False),
        ("NotFoundError", "unknown_model", False),
    ],
)
def test_each_litellm_exception_gets_its_code(
    litellm: Any, name: str, code: str, retryable: bool
) -> None:
    error = classify_provider_error(_build(litellm, name))

    assert (error.code, error.retryable) == (code, retryable)
    assert "boom" in error.message


def test_the_status_is_kept(litellm: Any) -> None:
    error = classify_provider_error(_build(litellm, "RateLimitError"))

    assert error.status == 429


# Stand-ins named like the OpenAI SDK's classes: matching goes by name along the MRO.
class APIConnectionError(Exception):
    pass


class APITimeoutError(APIConnectionError):
    pass


class InternalServerError(Exception):
    status_code = 500


def test_the_most_specific_class_wins() -> None:
    assert classify_provider_error(APITimeoutError("read timed out")).code == "timeout"


def test_a_transport_failure_in_the_cause_chain_wins_over_a_made_up_status() -> None:
    try:
        try:
            raise APIConnectionError("Connection refused")
        except APIConnectionError as cause:
            raise InternalServerError("Connection error.") from cause
    except InternalServerError as wrapped:
        error = classify_provider_error(wrapped)

    assert (error.code, error.retryable, error.status) == ("connection", True, None)


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (400, "bad_request", False),
        (401, "auth", False),
        (403, "auth", False),
        (404, "unknown_model", False),
        (408, "timeout", True),
        (418, "model_error", False),
        (429, "rate_limited", True),
        (500, "provider_error", True),
        (529, "provider_error", True),
        (None, "model_error", False),
    ],
)
def test_an_error_with_only_a_status_is_classified_by_it(
    status: int | None, code: str, retryable: bool
) -> None:
    error = error_for_status(status, "failed")

    assert (error.code, error.retryable, error.status) == (code, retryable, status)


def test_an_unrelated_exception_is_a_model_error() -> None:
    error = classify_provider_error(IndexError("list index out of range"))

    assert (error.code, error.retryable) == ("model_error", False)
