"""The workflow document (docs/workflow-document.md): node types, presets, a typed graph.

`Graph` is built once from a document that passed validation without
structural problems, then answers the questions the scheduler, the prompt
builder and the hashing ask, in O(1) or O(degree) each.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from workers.engine.budget import Budget
from workers.engine.retry import RetryPolicy

AgentType = Literal["researcher", "coder", "reviewer", "coordinator"]
ControlType = Literal["input", "transformer", "output"]
ToolType = Literal["http"]
# Control flow (SPEC §12): nodes that wait, holding no worker, for a person or for child runs.
FlowType = Literal["approval", "workflow", "map"]
NodeType = AgentType | ControlType | ToolType | FlowType
ErrorPolicy = Literal["stop", "continue", "fallback"]
ResponseFormat = Literal["text", "json"]
JsonKind = Literal["string", "number", "integer", "boolean", "object", "any"]

AGENT_TYPES: tuple[AgentType, ...] = ("researcher", "coder", "reviewer", "coordinator")
CONTROL_TYPES: tuple[ControlType, ...] = ("input", "transformer", "output")
TOOL_TYPES: tuple[ToolType, ...] = ("http",)
FLOW_TYPES: tuple[FlowType, ...] = ("approval", "workflow", "map")
NODE_TYPES: tuple[NodeType, ...] = AGENT_TYPES + CONTROL_TYPES + TOOL_TYPES + FLOW_TYPES
ERROR_POLICIES: tuple[ErrorPolicy, ...] = ("stop", "continue", "fallback")
RESPONSE_FORMATS: tuple[ResponseFormat, ...] = ("text", "json")
INPUT_TYPES = ("string", "number", "boolean", "object", "array")

# Every node but `output` has exactly one source handle; a null source handle
# in the document means this one.
SOURCE_HANDLE = "out"
# Target handles are free names, because they become keys of the input object
# that prompts and expressions read (`{{ research.text }}`).
TARGET_HANDLE_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
# The input object's key for the run inputs; no edge may deliver under it.
RUN_KEY = "run"

# The version of the document format this engine reads and writes.
SCHEMA_VERSION = 1

DEFAULT_MAX_TOKENS = 1024
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_STREAM = True
# What a new workflow starts with: a model that needs no provider, and an hour
# for its runs (the deployment's own cap, AGENTLOOM_MAX_RUN_DURATION_S, is longer).
NEW_DOCUMENT_NAME = "Untitled workflow"
NEW_DOCUMENT_MODEL = "mock/echo"
NEW_DOCUMENT_MAX_DURATION_S = 3600

# The config keys each node type understands, with their JSON type (null is
# always allowed and means "the default"). Other keys are allowed and kept: an
# agent's go to `AgentConfig.extra` for the model adapter (mock models read
# their simulated latency and errors from there).
_ERROR_HANDLING_FIELDS: Mapping[str, JsonKind] = {"on_error": "string", "fallback_output": "any"}
_AGENT_FIELDS: Mapping[str, JsonKind] = {
    "model": "string",
    "temperature": "number",
    "system_prompt": "string",
    "prompt": "string",
    "max_tokens": "integer",
    "timeout_s": "number",
    "stream": "boolean",
    "response_format": "string",
    "retry": "object",
    **_ERROR_HANDLING_FIELDS,
}
CONFIG_FIELDS: Mapping[NodeType, Mapping[str, JsonKind]] = {
    **dict.fromkeys(AGENT_TYPES, _AGENT_FIELDS),
    "transformer": {"expression": "string", **_ERROR_HANDLING_FIELDS},
    "output": {"expression": "string", **_ERROR_HANDLING_FIELDS},
    "input": {},
    "http": {
        "method": "string",
        "url": "string",
        "headers": "object",
        "query": "object",
        "body": "string",
        "credential": "string",
        "timeout_s": "number",
        "retry": "object",
        "response_format": "string",
        "side_effect": "string",
        "idempotency_key": "string",
        "compensation": "object",
        **_ERROR_HANDLING_FIELDS,
    },
    "approval": {
        "message": "string",
        "approvers": "any",
        "timeout_s": "number",
        "on_timeout": "string",
        **_ERROR_HANDLING_FIELDS,
    },
    "workflow": {
        "workflow": "string",
        "version": "integer",
        "inputs": "string",
        "repeat_until": "string",
        "max_iterations": "integer",
        **_ERROR_HANDLING_FIELDS,
    },
    "map": {
        "items": "string",
        "workflow": "string",
        "version": "integer",
        "max_parallel": "integer",
        "on_item_error": "string",
        **_ERROR_HANDLING_FIELDS,
    },
}

COORDINATOR_ANSWER_FORMAT = '{"route": ["<label>", ...], "reason": "<one sentence>"}'


@dataclass(frozen=True)
class AgentPreset:
    """What makes one agent type differ from another: its defaults.

    ``prompt`` is only what a new node of the type starts with on the canvas; at
    run time an absent prompt still means none (the node's input is the prompt).
    """

    temperature: float
    system_prompt: str
    response_format: ResponseFormat = "text"
    prompt: str = ""


AGENT_PRESETS: Mapping[AgentType, AgentPreset] = {
    "researcher": AgentPreset(
        temperature=0.7,
        system_prompt=(
            "You are a thorough researcher. Gather the relevant facts, say where "
            "each comes from, and separate what is known from what is uncertain."
        ),
        prompt="Research {{ $.run.topic }}",
    ),
    "coder": AgentPreset(
        temperature=0.2,
        system_prompt=(
            "You are a careful software engineer. Write correct, readable code "
            "with brief explanations, and state any assumption you make."
        ),
    ),
    "reviewer": AgentPreset(
        temperature=0.3,
        system_prompt=(
            "You are a critical reviewer. Check the work you are given for "
            "errors, gaps and unclear parts, and give specific, actionable feedback."
        ),
    ),
    "coordinator": AgentPreset(
        temperature=0.0,
        system_prompt=(
            "You are a coordinator. Read the inputs and decide which of the next "
            "steps should run. Answer with JSON only, in the form "
            f"{COORDINATOR_ANSWER_FORMAT}, where route lists the labels of the "
            "steps to run (possibly none) and reason explains the choice."
        ),
        response_format="json",
    ),
}


def blank_to_none(value: Any) -> Any:
    """Treat an empty or all-blank string as absent.

    The canvas writes "" when a user clears a handle, label, expression or
    prompt field; that means "none", not "an empty expression".
    """
    if isinstance(value, str) and not value.strip():
        return None
    return value


@dataclass(frozen=True)
class Node:
    id: str
    type: NodeType
    label: str
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_agent(self) -> bool:
        return self.type in AGENT_TYPES

    @property
    def display_name(self) -> str:
        """The label, or the id for an unlabelled node."""
        return self.label or self.id


@dataclass(frozen=True)
class Edge:
    id: str
    source: str
    target: str
    source_handle: str = SOURCE_HANDLE
    target_handle: str | None = None
    transform: str | None = None
    condition: str | None = None
    label: str = ""

    @property
    def input_key(self) -> str:
        """The key the crossing value gets in the target's input object."""
        return self.target_handle or self.source

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Edge:
        return cls(
            id=raw["id"],
            source=raw["source"],
            target=raw["target"],
            source_handle=blank_to_none(raw.get("source_handle")) or SOURCE_HANDLE,
            target_handle=blank_to_none(raw.get("target_handle")),
            transform=blank_to_none(raw.get("transform")),
            condition=blank_to_none(raw.get("condition")),
            label=raw.get("label") or "",
        )


@dataclass(frozen=True)
class Settings:
    default_model: str | None = None
    max_concurrency: int = 8
    error_policy: ErrorPolicy = "stop"
    budget: Budget = field(default_factory=Budget)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> Settings:
        raw = raw or {}
        default = cls()
        return cls(
            default_model=blank_to_none(raw.get("default_model")),
            max_concurrency=raw.get("max_concurrency") or default.max_concurrency,
            error_policy=raw.get("error_policy") or default.error_policy,
            budget=Budget.from_settings(raw),
        )


@dataclass(frozen=True)
class InputSpec:
    """One declared run input."""

    name: str
    type: str
    required: bool = False
    description: str = ""
    default: Any = None


@dataclass(frozen=True)
class AgentConfig:
    """An agent node's configuration with every default resolved."""

    model: str
    temperature: float
    system_prompt: str
    prompt: str | None
    max_tokens: int
    timeout_s: float
    stream: bool
    response_format: ResponseFormat
    retry: RetryPolicy
    on_error: ErrorPolicy
    fallback_output: Any
    extra: Mapping[str, Any]


def new_document(name: str = NEW_DOCUMENT_NAME, description: str = "") -> dict[str, Any]:
    """The document of a new, empty workflow: every setting at its default."""
    defaults = Settings()
    return {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "description": description,
        "settings": {
            "default_model": NEW_DOCUMENT_MODEL,
            "max_concurrency": defaults.max_concurrency,
            "error_policy": defaults.error_policy,
            "budget": {
                "max_total_tokens": defaults.budget.max_total_tokens,
                "max_cost_usd": defaults.budget.max_cost_usd,
                "max_duration_s": NEW_DOCUMENT_MAX_DURATION_S,
            },
        },
        "inputs": {},
        "nodes": [],
        "edges": [],
    }


class Graph:
    """A workflow document's nodes and edges, indexed for the engine.

    Expects a document with no structural problems (see `problems`); semantic
    problems such as cycles are tolerated, so the server can still analyse a
    saved draft.
    """

    def __init__(
        self,
        nodes: Mapping[str, Node],
        edges: Mapping[str, Edge],
        settings: Settings,
        inputs: Mapping[str, InputSpec],
    ) -> None:
        self.nodes: dict[str, Node] = dict(nodes)
        self.edges: dict[str, Edge] = dict(edges)
        self.settings = settings
        self.inputs: dict[str, InputSpec] = dict(inputs)
        outgoing: dict[str, list[Edge]] = {node_id: [] for node_id in self.nodes}
        incoming: dict[str, list[Edge]] = {node_id: [] for node_id in self.nodes}
        for edge in self.edges.values():
            outgoing[edge.source].append(edge)
            incoming[edge.target].append(edge)
        self._outgoing = {node_id: tuple(found) for node_id, found in outgoing.items()}
        self._incoming = {node_id: tuple(found) for node_id, found in incoming.items()}
        self._position = {node_id: index for index, node_id in enumerate(self.nodes)}

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Graph:
        nodes = {}
        for raw in doc["nodes"]:
            data = raw.get("data") or {}
            nodes[raw["id"]] = Node(
                id=raw["id"],
                type=raw["type"],
                label=data.get("label") or "",
                config=data.get("config") or {},
            )
        edges = {raw["id"]: Edge.from_dict(raw) for raw in doc["edges"]}
        inputs = {
            name: InputSpec(
                name=name,
                type=spec["type"],
                required=bool(spec.get("required", False)),
                description=spec.get("description") or "",
                default=spec.get("default"),
            )
            for name, spec in (doc.get("inputs") or {}).items()
        }
        return cls(nodes, edges, Settings.from_dict(doc.get("settings")), inputs)

    def out_edges(self, node_id: str) -> tuple[Edge, ...]:
        """Edges leaving the node, in document order."""
        return self._outgoing[node_id]

    def in_edges(self, node_id: str) -> tuple[Edge, ...]:
        """Edges entering the node, in document order."""
        return self._incoming[node_id]

    def order(self, node_id: str) -> int:
        """The node's place in the document: a stable order for lists of node ids."""
        return self._position[node_id]

    def roots(self) -> tuple[str, ...]:
        """Nodes with no incoming edge, in document order: where a run starts."""
        return tuple(node_id for node_id, found in self._incoming.items() if not found)

    def on_error(self, node_id: str) -> ErrorPolicy:
        """The node's error policy: its own `on_error`, else the workflow's."""
        policy = self.nodes[node_id].config.get("on_error")
        return cast(ErrorPolicy, policy or self.settings.error_policy)

    def fallback_output(self, node_id: str) -> Any:
        """The output a node succeeds with under the `fallback` policy."""
        return self.nodes[node_id].config.get("fallback_output")

    def agent_config(self, node_id: str) -> AgentConfig:
        """Merge the type's preset, the node's config and the workflow settings."""
        node = self.nodes[node_id]
        if not node.is_agent:
            raise ValueError(f"node {node_id!r} is a {node.type}, not an agent")
        preset = AGENT_PRESETS[cast(AgentType, node.type)]
        known_keys = CONFIG_FIELDS[node.type]
        config = node.config
        model = blank_to_none(config.get("model")) or self.settings.default_model
        if model is None:
            raise ValueError(f"node {node_id!r} has no model and the workflow no default_model")

        def given(key: str, default: Any) -> Any:
            value = config.get(key)
            return default if value is None else value

        return AgentConfig(
            model=model,
            temperature=float(given("temperature", preset.temperature)),
            system_prompt=given("system_prompt", preset.system_prompt),
            prompt=blank_to_none(config.get("prompt")),
            max_tokens=int(given("max_tokens", DEFAULT_MAX_TOKENS)),
            timeout_s=float(given("timeout_s", DEFAULT_TIMEOUT_S)),
            stream=bool(given("stream", DEFAULT_STREAM)),
            response_format=given("response_format", preset.response_format),
            retry=RetryPolicy.from_config(config.get("retry")),
            on_error=self.on_error(node_id),
            fallback_output=self.fallback_output(node_id),
            extra={key: value for key, value in config.items() if key not in known_keys},
        )
