"""An agent's tools (SPEC §11): what its config may offer the model, and their bounds.

An agent's config may carry ``"tools": [...]`` and ``"max_tool_calls"``:

* ``{"kind": "http", "name", "description", "parameters", "request"}``: the
  request is an http node's config (workers/engine/http_request.py), its
  templates evaluated over ``{"args": <the model's arguments>}``;
* ``{"kind": "workflow", "name", "description", "workflow", "parameters"}``:
  a child run of another workflow of the workspace;
* ``{"kind": "mcp", "url", "credential"?, "tools": ["name", ...] | "*",
  "name"?}``: the tools a remote MCP server lists (streamable HTTP), all of
  them or those named; ``name`` only labels the server in the canvas.

``parameters`` is the JSON Schema of the arguments (an object schema; absent:
no arguments). The model sees http and workflow tools by their ``name`` and MCP
tools by the names their server gives them; every name it sees must be unique
and a valid function name for every provider (``TOOL_NAME``).

Validation lives in ``validation/tools.py``; this module is what the agent
loop reads once a document is valid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

ToolKind = Literal["http", "workflow", "mcp"]
TOOL_KINDS: tuple[ToolKind, ...] = ("http", "workflow", "mcp")

# OpenAI's rule for function names, the strictest of the providers litellm serves.
TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
ALL_TOOLS = "*"

# The loop's default and upper bound of tool calls per agent run, and how much
# one agent may offer: every tool's schema is sent with every model turn.
DEFAULT_MAX_TOOL_CALLS = 10
MAX_TOOL_CALLS = 100
MAX_TOOLS = 32
MAX_MCP_TOOL_NAMES = 128
MAX_DESCRIPTION_CHARS = 4000
MAX_PARAMETERS_BYTES = 64 * 1024
MAX_SCHEMA_DEPTH = 32

_NO_PARAMETERS: Mapping[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class HttpTool:
    name: str
    description: str
    parameters: Mapping[str, Any]
    request: Mapping[str, Any]
    kind: Literal["http"] = "http"


@dataclass(frozen=True)
class WorkflowTool:
    name: str
    description: str
    parameters: Mapping[str, Any]
    workflow: str
    kind: Literal["workflow"] = "workflow"


@dataclass(frozen=True)
class McpServer:
    url: str
    credential: str | None
    names: tuple[str, ...] | None  # None: every tool the server lists
    label: str | None = None
    kind: Literal["mcp"] = "mcp"

    def offers(self, tool_name: str) -> bool:
        return self.names is None or tool_name in self.names


Tool = HttpTool | WorkflowTool | McpServer


@dataclass(frozen=True)
class AgentTools:
    tools: tuple[Tool, ...] = ()
    max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS
    mcp_servers: tuple[McpServer, ...] = field(init=False)

    def __post_init__(self) -> None:
        servers = tuple(tool for tool in self.tools if isinstance(tool, McpServer))
        object.__setattr__(self, "mcp_servers", servers)


def agent_tools(config: Mapping[str, Any]) -> AgentTools:
    """The tools of a valid agent config (``validation/tools.py`` has vouched for it)."""
    raw = config.get("tools") or ()
    limit = config.get("max_tool_calls")
    return AgentTools(
        tools=tuple(_tool(entry) for entry in raw),
        max_tool_calls=DEFAULT_MAX_TOOL_CALLS if limit is None else int(limit),
    )


def function_spec(
    name: str, description: str, parameters: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A tool as litellm offers it to the model (OpenAI's function format)."""
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": dict(parameters or _NO_PARAMETERS),
        },
    }


def function_specs(tools: AgentTools) -> list[dict[str, Any]]:
    """The http and workflow tools' specs; an MCP server's come from its listing."""
    return [
        function_spec(tool.name, tool.description, tool.parameters)
        for tool in tools.tools
        if not isinstance(tool, McpServer)
    ]


def mcp_function_specs(
    server: McpServer, listed: Sequence[tuple[str, str, Mapping[str, Any]]], taken: set[str]
) -> list[dict[str, Any]]:
    """The specs of the tools a server listed, as (name, description, input schema).

    A server is not the document: what it lists was never validated, so only
    the tools the config offers, with a valid name not ``taken`` by another tool
    of the agent (``taken`` grows), a bounded schema of an object, are offered;
    a long description is cut. At most ``MAX_TOOLS`` per server.
    """
    specs: list[dict[str, Any]] = []
    for name, description, schema in listed:
        if len(specs) >= MAX_TOOLS:
            break
        if not server.offers(name) or not TOOL_NAME.fullmatch(name) or name in taken:
            continue
        if not _bounded_object_schema(schema):
            continue
        taken.add(name)
        specs.append(function_spec(name, description[:MAX_DESCRIPTION_CHARS], schema))
    return specs


def _bounded_object_schema(schema: Mapping[str, Any]) -> bool:
    if schema.get("type", "object") != "object" or schema_depth(schema) > MAX_SCHEMA_DEPTH:
        return False
    try:
        size = len(json.dumps(schema, allow_nan=False).encode())
    except (TypeError, ValueError):
        return False
    return size <= MAX_PARAMETERS_BYTES


def schema_depth(value: object, limit: int = MAX_SCHEMA_DEPTH) -> int:
    """How deeply ``value`` nests, counted without recursion and stopping past ``limit``."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, dict | list):
            continue
        deepest = max(deepest, depth)
        if depth > limit:
            return depth
        children: Sequence[object] = list(item.values()) if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)
    return deepest


def _tool(entry: Mapping[str, Any]) -> Tool:
    kind = entry["kind"]
    if kind == "mcp":
        names = entry.get("tools", ALL_TOOLS)
        return McpServer(
            url=entry["url"],
            credential=entry.get("credential") or None,
            names=None if names == ALL_TOOLS else tuple(names),
            label=entry.get("name") or None,
        )
    description = entry.get("description") or ""
    parameters = entry.get("parameters") or _NO_PARAMETERS
    if kind == "http":
        return HttpTool(entry["name"], description, parameters, entry["request"])
    return WorkflowTool(entry["name"], description, parameters, entry["workflow"])
