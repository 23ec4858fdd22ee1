"""Agents with tools, for the tool loop's tests: documents and a model server that pauses."""

from __future__ import annotations

import threading
from typing import Any

from tests.support.documents import agent
from tests.support.openai_server import OpenAICompatibleServer, _Reply
from tests.tools.helpers import pipeline
from workers.llm.mock_tools import mock_tools_message


def http_tool(name: str, url: str, **request: Any) -> dict[str, Any]:
    request.setdefault("method", "GET")
    request.setdefault("retry", {"max_attempts": 1})
    return {
        "kind": "http",
        "name": name,
        "description": f"The {name} tool",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
        "request": {"url": url, **request},
    }


def tool_agent(prompt: str, tools: list[dict[str, Any]], **config: Any) -> dict[str, Any]:
    """input → an agent offered ``tools`` (``mock/tools`` by default) → output."""
    config.setdefault("model", "mock/tools")
    return pipeline(agent("agent", prompt=prompt, tools=tools, **config))


class SteppingModelServer(OpenAICompatibleServer):
    """An OpenAI-compatible model that asks for one tool call per turn, as ``mock/tools`` does.

    The turn that follows ``hold_after`` tool results waits until ``released``
    is set (``waiting`` tells the test it is there): a worker killed then dies
    between two tool calls.
    """

    def __init__(self, hold_after: int) -> None:
        super().__init__()
        self.hold_after = hold_after
        self.waiting = threading.Event()
        self.released = threading.Event()

    def _reply_for(self, body: dict[str, Any]) -> _Reply:
        messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
        results = sum(1 for m in messages if m.get("role") == "tool")
        if results == self.hold_after and not self.released.is_set():
            self.waiting.set()
            self.released.wait(30)
        message, _ = mock_tools_message(messages, body.get("tools") or [])
        if message.get("tool_calls"):
            return _Reply(status=200, tool_calls=message["tool_calls"])
        return _Reply(status=200, text=str(message["content"]))
