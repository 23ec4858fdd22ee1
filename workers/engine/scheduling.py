"""Readiness dispatch decisions (docs/run-semantics.md, "Readiness").

The database holds the run's state and makes every transition with a
compare-and-set; these functions only decide: which outgoing edges a finished
node takes and what crosses them, whether a node is ready, what its input
object is, and what a control node outputs. They are pure, so a duplicate
task delivery that recomputes a decision gets the same answer.
"""

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal

from workers.engine import graph_algorithms
from workers.engine.approval import decision_labels
from workers.engine.document import CONTROL_TYPES, RUN_KEY, Edge, Graph, blank_to_none
from workers.engine.expressions import (
    ExpressionBudget,
    ExpressionError,
    evaluate,
    evaluate_condition,
)
from workers.engine.limits import Limits

Readiness = Literal["wait", "ready", "skip"]


@dataclass(frozen=True)
class EdgeDecision:
    """Whether an edge is taken, and the value that crosses it if so."""

    edge_id: str
    source: str
    target: str
    taken: bool
    value: Any  # None when not taken


def decide_outgoing(
    graph: Graph,
    node_id: str,
    output: Any,
    *,
    limits: Limits,
    budget: ExpressionBudget | None = None,
) -> list[EdgeDecision]:
    """Resolve every edge leaving a node that has just succeeded with `output`.

    An edge is taken when (for a coordinator) its label is in the route the
    coordinator chose, (for an approval) its label follows the decision, and
    its `condition`, evaluated against `output`, is true. The value crossing
    it is `output`, or its `transform` of `output`.
    Raises ExpressionError naming the edge when a condition or transform
    fails; the caller fails the node. All of them draw from `budget`: the
    node run's, or a fresh per-node one.
    """
    budget = budget or ExpressionBudget.for_node(limits)
    route = _labels_taken(graph.nodes[node_id].type, output)
    decisions = []
    for edge in graph.out_edges(node_id):
        taken = route is None or _label_key(edge.label) in route
        if taken and edge.condition is not None:
            with _blame(edge, "condition"):
                taken = evaluate_condition(edge.condition, output, limits=limits, budget=budget)
        value = None
        if taken:
            value = output
            if edge.transform is not None:
                with _blame(edge, "transform"):
                    value = evaluate(edge.transform, output, limits=limits, budget=budget)
        decisions.append(EdgeDecision(edge.id, edge.source, edge.target, taken, value))
    return decisions


@contextmanager
def _blame(edge: Edge, what: str) -> Iterator[None]:
    """Name the edge in an expression error, for the node's failure message."""
    try:
        yield
    except ExpressionError as error:
        raise ExpressionError(
            error.code, f"{what} of edge {edge.id!r}: {error.message}", error.position
        ) from None


def _labels_taken(node_type: str, output: Any) -> frozenset[str] | None:
    """The labels of the edges a routing node's output takes; None if labels do not route."""
    if node_type == "coordinator":
        return _route(output)
    if node_type == "approval":
        return decision_labels(output)
    return None


def _route(output: Any) -> frozenset[str]:
    """The labels a coordinator's answer routes to; none if it gave no valid route.

    The answer is `{"route": [labels...] or "label", "reason": ...}` in the
    agent output's `json`. Labels match case-insensitively and ignoring
    surrounding blanks, since a model does not always echo them exactly.
    """
    answer = output.get("json") if isinstance(output, dict) else None
    route = answer.get("route") if isinstance(answer, dict) else None
    if isinstance(route, str):
        route = [route]
    if not isinstance(route, list):
        return frozenset()
    return frozenset(_label_key(label) for label in route if isinstance(label, str)) - {""}


def _label_key(label: str) -> str:
    return label.strip().casefold()


def readiness(unresolved_edges: int, taken_edges: int) -> Readiness:
    """Whether a node can run, from the state of its incoming edges.

    `wait` while any incoming edge is unresolved; then `ready` if at least one
    was taken, else `skip` (and the skip propagates to its own edges). Roots,
    which have no incoming edges, are started with the run and never asked.
    """
    if unresolved_edges < 0 or taken_edges < 0:
        raise ValueError("edge counts cannot be negative")
    if unresolved_edges:
        return "wait"
    return "ready" if taken_edges else "skip"


def continuable(graph: Graph, ready: Iterable[str], room: int) -> list[str]:
    """The nodes of `ready` a worker may run itself after the node it ran, at most `room`.

    Those are the control nodes, in the order given: they compute in
    microseconds to milliseconds, less than a trip through the broker costs.
    An agent waits seconds on a model, an http node on a remote server: each
    goes through the broker, so a slow one never holds up the kept nodes.
    """
    if room <= 0:
        return []
    kept = (node_id for node_id in ready if graph.nodes[node_id].type in CONTROL_TYPES)
    return list(islice(kept, room))


def build_node_input(
    graph: Graph,
    node_id: str,
    edge_values: Mapping[str, Any],
    run_inputs: Mapping[str, Any],
) -> dict[str, Any]:
    """The input object of a node: each taken edge's value under its input key.

    `edge_values` maps the id of each taken incoming edge to the value that
    crossed it. A key that two or more incoming edges share always holds a
    list of the taken values in edge order, even when only one was taken, so
    the expressions reading it see one shape. `run` holds the run inputs.
    """
    incoming = graph.in_edges(node_id)
    key_counts: dict[str, int] = {}
    for edge in incoming:
        key_counts[edge.input_key] = key_counts.get(edge.input_key, 0) + 1
    node_input: dict[str, Any] = {}
    for edge in incoming:
        if edge.id not in edge_values:
            continue
        value = edge_values[edge.id]
        if key_counts[edge.input_key] > 1:
            node_input.setdefault(edge.input_key, []).append(value)
        else:
            node_input[edge.input_key] = value
    node_input[RUN_KEY] = dict(run_inputs)
    return node_input


def node_output_for_control(
    graph: Graph,
    node_id: str,
    node_input: Mapping[str, Any],
    *,
    limits: Limits,
    budget: ExpressionBudget | None = None,
) -> Any:
    """The output of an `input`, `transformer` or `output` node.

    An input node outputs the run inputs; a transformer its expression over
    its input object; an output node its optional expression over the input
    object, or else the input object without `run`. The expression draws from
    `budget`: the node run's, or a fresh per-node one.
    """
    budget = budget or ExpressionBudget.for_node(limits)
    node = graph.nodes[node_id]
    if node.type == "input":
        return dict(node_input.get(RUN_KEY) or {})
    if node.type == "transformer":
        return evaluate(node.config["expression"], dict(node_input), limits=limits, budget=budget)
    if node.type == "output":
        expression = blank_to_none(node.config.get("expression"))
        if expression is not None:
            return evaluate(expression, dict(node_input), limits=limits, budget=budget)
        return {key: value for key, value in node_input.items() if key != RUN_KEY}
    raise ValueError(f"node {node_id!r} is an agent ({node.type}); it needs a model call")


def critical_path(graph: Graph, durations: Mapping[str, float]) -> tuple[float, list[str]]:
    """The longest path through the graph weighted by node durations.

    Nodes missing from `durations` (skipped, not run yet) count as 0. Returns
    the path's total duration and its nodes from root to end. Raises
    ValueError if the graph has a cycle.
    """
    finish: dict[str, float] = {}
    previous: dict[str, str] = {}
    for node_id in _topological_order(graph):
        start = 0.0
        for edge in graph.in_edges(node_id):
            if finish[edge.source] > start:
                start = finish[edge.source]
                previous[node_id] = edge.source
        finish[node_id] = start + durations.get(node_id, 0.0)
    if not finish:
        return 0.0, []
    end = max(finish, key=finish.__getitem__)
    path = [end]
    while path[-1] in previous:
        path.append(previous[path[-1]])
    path.reverse()
    return finish[end], path


def _topological_order(graph: Graph) -> list[str]:
    successors = {
        node_id: [edge.target for edge in graph.out_edges(node_id)] for node_id in graph.nodes
    }
    order = graph_algorithms.topological_order(graph.nodes, successors)
    if len(order) < len(graph.nodes):
        raise ValueError("the graph has a cycle")
    return order
