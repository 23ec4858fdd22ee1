"""``mock/tools``: the offline model that calls tools (SPEC §11).

It plans its calls from the conversation's first user message: every line
``call <tool>(<json arguments>)`` naming an offered tool is one call, in order.
A prompt that names no tool calls each offered tool once, with arguments made
from the prompt (every required string parameter gets the prompt). It asks for
one call per turn, so each turn is one durable step for the agent loop, and
once every planned call has a result it answers with text that quotes them.

Its answer has the shape of an OpenAI (and litellm) chat message, so the agent
loop reads it exactly as it reads a provider's (``tool_calls.parse_message``).
The local OpenAI-compatible test server plans its calls with ``planned_calls``
too, so a test can script the same conversation against either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workers.engine.estimate import estimate_tokens
from workers.llm.types import Usage

# `call search({"q": "looms"})`: the tool's name, then its arguments as one JSON object.
_CALL_LINE = re.compile(r"^\s*call\s+([A-Za-z0-9_-]{1,64})\s*\((.*)\)\s*$", re.MULTILINE)
# How much of the prompt becomes an argument, and of a result the final answer quotes.
PROMPT_ARGUMENT_CHARS = 200
RESULT_PREVIEW_CHARS = 500


@dataclass(frozen=True)
class PlannedCall:
    name: str
    arguments: dict[str, Any]


def planned_calls(prompt: str, tools: Sequence[Mapping[str, Any]]) -> list[PlannedCall]:
    """The calls the prompt asks for, among the offered ``tools`` (OpenAI function specs)."""
    offered = {name: spec for spec in tools if (name := function_name(spec))}
    named = [
        PlannedCall(match[1], _arguments(match[2]))
        for match in _CALL_LINE.finditer(prompt)
        if match[1] in offered
    ]
    if named or _CALL_LINE.search(prompt):
        return named
    return [PlannedCall(name, _from_prompt(spec, prompt)) for name, spec in offered.items()]


def function_name(spec: Mapping[str, Any]) -> str | None:
    function = spec.get("function")
    name = function.get("name") if isinstance(function, Mapping) else None
    return name if isinstance(name, str) else None


def mock_tools_message(
    messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], Usage]:
    """The assistant's next message (a tool call or the answer) and its usage."""
    plan = planned_calls(first_user_text(messages), tools)
    made = sum(len(message.get("tool_calls") or ()) for message in messages)
    message: dict[str, Any]
    if made < len(plan):
        call = plan[made]
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{made + 1}",
                    "type": "function",
                    "function": {
                        "name": call.name,
                        "arguments": json.dumps(call.arguments, ensure_ascii=False),
                    },
                }
            ],
        }
    else:
        message = {"role": "assistant", "content": answer_with_results(messages)}
    completion = message["content"] or json.dumps(message["tool_calls"])
    prompt = json.dumps(list(messages), ensure_ascii=False) + json.dumps(list(tools))
    return message, Usage(estimate_tokens(prompt), estimate_tokens(completion))


def answer_with_results(messages: Sequence[Mapping[str, Any]]) -> str:
    """The final answer: each tool result, by the name of the call it answers."""
    names = {
        call.get("id"): (call.get("function") or {}).get("name")
        for message in messages
        for call in message.get("tool_calls") or ()
        if isinstance(call, Mapping)
    }
    results = [
        f"- {names.get(message.get('tool_call_id')) or 'tool'}: "
        f"{content_text(message.get('content'))[:RESULT_PREVIEW_CHARS]}"
        for message in messages
        if message.get("role") == "tool"
    ]
    if not results:
        return f"No tool was called. Echo: {first_user_text(messages)[:PROMPT_ARGUMENT_CHARS]}"
    return "Tool results:\n" + "\n".join(results)


def first_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in messages:
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def content_text(content: Any) -> str:
    """Message content is a string or a list of typed parts; keep the text parts."""
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return "" if content is None else str(content)


def _arguments(text: str) -> dict[str, Any]:
    """The JSON object of a call line; anything else is sent as ``{"input": text}``."""
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        return {"input": text.strip()}
    return value if isinstance(value, dict) else {"input": value}


def _from_prompt(spec: Mapping[str, Any], prompt: str) -> dict[str, Any]:
    function = spec.get("function")
    parameters = function.get("parameters") if isinstance(function, Mapping) else None
    if not isinstance(parameters, Mapping):
        return {}
    properties = parameters.get("properties")
    required = parameters.get("required")
    if not isinstance(properties, Mapping) or not isinstance(required, list):
        return {}
    text = prompt[:PROMPT_ARGUMENT_CHARS]
    return {
        name: text
        for name in required
        if isinstance(name, str)
        and isinstance(properties.get(name), Mapping)
        and properties[name].get("type") == "string"
    }
