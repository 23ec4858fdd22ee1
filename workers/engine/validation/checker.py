"""The walk over a document: its settings, inputs, nodes, edges and graph.

One pass, O(V+E): the cycle search runs only on the nodes a topological sort
could not place, and JSONata is parsed only for expressions that no fast path
or cache vouches for (see `expressions.check_syntax`). All the parsing of one
pass shares one `ExpressionBudget`, so a document full of slow-to-parse
expressions costs a bounded time; expressions left unchecked when it runs out
are reported as `expression_budget_exceeded`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workers.engine import graph_algorithms
from workers.engine.document import (
    AGENT_TYPES,
    CONFIG_FIELDS,
    ERROR_POLICIES,
    INPUT_TYPES,
    NODE_TYPES,
    RESPONSE_FORMATS,
    RUN_KEY,
    SCHEMA_VERSION,
    SOURCE_HANDLE,
    TARGET_HANDLE_PATTERN,
    JsonKind,
    NodeType,
    blank_to_none,
)
from workers.engine.expressions import (
    ExpressionBudget,
    ExpressionError,
    check_syntax,
    scan_placeholders,
)
from workers.engine.limits import Limits
from workers.engine.problems import Problem
from workers.engine.retry import BACKOFF_KINDS
from workers.engine.validation.approval_rules import check_approval, check_approval_edge
from workers.engine.validation.flow_rules import References, check_child_node
from workers.engine.validation.http_rules import check_http
from workers.engine.validation.models import ModelRules, WorkspaceModels
from workers.engine.validation.report import Report, Where, is_number
from workers.engine.validation.tools import check_agent_tools
from workers.engine.validation.values import (
    RETRY_FIELDS,
    SETTINGS_FIELDS,
    check_agent_numbers,
    check_retry_numbers,
    check_settings_numbers,
)

_DOCUMENT_FIELDS: Mapping[str, JsonKind] = {"name": "string", "description": "string"}
_INPUT_FIELDS: Mapping[str, JsonKind] = {
    "type": "string",
    "required": "boolean",
    "description": "string",
    "default": "any",
}
_POSITION_FIELDS: Mapping[str, JsonKind] = {"x": "number", "y": "number"}
_DATA_FIELDS: Mapping[str, JsonKind] = {"label": "string"}
_EDGE_FIELDS: Mapping[str, JsonKind] = {
    "source_handle": "string",
    "target_handle": "string",
    "transform": "string",
    "condition": "string",
    "label": "string",
}


def _or_empty(value: object) -> object:
    return {} if value is None else value


@dataclass
class _NodeFacts:
    """What the edge and graph checks need to know about a node."""

    type: NodeType | None  # None when the type is unknown (already reported)
    connected: bool = False


class DocumentChecker(Report):
    """One validation pass: walks a document once, adding to its report."""

    def __init__(
        self,
        limits: Limits,
        is_known_model: Callable[[str], bool],
        workspace: WorkspaceModels | None,
        workflow_id: str | None = None,
        references: References | None = None,
    ) -> None:
        super().__init__()
        self.limits = limits
        self.workflow_id = workflow_id
        self.references = references
        self.models = ModelRules(self, is_known_model, workspace)
        self.parse_budget = ExpressionBudget.for_validation(limits)
        # Settings the node rules depend on; valid ones only.
        self.default_model: str | None = None
        self.error_policy = "stop"
        self.run_budget_s: float | None = None
        self.nodes: dict[str, _NodeFacts] = {}
        self.edge_ids: set[str] = set()
        self.successors: dict[str, list[str]] = {}

    # The document and its settings

    def check_document(self, document: Mapping[str, Any], document_bytes: int | None) -> None:
        limits = self.limits
        root = Where("")
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
            self.check_node(raw, Where(f"nodes[{index}]"))
        edges = self.list_at(document, "edges", limits.max_edges, "too_many_edges", root)
        for index, raw in enumerate(edges):
            self.check_edge(raw, Where(f"edges[{index}]"))
        self.check_graph()

    def list_at(
        self, document: Mapping[str, Any], key: str, limit: int, too_many: str, root: Where
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

    def check_settings(self, value: object, where: Where) -> None:
        settings = self.object_at(value, "settings", where)
        if settings is None:
            return
        typed = self.typed_fields(settings, SETTINGS_FIELDS, where)
        model = blank_to_none(typed.get("default_model"))
        if model is not None:
            self.default_model = model
            self.models.check_default(model, where.at("default_model"))
        self.check_choice(typed, "error_policy", ERROR_POLICIES, where)
        if typed.get("error_policy") in ERROR_POLICIES:
            self.error_policy = typed["error_policy"]
        check_settings_numbers(self, typed, self.limits, where)
        budget_s = (typed.get("budget") or {}).get("max_duration_s")
        if is_number(budget_s):
            self.run_budget_s = budget_s

    def check_inputs(self, value: object, where: Where) -> None:
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

    def check_node(self, raw: object, where: Where) -> None:
        node = self.object_at(raw, "a node", where)
        if node is None:
            return
        node_id = self.identifier(node, "id", "a node", where)
        where = Where(where.field, node_id)
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

    def check_node_type(self, value: object, where: Where) -> NodeType | None:
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

    def check_config(self, node_type: NodeType, config: Mapping[str, Any], where: Where) -> None:
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
        elif node_type == "http":
            check_http(self, typed, self.limits, where, self.check_template)
            if "retry" in typed:
                self.check_retry(typed["retry"], where.at("retry"))
        elif node_type == "approval":
            check_approval(
                self, config, typed, self.limits, where, self.check_template, self.run_budget_s
            )
        elif node_type in ("workflow", "map"):
            check_child_node(
                self,
                node_type,
                config,
                typed,
                CONFIG_FIELDS[node_type],
                where,
                self.check_expression,
                self.workflow_id,
                self.references,
            )
        if node_type != "input":
            # An output node without an expression only collects; it cannot fail.
            can_fail = node_type != "output" or blank_to_none(typed.get("expression")) is not None
            self.check_error_handling(config, typed, can_fail, where)

    def check_agent(
        self, config: Mapping[str, Any], typed: Mapping[str, Any], where: Where
    ) -> None:
        self.models.check_agent(config, where)
        if blank_to_none(config.get("model")) is None and self.default_model is None:
            self.error(
                "missing_required",
                "the agent has no model, and the workflow has no default_model",
                where.at("model"),
            )
        check_agent_numbers(self, config, typed, self.limits, where)
        self.check_choice(typed, "response_format", RESPONSE_FORMATS, where)
        if "retry" in typed:
            self.check_retry(typed["retry"], where.at("retry"))
        for key in ("system_prompt", "prompt"):
            if key in typed:
                self.check_template(typed[key], key, where)
        check_agent_tools(
            self, config, self.limits, self.models, where, self.check_template, self.workflow_id
        )

    def check_retry(self, retry: Mapping[str, Any], where: Where) -> None:
        typed = self.typed_fields(retry, RETRY_FIELDS, where)
        self.check_choice(typed, "backoff", BACKOFF_KINDS, where)
        check_retry_numbers(self, typed, self.limits, where)

    def check_error_handling(
        self, config: Mapping[str, Any], typed: Mapping[str, Any], can_fail: bool, where: Where
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

    def check_expression(self, text: str, key: str, where: Where) -> None:
        error = check_syntax(text, limits=self.limits, budget=self.parse_budget)
        if error is not None:
            self.expression_problem(error, key, where.at(key))

    def check_template(self, template: str, key: str, where: Where) -> None:
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
            error = check_syntax(text, limits=self.limits, budget=self.parse_budget)
            if error is not None:
                self.expression_problem(error.shifted(offset), f"a placeholder in {key}", where)
        if unclosed is not None:
            self.expression_problem(unclosed, key, where)

    def expression_problem(self, error: ExpressionError, what: str, where: Where) -> None:
        self.error(error.code, f"{what}: {error.message}", where, error.position)

    # Edges

    def check_edge(self, raw: object, where: Where) -> None:
        edge = self.object_at(raw, "an edge", where)
        if edge is None:
            return
        edge_id = self.identifier(edge, "id", "an edge", where)
        where = Where(where.field, edge_id=edge_id)
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
            if self.nodes[source].type == "approval":
                check_approval_edge(self, source, typed.get("label") or "", where)
        if target is not None:
            self.nodes[target].connected = True
            if source is not None:
                self.successors.setdefault(source, []).append(target)

    def endpoint(self, edge: Mapping[str, Any], key: str, where: Where) -> str | None:
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

    def check_source_handle(self, source: str, handle: str | None, where: Where) -> None:
        if self.nodes[source].type == "output":
            message = f"output node {source!r} has no outgoing edges"
        elif handle not in (None, SOURCE_HANDLE):
            message = f"node {source!r} has no source handle {handle!r}, only {SOURCE_HANDLE!r}"
        else:
            return
        self.error("unknown_handle", message, where.at("source_handle"))

    def check_target_handle(
        self, target: str, source: str | None, handle: str | None, where: Where
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
