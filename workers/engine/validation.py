"""Workflow document validation (SPEC §2), run on save, import and run.

`validate_document` walks an untrusted document once and returns every
problem at once, so the canvas can show them all side by side. It never
raises on bad input, and it is O(V+E): the cycle search runs only on the
nodes a topological sort could not place, and JSONata is compiled only for
expressions that no fast path or cache vouches for (see
`expressions.check_syntax`). The problem codes are listed in `problems`.

A value with the wrong JSON type is reported once, as `invalid_type`, and
then ignored, so the rules about values (ranges, choices) never see it.
"""

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from workers.engine import graph_algorithms
from workers.engine.document import (
    AGENT_TYPES,
    CONFIG_FIELDS,
    ERROR_POLICIES,
    INPUT_TYPES,
    NODE_TYPES,
    RESPONSE_FORMATS,
    RUN_KEY,
    SOURCE_HANDLE,
    TARGET_HANDLE_PATTERN,
    JsonKind,
    NodeType,
    blank_to_none,
)
from workers.engine.expressions import ExpressionError, check_syntax, scan_placeholders
from workers.engine.limits import DEFAULT_LIMITS, Limits
from workers.engine.problems import Problem
from workers.engine.retry import BACKOFF_KINDS

SCHEMA_VERSION = 1


def _every_model_is_known(model: str) -> bool:
    return True


def validate_document(
    document: object,
    *,
    limits: Limits = DEFAULT_LIMITS,
    is_known_model: Callable[[str], bool] = _every_model_is_known,
    document_bytes: int | None = None,
) -> list[Problem]:
    """Every problem in `document`, errors and warnings, in document order.

    `document_bytes` is the size of the document as received; the size limit
    is checked only when it is given, since re-serialising to measure would
    cost more than the rest of the validation.
    """
    if not isinstance(document, dict):
        return [Problem("invalid_document", "the workflow document must be a JSON object")]
    validator = _Validator(limits, is_known_model)
    validator.check_document(document, document_bytes)
    return validator.problems


# JSON types, as Python's json module decodes them.


def _is_number(value: object) -> bool:
    # bool is an int in Python but not a number in JSON; NaN and infinities
    # are not JSON either, although Python's json module accepts them.
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


_KIND_CHECKS: Mapping[JsonKind, Callable[[object], bool]] = {
    "string": lambda value: isinstance(value, str),
    "number": _is_number,
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "any": lambda value: True,
}

_KIND_NAMES: Mapping[JsonKind, str] = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "object": "an object",
    "any": "any value",
}

_DOCUMENT_FIELDS: Mapping[str, JsonKind] = {"name": "string", "description": "string"}
_SETTINGS_FIELDS: Mapping[str, JsonKind] = {
    "default_model": "string",
    "max_concurrency": "integer",
    "error_policy": "string",
    "budget": "object",
}
_BUDGET_FIELDS: Mapping[str, JsonKind] = {
    "max_total_tokens": "integer",
    "max_cost_usd": "number",
    "max_duration_s": "number",
}
_INPUT_FIELDS: Mapping[str, JsonKind] = {
    "type": "string",
    "required": "boolean",
    "description": "string",
    "default": "any",
}
_POSITION_FIELDS: Mapping[str, JsonKind] = {"x": "number", "y": "number"}
_DATA_FIELDS: Mapping[str, JsonKind] = {"label": "string"}
_RETRY_FIELDS: Mapping[str, JsonKind] = {
    "max_attempts": "integer",
    "backoff": "string",
    "initial_delay_ms": "integer",
    "max_delay_ms": "integer",
    "jitter": "boolean",
}
_EDGE_FIELDS: Mapping[str, JsonKind] = {
    "source_handle": "string",
    "target_handle": "string",
    "transform": "string",
    "condition": "string",
    "label": "string",
}


def _or_empty(value: object) -> object:
    return {} if value is None else value


class _Where(NamedTuple):
    """Where a problem is: what the API reports besides code and message.

    A named tuple rather than a dataclass because one is made per node and
    per edge, and that is measurably cheaper.
    """

    field: str  # a JSON path; "" is the document itself
    node_id: str | None = None
    edge_id: str | None = None

    def at(self, key: str) -> "_Where":
        """The member `key` of the object here."""
        if isinstance(key, str) and key.isidentifier():
            field = f"{self.field}.{key}" if self.field else key
        else:
            # Keys that are not identifiers (or, from YAML, not even strings).
            field = f"{self.field}[{json.dumps(str(key), ensure_ascii=False)}]"
        return _Where(field, self.node_id, self.edge_id)


@dataclass
class _NodeFacts:
    """What the edge and graph checks need to know about a node."""

    type: NodeType | None  # None when the type is unknown (already reported)
    connected: bool = False


class _Validator:
    def __init__(self, limits: Limits, is_known_model: Callable[[str], bool]) -> None:
        self.limits = limits
        self.is_known_model = is_known_model
        self.known_models: dict[str, bool] = {}
        self.problems: list[Problem] = []
        # Settings the node rules depend on; valid ones only.
        self.default_model: str | None = None
        self.error_policy = "stop"
        self.nodes: dict[str, _NodeFacts] = {}
        self.edge_ids: set[str] = set()
        self.successors: dict[str, list[str]] = {}

    # Reporting and shared checks

    def error(self, code: str, message: str, where: _Where, position: int | None = None) -> None:
        self.problems.append(
            Problem(
                code=code,
                message=message,
                node_id=where.node_id,
                edge_id=where.edge_id,
                field=where.field or None,
                position=position,
            )
        )

    def warning(
        self, code: str, message: str, node_id: str | None = None, edge_id: str | None = None
    ) -> None:
        self.problems.append(
            Problem(code, message, severity="warning", node_id=node_id, edge_id=edge_id)
        )

    def typed_fields(
        self, values: Mapping[str, Any], kinds: Mapping[str, JsonKind], where: _Where
    ) -> dict[str, Any]:
        """The non-null values of the `kinds` keys that have the right JSON type.

        Reports the others; keys not in `kinds` are allowed and ignored.
        """
        typed = {}
        for key, value in values.items():
            kind = kinds.get(key)
            if kind is None or value is None:
                continue
            if _KIND_CHECKS[kind](value):
                typed[key] = value
            else:
                self.error("invalid_type", f"{key} must be {_KIND_NAMES[kind]}", where.at(key))
        return typed

    def object_at(self, value: object, what: str, where: _Where) -> dict[str, Any] | None:
        """`value` if it is an object; otherwise report it and return None."""
        if isinstance(value, dict):
            return value
        self.error("invalid_type", f"{what} must be an object", where)
        return None

    def identifier(self, raw: Mapping[str, Any], key: str, what: str, where: _Where) -> str | None:
        """A required non-empty string: an id, or an edge's source or target."""
        value = raw.get(key)
        if isinstance(value, str) and value:
            return value
        if value is None:
            self.error("missing_field", f"{what} has no {key}", where.at(key))
        else:
            self.error("invalid_type", f"{what}'s {key} must be a non-empty string", where.at(key))
        return None

    def check_range(
        self,
        typed: Mapping[str, Any],
        key: str,
        where: _Where,
        allowed: Callable[[Any], bool],
        expected: str,
    ) -> None:
        value = typed.get(key)
        if value is not None and not allowed(value):
            self.error("out_of_range", f"{key} must be {expected}, not {value}", where.at(key))

    def check_choice(
        self, typed: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: _Where
    ) -> None:
        value = typed.get(key)
        if value is not None and value not in allowed:
            self.error(
                "invalid_value",
                f"{key} must be one of {', '.join(allowed)}, not {value!r}",
                where.at(key),
            )

    def check_model(self, model: str, where: _Where) -> None:
        known = self.known_models.get(model)
        if known is None:
            known = self.known_models[model] = self.is_known_model(model)
        if not known:
            self.error("unknown_model", f"unknown model {model!r}", where)

    # The document and its settings

    def check_document(self, document: Mapping[str, Any], document_bytes: int | None) -> None:
        limits = self.limits
        root = _Where("")
        if document_bytes is not None and document_bytes > limits.max_document_bytes:
            self.error(
                "document_too_large",
                f"the document is {document_bytes:,} bytes; the limit is "
                f"{limits.max_document_bytes:,}",
                root,
            )
        version = document.get("schema_version")
        if type(version) is not int or version != SCHEMA_VERSION:
            self.error(
                "unsupported_schema_version",
                f"schema_version must be {SCHEMA_VERSION}",
                root.at("schema_version"),
            )
        self.typed_fields(document, _DOCUMENT_FIELDS, root)
        if document.get("settings") is not None:
            self.check_settings(document["settings"], root.at("settings"))
        if document.get("inputs") is not None:
            self.check_inputs(document["inputs"], root.at("inputs"))
        nodes = self.list_at(document, "nodes", limits.max_nodes, "too_many_nodes", root)
        for index, raw in enumerate(nodes):
            self.check_node(raw, _Where(f"nodes[{index}]"))
        edges = self.list_at(document, "edges", limits.max_edges, "too_many_edges", root)
        for index, raw in enumerate(edges):
            self.check_edge(raw, _Where(f"edges[{index}]"))
        self.check_graph()

    def list_at(
        self, document: Mapping[str, Any], key: str, limit: int, too_many: str, root: _Where
    ) -> list[Any]:
        value = document.get(key)
        if value is None:
            self.error("missing_field", f"the document has no {key} list", root.at(key))
            return []
        if not isinstance(value, list):
            self.error("invalid_type", f"{key} must be a list", root.at(key))
            return []
        if len(value) > limit:
            self.error(
                too_many,
                f"the workflow has {len(value):,} {key}; the limit is {limit:,}",
                root.at(key),
            )
        return value

    def check_settings(self, value: object, where: _Where) -> None:
        settings = self.object_at(value, "settings", where)
        if settings is None:
            return
        typed = self.typed_fields(settings, _SETTINGS_FIELDS, where)
        model = blank_to_none(typed.get("default_model"))
        if model is not None:
            self.default_model = model
            self.check_model(model, where.at("default_model"))
        self.check_range(typed, "max_concurrency", where, lambda n: n >= 1, "at least 1")
        self.check_choice(typed, "error_policy", ERROR_POLICIES, where)
        if typed.get("error_policy") in ERROR_POLICIES:
            self.error_policy = typed["error_policy"]
        if "budget" in typed:
            budget_where = where.at("budget")
            budget = self.typed_fields(typed["budget"], _BUDGET_FIELDS, budget_where)
            for key in budget:
                self.check_range(
                    budget, key, budget_where, lambda v: v > 0, "greater than 0 (or null)"
                )

    def check_inputs(self, value: object, where: _Where) -> None:
        inputs = self.object_at(value, "inputs", where)
        for name, raw in (inputs or {}).items():
            input_where = where.at(name)
            declaration = self.object_at(raw, f"input {name!r}", input_where)
            if declaration is None:
                continue
            typed = self.typed_fields(declaration, _INPUT_FIELDS, input_where)
            if declaration.get("type") is None:
                self.error(
                    "missing_required",
                    f"input {name!r} needs a type: one of {', '.join(INPUT_TYPES)}",
                    input_where.at("type"),
                )
            self.check_choice(typed, "type", INPUT_TYPES, input_where)

    # Nodes

    def check_node(self, raw: object, where: _Where) -> None:
        node = self.object_at(raw, "a node", where)
        if node is None:
            return
        node_id = self.identifier(node, "id", "a node", where)
        where = _Where(where.field, node_id)
        if node_id is not None and node_id in self.nodes:
            self.error(
                "duplicate_node_id", f"another node already has the id {node_id!r}", where.at("id")
            )
        node_type = self.check_node_type(node.get("type"), where)
        if node_id is not None and node_id not in self.nodes:
            self.nodes[node_id] = _NodeFacts(node_type)
        if node.get("position") is not None:
            position_where = where.at("position")
            position = self.object_at(node["position"], "position", position_where)
            if position is not None:
                self.typed_fields(position, _POSITION_FIELDS, position_where)
        # Absent data or config is empty, and still has to satisfy the rules.
        data_where = where.at("data")
        data = self.object_at(_or_empty(node.get("data")), "data", data_where)
        if data is None:
            return
        self.typed_fields(data, _DATA_FIELDS, data_where)
        config_where = data_where.at("config")
        config = self.object_at(_or_empty(data.get("config")), "config", config_where)
        if config is not None and node_type is not None:
            self.check_config(node_type, config, config_where)

    def check_node_type(self, value: object, where: _Where) -> NodeType | None:
        if isinstance(value, str) and value in NODE_TYPES:
            return value
        if value is None:
            self.error("missing_field", "the node has no type", where.at("type"))
        elif not isinstance(value, str):
            self.error("invalid_type", "type must be a string", where.at("type"))
        else:
            self.error(
                "unknown_node_type",
                f"unknown node type {value!r}; the types are {', '.join(NODE_TYPES)}",
                where.at("type"),
            )
        return None

    def check_config(self, node_type: NodeType, config: Mapping[str, Any], where: _Where) -> None:
        typed = self.typed_fields(config, CONFIG_FIELDS[node_type], where)
        if node_type in AGENT_TYPES:
            self.check_agent(config, typed, where)
        elif node_type == "transformer":
            # Absent, null and blank all mean "no expression"; a non-string
            # was reported by typed_fields.
            if blank_to_none(config.get("expression")) is None:
                self.error(
                    "missing_required", "a transformer needs an expression", where.at("expression")
                )
            elif "expression" in typed:
                self.check_expression(typed["expression"], "expression", where)
        elif node_type == "output" and blank_to_none(typed.get("expression")) is not None:
            self.check_expression(typed["expression"], "expression", where)
        if node_type != "input":
            # An output node without an expression only collects; it cannot fail.
            can_fail = node_type != "output" or blank_to_none(typed.get("expression")) is not None
            self.check_error_handling(config, typed, can_fail, where)

    def check_agent(
        self, config: Mapping[str, Any], typed: Mapping[str, Any], where: _Where
    ) -> None:
        model = blank_to_none(typed.get("model"))
        if model is not None:
            self.check_model(model, where.at("model"))
        elif blank_to_none(config.get("model")) is None and self.default_model is None:
            self.error(
                "missing_required",
                "the agent has no model, and the workflow has no default_model",
                where.at("model"),
            )
        self.check_range(typed, "temperature", where, lambda t: 0 <= t <= 2, "between 0 and 2")
        self.check_range(typed, "max_tokens", where, lambda n: n > 0, "greater than 0")
        self.check_range(typed, "timeout_s", where, lambda s: s > 0, "greater than 0")
        self.check_choice(typed, "response_format", RESPONSE_FORMATS, where)
        if "retry" in typed:
            self.check_retry(typed["retry"], where.at("retry"))
        for key in ("system_prompt", "prompt"):
            if key in typed:
                self.check_template(typed[key], key, where)

    def check_retry(self, retry: Mapping[str, Any], where: _Where) -> None:
        typed = self.typed_fields(retry, _RETRY_FIELDS, where)
        self.check_range(typed, "max_attempts", where, lambda n: n >= 1, "at least 1")
        self.check_choice(typed, "backoff", BACKOFF_KINDS, where)
        self.check_range(typed, "initial_delay_ms", where, lambda ms: ms >= 0, "0 or more")
        self.check_range(typed, "max_delay_ms", where, lambda ms: ms >= 0, "0 or more")

    def check_error_handling(
        self, config: Mapping[str, Any], typed: Mapping[str, Any], can_fail: bool, where: _Where
    ) -> None:
        self.check_choice(typed, "on_error", ERROR_POLICIES, where)
        policy = typed.get("on_error") or self.error_policy
        if can_fail and policy == "fallback" and "fallback_output" not in config:
            self.error(
                "missing_required",
                "the error policy is fallback, so the node needs a fallback_output",
                where.at("fallback_output"),
            )

    # Expressions

    def check_expression(self, text: str, key: str, where: _Where) -> None:
        error = check_syntax(text, limits=self.limits)
        if error is not None:
            self.expression_problem(error, key, where.at(key))

    def check_template(self, template: str, key: str, where: _Where) -> None:
        where = where.at(key)
        if len(template) > self.limits.max_prompt_chars:
            self.error(
                "prompt_too_long",
                f"{key} is {len(template):,} characters long; the limit is "
                f"{self.limits.max_prompt_chars:,}",
                where,
            )
            return
        found, unclosed = scan_placeholders(template)
        for text, offset in found:
            error = check_syntax(text, limits=self.limits)
            if error is not None:
                self.expression_problem(error.shifted(offset), f"a placeholder in {key}", where)
        if unclosed is not None:
            self.expression_problem(unclosed, key, where)

    def expression_problem(self, error: ExpressionError, what: str, where: _Where) -> None:
        self.error(error.code, f"{what}: {error.message}", where, error.position)

    # Edges

    def check_edge(self, raw: object, where: _Where) -> None:
        edge = self.object_at(raw, "an edge", where)
        if edge is None:
            return
        edge_id = self.identifier(edge, "id", "an edge", where)
        where = _Where(where.field, edge_id=edge_id)
        if edge_id is not None:
            if edge_id in self.edge_ids:
                self.error(
                    "duplicate_edge_id",
                    f"another edge already has the id {edge_id!r}",
                    where.at("id"),
                )
            self.edge_ids.add(edge_id)
        source = self.endpoint(edge, "source", where)
        target = self.endpoint(edge, "target", where)
        typed = self.typed_fields(edge, _EDGE_FIELDS, where)
        if source is not None:
            self.check_source_handle(source, blank_to_none(typed.get("source_handle")), where)
        if target is not None:
            handle = blank_to_none(typed.get("target_handle"))
            self.check_target_handle(target, source, handle, where)
        for key in ("transform", "condition"):
            if blank_to_none(typed.get(key)) is not None:
                self.check_expression(typed[key], key, where)
        if source is not None:
            self.nodes[source].connected = True
            if self.nodes[source].type == "coordinator" and not blank_to_none(typed.get("label")):
                self.warning(
                    "unlabeled_route",
                    f"edge {edge_id!r} leaves coordinator {source!r} without a label, "
                    "so the coordinator can never route to it",
                    source,
                    edge_id,
                )
        if target is not None:
            self.nodes[target].connected = True
            if source is not None:
                self.successors.setdefault(source, []).append(target)

    def endpoint(self, edge: Mapping[str, Any], key: str, where: _Where) -> str | None:
        """The edge's source or target, if it names a node."""
        node_id = self.identifier(edge, key, "an edge", where)
        if node_id is not None and node_id not in self.nodes:
            self.error(
                "unknown_node",
                f"the edge's {key} {node_id!r} is not a node of this workflow",
                where.at(key),
            )
            return None
        return node_id

    def check_source_handle(self, source: str, handle: str | None, where: _Where) -> None:
        if self.nodes[source].type == "output":
            message = f"output node {source!r} has no outgoing edges"
        elif handle not in (None, SOURCE_HANDLE):
            message = f"node {source!r} has no source handle {handle!r}, only {SOURCE_HANDLE!r}"
        else:
            return
        self.error("unknown_handle", message, where.at("source_handle"))

    def check_target_handle(
        self, target: str, source: str | None, handle: str | None, where: _Where
    ) -> None:
        if self.nodes[target].type == "input":
            self.error(
                "unknown_handle",
                f"input node {target!r} takes no incoming edges",
                where.at("target_handle"),
            )
        elif handle is not None and not TARGET_HANDLE_PATTERN.fullmatch(handle):
            self.error(
                "unknown_handle",
                f"target handle {handle!r} must start with a letter or _ and contain only "
                "letters, digits, _ and -",
                where.at("target_handle"),
            )
        elif (handle or source) == RUN_KEY:
            self.error(
                "reserved_input_key",
                f"the input key {RUN_KEY!r} is reserved for the run inputs; "
                "give the edge another target handle",
                where.at("target_handle"),
            )

    # The graph as a whole

    def check_graph(self) -> None:
        node_ids = list(self.nodes)
        order = graph_algorithms.topological_order(node_ids, self.successors)
        if len(order) < len(node_ids):
            placed = set(order)
            self.check_cycles_and_reach([node_id for node_id in node_ids if node_id not in placed])
        if len(node_ids) > 1:
            for node_id, facts in self.nodes.items():
                if not facts.connected:
                    self.warning("disconnected_node", f"node {node_id!r} has no edges", node_id)
        types = {facts.type for facts in self.nodes.values()}
        if "input" not in types:
            self.warning("no_input_node", "the workflow has no input node")
        if "output" not in types:
            self.warning("no_output_node", "the workflow has no output node")

    def check_cycles_and_reach(self, unplaced: list[str]) -> None:
        """Report the cycles among the nodes a topological sort could not place.

        Also the nodes no path reaches: in an acyclic graph every node is
        reachable from a root, so only these nodes can be unreachable.
        """
        for cycle in graph_algorithms.find_cycles(unplaced, self.successors):
            self.problems.append(
                Problem(
                    code="cycle",
                    message="the edges form a cycle: " + " → ".join(cycle),
                    node_id=cycle[0],
                    path=cycle,
                )
            )
        targets = {target for targets in self.successors.values() for target in targets}
        starts = [
            node_id
            for node_id, facts in self.nodes.items()
            if facts.type == "input" or node_id not in targets
        ]
        seen = graph_algorithms.reachable(starts, self.successors)
        for node_id in unplaced:
            if node_id not in seen:
                self.warning(
                    "unreachable_node",
                    f"no path leads to node {node_id!r} from an input node or a root, "
                    "so it can never run",
                    node_id,
                )
