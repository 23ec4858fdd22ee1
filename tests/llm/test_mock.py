"""The offline ``mock/*`` models, called through ``call_model`` like any model."""

from __future__ import annotations

import json
import time
from unittest.mock import ANY

import pytest

from tests.llm.helpers import PROMPTLY_S, StopSwitch, call, make_request
from workers.llm.calls import call_model
from workers.llm.mock import MOCK_COST_PER_TOKEN
from workers.llm.tokens import estimate_tokens
from workers.llm.types import ModelCallError, Usage


def test_echo_is_deterministic_and_streams_word_by_word() -> None:
    request = make_request("mock/echo", user_prompt="Research the history of looms")

    first, first_deltas = call(request)
    second, second_deltas = call(request)

    assert first == second
    assert first_deltas == second_deltas
    assert first.text == "Echo: Research the history of looms"
    assert first_deltas == ["Echo: ", "Research ", "the ", "history ", "of ", "looms"]
    assert first.json is None
    assert first.model == "mock/echo"
    input_cost, output_cost = MOCK_COST_PER_TOKEN
    used = first.usage
    assert first.cost_usd == used.prompt_tokens * input_cost + used.completion_tokens * output_cost
    assert first.cost_usd > 0


def test_echo_answers_with_the_start_of_a_long_prompt() -> None:
    prompt = "word " * 200

    result, deltas = call(make_request("mock/echo", user_prompt=prompt))

    assert result.text == "Echo: " + prompt[:400]
    assert "".join(deltas) == result.text


def test_usage_counts_four_characters_per_token() -> None:
    request = make_request("mock/echo", system_prompt="abcd", user_prompt="hello")

    result, _ = call(request)

    # system 4 chars → 1, user 5 chars → 2; "Echo: hello" 11 chars → 3
    assert result.usage == Usage(prompt_tokens=3, completion_tokens=3)
    assert estimate_tokens("") == 0


def test_nothing_is_streamed_when_stream_is_off() -> None:
    result, deltas = call(make_request("mock/echo", stream=False))

    assert deltas == []
    assert result.text.startswith("Echo: ")


def test_echo_pauses_before_each_chunk_when_asked() -> None:
    request = make_request("mock/echo", user_prompt="a b c d", options={"mock_chunk_delay_ms": 20})

    started = time.monotonic()
    _, deltas = call(request)

    assert len(deltas) == 5
    assert time.monotonic() - started >= 5 * 0.02


def test_slow_spreads_its_latency_over_the_chunks() -> None:
    arrivals: list[float] = []
    request = make_request(
        "mock/slow", user_prompt="one two three", options={"mock_latency_ms": 300}
    )

    started = time.monotonic()
    result = call_model(
        request, on_delta=lambda _: arrivals.append(time.monotonic()), should_stop=lambda: False
    )

    assert result.text == "Echo: one two three"
    assert len(arrivals) == 4
    assert 0.3 <= arrivals[-1] - started < 0.3 + PROMPTLY_S
    assert arrivals[0] - started >= 0.07  # the first chunk waits its share too


def test_slow_stops_promptly_after_should_stop() -> None:
    stop = StopSwitch().set_after(0.1)
    deltas: list[str] = []

    with pytest.raises(ModelCallError) as raised:
        call_model(make_request("mock/slow"), on_delta=deltas.append, should_stop=stop)
    stopped_at = time.monotonic()

    assert (raised.value.code, raised.value.retryable) == ("cancelled", False)
    assert stop.set_at is not None
    assert stopped_at - stop.set_at < PROMPTLY_S
    assert len(deltas) < 6  # of "Echo: Research the history of looms", over 2 s


def test_slow_is_bounded_by_the_timeout() -> None:
    request = make_request("mock/slow", timeout_s=0.2, options={"mock_latency_ms": 5000})

    started = time.monotonic()
    with pytest.raises(ModelCallError) as raised:
        call(request)

    assert raised.value.code == "timeout"
    assert raised.value.retryable is True
    assert 0.2 <= time.monotonic() - started < 0.2 + PROMPTLY_S


def test_a_stop_requested_before_the_call_prevents_any_output() -> None:
    deltas: list[str] = []

    with pytest.raises(ModelCallError, match="cancelled"):
        call_model(make_request("mock/echo"), on_delta=deltas.append, should_stop=lambda: True)

    assert deltas == []


@pytest.mark.parametrize(
    ("status", "code"),
    [(429, "rate_limited"), (500, "provider_error"), (503, "provider_error")],
)
def test_flaky_fails_its_first_attempts_then_answers(status: int, code: str) -> None:
    options = {"mock_failures": 2, "mock_failure_status": status}

    for attempt in (1, 2):
        with pytest.raises(ModelCallError) as raised:
            call(make_request("mock/flaky", attempt=attempt, options=options))
        assert (raised.value.code, raised.value.retryable, raised.value.status) == (
            code,
            True,
            status,
        )
    result, _ = call(make_request("mock/flaky", attempt=3, options=options))

    assert result.text == "Echo: Research the history of looms"


def test_flaky_defaults_to_two_rate_limits() -> None:
    with pytest.raises(ModelCallError, match="attempt 2") as raised:
        call(make_request("mock/flaky", attempt=2))

    assert raised.value.code == "rate_limited"
    assert call(make_request("mock/flaky", attempt=3))[0].text.startswith("Echo: ")


def test_flaky_with_a_client_error_status_is_not_retryable() -> None:
    request = make_request("mock/flaky", options={"mock_failure_status": 400})

    with pytest.raises(ModelCallError) as raised:
        call(request)

    assert (raised.value.code, raised.value.retryable) == ("bad_request", False)


def test_json_summarises_the_prompt_by_default() -> None:
    result, deltas = call(make_request("mock/json", user_prompt="Summarise these four words"))

    assert result.json == {"summary": "Summarise these four words", "words": 4}
    assert json.loads(result.text) == result.json
    assert "".join(deltas) == result.text
    assert len(deltas) > 1


def test_json_answers_the_configured_value() -> None:
    value = {"verdict": "approve", "score": 0.9, "notes": ["ok"]}

    result, _ = call(make_request("mock/json", options={"mock_json": value}))

    assert result.json == value


@pytest.mark.parametrize(
    ("prompt", "route"),
    [
        ("Please REVIEW the draft, then hand it to the coder", ["coder", "review"]),
        ("Nothing matches here", ["research"]),
        ("Do more research", ["research"]),
    ],
)
def test_json_routes_to_the_labels_named_in_the_prompt(prompt: str, route: list[str]) -> None:
    request = make_request(
        "mock/json",
        user_prompt=prompt,
        response_format="json",
        options={"route_labels": ["research", "coder", "review", "coder"]},
    )

    result, _ = call(request)

    assert result.json == {"route": route, "reason": ANY}


def test_json_with_no_labels_routes_nowhere() -> None:
    result, _ = call(make_request("mock/json", options={"route_labels": []}))

    assert result.json == {"route": [], "reason": ANY}


def test_route_labels_must_be_strings() -> None:
    with pytest.raises(ModelCallError) as raised:
        call(make_request("mock/json", options={"route_labels": "review"}))

    assert (raised.value.code, raised.value.retryable) == ("bad_request", False)


def test_error_always_fails_without_retry() -> None:
    with pytest.raises(ModelCallError) as raised:
        call(make_request("mock/error", attempt=5))

    assert (raised.value.code, raised.value.retryable) == ("bad_request", False)


def test_an_unknown_mock_model_is_reported() -> None:
    with pytest.raises(ModelCallError) as raised:
        call(make_request("mock/oracle"))

    assert raised.value.code == "unknown_model"
    assert "mock/echo" in raised.value.message


@pytest.mark.parametrize("latency", [-1, "soon", 1.5, True])
def test_malformed_options_are_a_bad_request(latency: object) -> None:
    with pytest.raises(ModelCallError, match="mock_latency_ms") as raised:
        call(make_request("mock/slow", options={"mock_latency_ms": latency}))

    assert raised.value.code == "bad_request"


def test_whole_floats_are_accepted_as_option_numbers() -> None:
    started = time.monotonic()

    call(make_request("mock/slow", options={"mock_latency_ms": 50.0}))

    assert time.monotonic() - started >= 0.05


def test_asking_json_from_a_text_model_fails_as_invalid_json() -> None:
    with pytest.raises(ModelCallError) as raised:
        call(make_request("mock/echo", response_format="json"))

    assert (raised.value.code, raised.value.retryable) == ("invalid_json", False)
