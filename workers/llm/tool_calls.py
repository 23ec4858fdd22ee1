"""One model turn with tools: the unit the agent loop persists (SPEC §11).

The loop keeps the conversation as OpenAI-style chat messages (what litellm
takes for every provider): ``opening_messages`` starts it from the node's
prompts, each ``ToolTurn.message`` is appended as the model gave it, and each
tool's result is appended with ``tool_result_message``. ``call_with_tools``
sends the conversation with the offered tools (OpenAI function specs) and
returns either the answer's text or the calls the model asks for.

``mock/tools`` answers offline (workers/llm/mock_tools.py); any other model
goes through litellm with the request's own key and base, as ``call_model``
does. Whether a model can be offered tools at all is ``catalog.supports_tools``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workers.llm.guard import CallGuard
from workers.llm.mock import MOCK_TOOLS_MODEL, is_mock_model, mock_cost_usd
from workers.llm.mock_tools import mock_tools_message
from workers.llm.provider import litellm_cost_usd, load_litellm, run_litellm_tool_turn
from workers.llm.types import ModelCallError, ModelRequest, Usage


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    # The model's arguments as it wrote them; ``arguments`` is None unless they are
    # a JSON object (a tool then answers the model with an error, not the node).
    raw_arguments: str
    arguments: dict[str, Any] | None


@dataclass(frozen=True)
class ToolTurn:
    text: str
    tool_calls: tuple[ToolCall, ...]
    message: dict[str, Any]  # the assistant message, to append to the conversation
    model: str
    usage: Usage
    cost_usd: float


def opening_messages(request: ModelRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": request.user_prompt}]
    if request.system_prompt:
        messages.insert(0, {"role": "system", "content": request.system_prompt})
    return messages


def tool_result_message(call: ToolCall, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call.id, "content": content}


def call_with_tools(
    request: ModelRequest,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]],
    *,
    should_stop: Callable[[], bool],
) -> ToolTurn:
    """Send the conversation so far; the model answers or asks for tool calls."""
    simulated = is_mock_model(request.model)
    if simulated and request.model != MOCK_TOOLS_MODEL:
        raise ModelCallError(
            "bad_request", f"{request.model} cannot call tools; {MOCK_TOOLS_MODEL} can"
        )
    guard = CallGuard(request.timeout_s, should_stop)
    if simulated:
        guard.check()
        message, usage = mock_tools_message(messages, tools)
        cost = mock_cost_usd(usage)
    else:
        load_litellm()  # the one-time import must not eat into the turn's time limit
        message, usage = run_litellm_tool_turn(request, messages, tools, guard)
        cost = litellm_cost_usd(request.model, usage)
    return parse_message(message, request.model, usage, cost)


def parse_message(message: Mapping[str, Any], model: str, usage: Usage, cost: float) -> ToolTurn:
    """Read an assistant message, mock or provider, into a ``ToolTurn``."""
    calls = tuple(
        _tool_call(raw, index) for index, raw in enumerate(message.get("tool_calls") or ())
    )
    kept: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
    if calls:
        kept["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.raw_arguments},
            }
            for call in calls
        ]
    return ToolTurn(
        text=str(message.get("content") or ""),
        tool_calls=calls,
        message=kept,
        model=model,
        usage=usage,
        cost_usd=cost,
    )


def _tool_call(raw: Any, index: int) -> ToolCall:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("function"), Mapping):
        raise ModelCallError("model_error", "the model asked for a tool call of an unknown shape")
    function = raw["function"]
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise ModelCallError("model_error", "the model asked for a tool call without a name")
    raw_arguments = function.get("arguments")
    text = raw_arguments if isinstance(raw_arguments, str) else json.dumps(raw_arguments or {})
    try:
        parsed = json.loads(text) if text.strip() else {}
    except ValueError:
        parsed = None
    call_id = raw.get("id")
    return ToolCall(
        id=call_id if isinstance(call_id, str) and call_id else f"call_{index + 1}",
        name=name,
        raw_arguments=text,
        arguments=parsed if isinstance(parsed, dict) else None,
    )
