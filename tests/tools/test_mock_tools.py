"""Model turns with tools: ``mock/tools`` offline, and litellm against the local server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.llm.helpers import make_request
from tests.support.openai_server import OpenAICompatibleServer
from workers.llm.calls import call_model
from workers.llm.catalog import model_catalog, supports_tools
from workers.llm.provider import load_litellm
from workers.llm.tool_calls import (
    ToolTurn,
    call_with_tools,
    opening_messages,
    tool_result_message,
)
from workers.llm.types import ModelCallError, ModelRequest

SELF_HOSTED = {"AGENTLOOM_OPENAI_API_BASE": "http://127.0.0.1:1/v1"}


def _tool(name: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"the {name} tool",
            "parameters": {
                "type": "object",
                "properties": {key: {"type": "string"} for key in required},
                "required": list(required),
            },
        },
    }


TOOLS = [_tool("search", ("query",)), _tool("add")]


def _converse(
    request: ModelRequest, tools: list[dict[str, Any]], answer: Any, turns: int = 10
) -> tuple[list[ToolTurn], list[dict[str, Any]]]:
    """The agent loop in miniature: answer each call with ``answer(call)`` until text."""
    messages = opening_messages(request)
    seen: list[ToolTurn] = []
    for _ in range(turns):
        turn = call_with_tools(request, messages, tools, should_stop=lambda: False)
        seen.append(turn)
        messages.append(turn.message)
        if not turn.tool_calls:
            return seen, messages
        messages += [tool_result_message(call, answer(call)) for call in turn.tool_calls]
    raise AssertionError("the model never answered")


def test_mock_tools_calls_the_tools_its_prompt_names_one_per_turn_then_answers() -> None:
    prompt = 'Please\ncall add({"a": 2, "b": 3})\ncall search({"query": "looms"})\ncall nope({})'
    request = make_request("mock/tools", user_prompt=prompt)

    turns, _ = _converse(request, TOOLS, lambda call: f"{call.name} gave {call.arguments}")

    assert [[(c.name, c.arguments) for c in t.tool_calls] for t in turns] == [
        [("add", {"a": 2, "b": 3})],
        [("search", {"query": "looms"})],
        [],  # nope is not offered: never called
    ]
    assert turns[-1].text == (
        "Tool results:\n- add: add gave {'a': 2, 'b': 3}\n- search: search gave {'query': 'looms'}"
    )
    assert all(t.usage.prompt_tokens > 0 and t.usage.completion_tokens > 0 for t in turns)
    assert all(t.cost_usd > 0 and t.model == "mock/tools" for t in turns)
    # The message kept for the conversation is OpenAI's shape, arguments as JSON text.
    call = turns[0].message["tool_calls"][0]
    assert call["type"] == "function"
    assert json.loads(call["function"]["arguments"]) == {
        "a": 2,
        "b": 3,
    }


def test_mock_tools_without_named_calls_calls_each_offered_tool_with_the_prompt() -> None:
    request = make_request("mock/tools", user_prompt="history of looms")

    turns, _ = _converse(request, TOOLS, lambda call: "ok")

    assert [(c.name, c.arguments) for t in turns for c in t.tool_calls] == [
        ("search", {"query": "history of looms"}),
        ("add", {}),
    ]


def test_mock_tools_is_deterministic_and_answers_plainly_without_tools() -> None:
    request = make_request("mock/tools", user_prompt="call add({})")
    first = call_with_tools(request, opening_messages(request), TOOLS, should_stop=lambda: False)
    again = call_with_tools(request, opening_messages(request), TOOLS, should_stop=lambda: False)
    assert first == again

    plain = call_model(make_request("mock/tools"), on_delta=lambda _: None, should_stop=lambda: 0)
    assert plain.text.startswith("Echo: ")


def test_arguments_that_are_not_an_object_reach_the_loop_as_none() -> None:
    request = make_request("mock/tools", user_prompt="call add(not json)\ncall add([1])")
    turns, _ = _converse(request, TOOLS, lambda call: "ok")
    calls = [c for t in turns for c in t.tool_calls]
    # Not JSON: sent as {"input": ...}, as a model filling a one-field tool would.
    assert [c.arguments for c in calls] == [{"input": "not json"}, {"input": [1]}]


def test_other_mocks_cannot_call_tools() -> None:
    request = make_request("mock/echo")
    with pytest.raises(ModelCallError) as caught:
        call_with_tools(request, opening_messages(request), TOOLS, should_stop=lambda: False)
    assert caught.value.code == "bad_request"
    assert not caught.value.retryable


def test_a_stopped_turn_is_cancelled() -> None:
    request = make_request("mock/tools")
    with pytest.raises(ModelCallError) as caught:
        call_with_tools(request, opening_messages(request), TOOLS, should_stop=lambda: True)
    assert caught.value.code == "cancelled"


def test_which_models_support_tools() -> None:
    assert supports_tools("mock/tools", {})
    assert not any(supports_tools(m, {}) for m in ("mock/echo", "mock/json", "mock/slow"))
    assert supports_tools("openai/gpt-4o-mini", {})
    assert supports_tools("anthropic/claude-sonnet-4-5", {})
    assert not supports_tools("openai/some-local-model", {})  # unknown without a base
    assert supports_tools("openai/some-local-model", SELF_HOSTED)  # the test server's kind
    assert "mock/tools" in {info.id for info in model_catalog({})}


def test_supports_tools_agrees_with_litellm_for_listed_models() -> None:
    litellm = load_litellm()
    for model in ("openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash"):
        assert supports_tools(model, {}) == litellm.supports_function_calling(model=model)


# The real path: litellm → HTTP → the local OpenAI-compatible server.


@pytest.fixture(scope="module")
def openai_server() -> Iterator[OpenAICompatibleServer]:
    with OpenAICompatibleServer(api_keys=["test-key"]) as server:
        yield server


def _served(server: OpenAICompatibleServer, prompt: str) -> ModelRequest:
    return make_request(
        "openai/echo", user_prompt=prompt, api_base=server.base_url, api_key="test-key"
    )


def test_the_test_server_asks_for_tool_calls_then_answers_through_litellm(
    openai_server: OpenAICompatibleServer,
) -> None:
    openai_server.reset()
    request = _served(openai_server, 'call add({"a": 1})\ncall search({"query": "q"})')

    turns, messages = _converse(request, TOOLS, lambda call: f"result of {call.name}")

    first, final = turns
    assert [(c.name, c.arguments) for c in first.tool_calls] == [
        ("add", {"a": 1}),
        ("search", {"query": "q"}),
    ]
    assert final.tool_calls == ()
    assert final.text == "Tool results:\n- add: result of add\n- search: result of search"
    sent = [r.body for r in openai_server.requests]
    assert len(sent) == 2
    assert all(body["tools"] == TOOLS for body in sent)
    assert not sent[0].get("stream")
    # The second request carries the whole conversation: the calls and both results.
    assert [m["role"] for m in sent[1]["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
    ]
    assert sent[1]["messages"][3] == messages[3]
    assert openai_server.requests[0].headers["authorization"] == "Bearer test-key"
    assert first.usage.prompt_tokens == 5 + 6  # words as the server counts them
    assert final.usage.completion_tokens == len(final.text.split())


def test_a_refused_key_is_scrubbed_from_the_turns_error(
    openai_server: OpenAICompatibleServer,
) -> None:
    request = make_request(
        "openai/echo", api_base=openai_server.base_url, api_key="sk-wrong-secret-key-1234"
    )
    with pytest.raises(ModelCallError) as caught:
        call_with_tools(request, opening_messages(request), TOOLS, should_stop=lambda: False)
    assert caught.value.code == "auth"
    assert "sk-wrong-secret-key-1234" not in caught.value.message
    assert "1234" not in caught.value.message


def test_the_test_server_streams_tool_calls_too(openai_server: OpenAICompatibleServer) -> None:
    """A client that streams (not the agent loop) still gets the calls, whole."""
    litellm = load_litellm()
    response = litellm.completion(
        model="openai/echo",
        api_base=openai_server.base_url,
        api_key="test-key",
        messages=[{"role": "user", "content": 'call add({"a": 1})'}],
        tools=TOOLS,
        stream=True,
    )
    chunks = list(response)
    calls = [c for chunk in chunks for c in (chunk.choices[0].delta.tool_calls or [])]
    assert [(c.function.name, c.function.arguments) for c in calls] == [("add", '{"a": 1}')]
