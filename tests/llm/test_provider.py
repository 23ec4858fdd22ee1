"""The real call path: ``call_model`` → litellm → HTTP → the local OpenAI-compatible server."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from tests.llm.helpers import PROMPTLY_S, StopSwitch, call, make_request
from tests.support.openai_server import OpenAICompatibleServer
from workers.llm.calls import call_model
from workers.llm.catalog import model_price
from workers.llm.types import ModelCallError, ModelRequest, Usage

# Warm up litellm once, so the first test's timings are not the import's.
pytestmark = pytest.mark.usefixtures("litellm")

PROMPT = "Research the history of looms"  # 5 words, and 5 in the system prompt


def _request(server: OpenAICompatibleServer, name: str, **changes: Any) -> ModelRequest:
    return make_request(f"openai/{name}", api_base=server.base_url, api_key="test-key", **changes)


def test_a_plain_call_returns_the_answer_and_the_servers_usage(
    openai_server: OpenAICompatibleServer,
) -> None:
    result, deltas = call(_request(openai_server, "echo", stream=False))

    assert result.text == f"You said: {PROMPT}"
    assert deltas == []
    assert result.usage == Usage(prompt_tokens=10, completion_tokens=7)  # words, as served
    assert result.json is None
    assert result.model == "openai/echo"
    assert result.cost_usd == 0.0  # a name with no price


def test_the_node_settings_are_sent(openai_server: OpenAICompatibleServer) -> None:
    call(_request(openai_server, "echo", stream=False, temperature=0.2, max_tokens=77))

    [received] = openai_server.requests
    assert received.body["model"] == "echo"
    assert received.body["temperature"] == 0.2
    assert received.body["max_tokens"] == 77
    assert received.body["messages"] == [
        {"role": "system", "content": "You are a thorough researcher."},
        {"role": "user", "content": PROMPT},
    ]
    assert received.headers["authorization"] == "Bearer test-key"
    assert "response_format" not in received.body


def test_an_empty_system_prompt_sends_no_system_message(
    openai_server: OpenAICompatibleServer,
) -> None:
    call(_request(openai_server, "echo", system_prompt=""))

    assert [m["role"] for m in openai_server.requests[0].body["messages"]] == ["user"]


def test_streaming_delivers_deltas_in_order_and_usage_from_the_last_chunk(
    openai_server: OpenAICompatibleServer,
) -> None:
    result, deltas = call(_request(openai_server, "echo", stream=True))

    assert deltas == ["You", " said:", " Research", " the", " history", " of", " looms"]
    assert "".join(deltas) == result.text
    assert result.usage == Usage(prompt_tokens=10, completion_tokens=7)
    sent = openai_server.requests[0].body
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


def test_a_priced_model_costs_its_listed_price(openai_server: OpenAICompatibleServer) -> None:
    result, _ = call(_request(openai_server, "gpt-4o-mini"))

    input_price, output_price = model_price("openai/gpt-4o-mini")
    assert input_price > 0
    assert result.cost_usd == pytest.approx(10 * input_price + 7 * output_price)


@pytest.mark.parametrize("stream", [False, True])
def test_json_answers_are_requested_and_parsed(
    openai_server: OpenAICompatibleServer, stream: bool
) -> None:
    result, _ = call(_request(openai_server, "json", stream=stream, response_format="json"))

    assert result.json == {"answer": PROMPT, "words": 5}
    assert openai_server.requests[0].body["response_format"] == {"type": "json_object"}


def test_an_answer_that_is_not_json_is_invalid_json(openai_server: OpenAICompatibleServer) -> None:
    with pytest.raises(ModelCallError) as raised:
        call(_request(openai_server, "badjson", response_format="json"))

    assert (raised.value.code, raised.value.retryable) == ("invalid_json", False)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (429, "rate_limited", True),
        (500, "provider_error", True),
        (502, "provider_error", True),
        (503, "provider_error", True),
        (400, "bad_request", False),
        (401, "auth", False),
        (403, "auth", False),
        (404, "unknown_model", False),
    ],
)
def test_http_errors_are_classified_and_never_retried_here(
    openai_server: OpenAICompatibleServer, status: int, code: str, retryable: bool, stream: bool
) -> None:
    with pytest.raises(ModelCallError) as raised:
        call(_request(openai_server, f"fail-{status}-1", stream=stream))

    assert (raised.value.code, raised.value.retryable, raised.value.status) == (
        code,
        retryable,
        status,
    )
    assert len(openai_server.requests) == 1  # retries belong to the caller's schedule


def test_a_rate_limited_call_succeeds_when_the_caller_retries(
    openai_server: OpenAICompatibleServer,
) -> None:
    request = _request(openai_server, "fail-429-2")

    for _ in range(2):
        with pytest.raises(ModelCallError, match="429"):
            call(request)
    result, _ = call(request)

    assert result.text == f"You said: {PROMPT}"


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("This model's maximum context length is 8192 tokens.", "context_window"),
        (
            "Invalid prompt: your prompt was flagged as potentially violating our usage policy.",
            "content_policy",
        ),
    ],
)
def test_refusals_about_the_prompt_get_their_own_codes(
    openai_server: OpenAICompatibleServer, message: str, code: str
) -> None:
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    openai_server.script(400, {"error": error})

    with pytest.raises(ModelCallError) as raised:
        call(_request(openai_server, "echo"))

    assert (raised.value.code, raised.value.retryable) == (code, False)


@pytest.mark.parametrize("stream", [False, True])
def test_a_slow_server_times_out(openai_server: OpenAICompatibleServer, stream: bool) -> None:
    deltas: list[str] = []
    started = time.monotonic()

    with pytest.raises(ModelCallError) as raised:
        call_model(
            _request(openai_server, "slow-3000", stream=stream, timeout_s=0.5),
            on_delta=deltas.append,
            should_stop=lambda: False,
        )

    assert (raised.value.code, raised.value.retryable) == ("timeout", True)
    assert time.monotonic() - started < 0.5 + PROMPTLY_S
    if stream:
        assert 0 < len(deltas) < 7  # the limit covers the stream, not just its start


def test_should_stop_cancels_mid_stream(openai_server: OpenAICompatibleServer) -> None:
    deltas: list[str] = []
    stop = StopSwitch()

    def on_delta(text: str) -> None:
        deltas.append(text)
        stop.set()

    with pytest.raises(ModelCallError) as raised:
        call_model(_request(openai_server, "slow-2000"), on_delta=on_delta, should_stop=stop)

    assert (raised.value.code, raised.value.retryable) == ("cancelled", False)
    assert deltas == ["You"]
    assert stop.set_at is not None
    assert time.monotonic() - stop.set_at < PROMPTLY_S


def test_should_stop_cancels_while_waiting_for_the_first_token(
    openai_server: OpenAICompatibleServer,
) -> None:
    stop = StopSwitch().set_after(0.1)

    with pytest.raises(ModelCallError, match="cancelled"):
        call(_request(openai_server, "slow-3000", stream=False), should_stop=stop)

    assert stop.set_at is not None
    assert time.monotonic() - stop.set_at < PROMPTLY_S


def test_an_unreachable_server_is_a_retryable_connection_error(litellm: Any) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = make_request("openai/echo", api_base=f"http://127.0.0.1:{port}/v1", api_key="k")

    with pytest.raises(ModelCallError) as raised:
        call(request)

    assert (raised.value.code, raised.value.retryable) == ("connection", True)


def test_a_model_no_provider_serves_is_unknown(litellm: Any) -> None:
    with pytest.raises(ModelCallError) as raised:
        call(make_request("no-such-model-anywhere"))

    assert (raised.value.code, raised.value.retryable) == ("unknown_model", False)
