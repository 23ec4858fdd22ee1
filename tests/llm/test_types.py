"""The value types other parts of Agentloom code against."""

from __future__ import annotations

import pickle

import pytest

from workers.llm.types import ErrorCode, ModelCallError, ModelResult, Usage


def test_as_output_is_the_agent_output_of_the_spec() -> None:
    result = ModelResult(
        text='{"a": 1}', json={"a": 1}, model="mock/json", usage=Usage(3, 4), cost_usd=0.5
    )

    assert result.as_output() == {
        "text": '{"a": 1}',
        "json": {"a": 1},
        "model": "mock/json",
        "usage": {"prompt_tokens": 3, "completion_tokens": 4},
        "cost_usd": 0.5,
    }


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("rate_limited", True),
        ("timeout", True),
        ("connection", True),
        ("provider_error", True),
        ("bad_request", False),
        ("auth", False),
        ("context_window", False),
        ("content_policy", False),
        ("invalid_json", False),
        ("cancelled", False),
        ("unknown_model", False),
        ("model_error", False),
    ],
)
def test_retryable_follows_the_code_unless_given(code: ErrorCode, retryable: bool) -> None:
    assert ModelCallError(code).retryable is retryable
    assert ModelCallError(code, retryable=not retryable).retryable is not retryable


def test_the_message_defaults_to_the_code() -> None:
    error = ModelCallError("rate_limited")

    assert error.message == "rate limited"
    assert str(error) == "rate limited"


def test_errors_survive_pickling_between_worker_processes() -> None:
    error = ModelCallError("provider_error", "upstream 502", status=502)

    copy = pickle.loads(pickle.dumps(error))

    assert (copy.code, copy.message, copy.retryable, copy.status) == (
        "provider_error",
        "upstream 502",
        True,
        502,
    )
