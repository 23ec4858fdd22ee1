"""The messages an agent node sends to its model (docs/workflow-document.md, "What a node sees")."""

import json
from collections.abc import Mapping
from typing import Any

from workers.engine.document import COORDINATOR_ANSWER_FORMAT, RUN_KEY, Edge, Graph
from workers.engine.expressions import ExpressionBudget, render_template
from workers.engine.limits import Limits

NO_INPUT = "(no input)"


def build_messages(
    graph: Graph,
    node_id: str,
    node_input: Mapping[str, Any],
    *,
    limits: Limits,
    budget: ExpressionBudget | None = None,
) -> tuple[str, str]:
    """The (system, user) messages of an agent node for its input object.

    Both the system prompt and the prompt may hold `{{ }}` placeholders. A
    coordinator's system prompt also lists the labels it may route to, since
    the model cannot route to edges it does not know about. Without a prompt,
    the user message is every input under a heading naming where it came from.
    Raises ExpressionError when a placeholder fails.

    All the placeholders of both prompts draw from `budget`: the node run's,
    shared with its edges' conditions and transforms, or a fresh per-node one.
    """
    budget = budget or ExpressionBudget.for_node(limits)
    config = graph.agent_config(node_id)
    data = dict(node_input)
    system = render_template(config.system_prompt, data, limits=limits, budget=budget)
    if graph.nodes[node_id].type == "coordinator":
        system = f"{system}\n\n{_routing_instructions(graph, node_id)}".lstrip()
    if config.prompt is not None:
        user = render_template(config.prompt, data, limits=limits, budget=budget)
    else:
        user = _inputs_as_text(graph, node_id, node_input)
    return system, user


def _routing_instructions(graph: Graph, node_id: str) -> str:
    labels = list(dict.fromkeys(edge.label for edge in graph.out_edges(node_id) if edge.label))
    if not labels:
        return f"There are no steps to route to: answer {COORDINATOR_ANSWER_FORMAT} with no labels."
    steps = "\n".join(f"- {label}" for label in labels)
    return (
        f"The steps you can route to, by label:\n{steps}\n"
        f"Answer with JSON only: {COORDINATOR_ANSWER_FORMAT}"
    )


def _inputs_as_text(graph: Graph, node_id: str, node_input: Mapping[str, Any]) -> str:
    by_key: dict[str, list[Edge]] = {}
    for edge in graph.in_edges(node_id):
        by_key.setdefault(edge.input_key, []).append(edge)
    sections = []
    for key, edges in by_key.items():
        if key not in node_input:
            continue  # no edge with this key was taken
        value = node_input[key]
        if len(edges) == 1:
            sections.append(_section(graph.nodes[edges[0].source].display_name, value))
            continue
        # A shared key holds the taken edges' values in edge order. If every
        # edge was taken they line up with the edges; if not, which ones were
        # is not recorded, so the sections are named after the key.
        items = value if isinstance(value, list) else [value]
        if len(items) == len(edges):
            titles = [graph.nodes[edge.source].display_name for edge in edges]
        else:
            titles = [key] * len(items)
        sections.extend(map(_section, titles, items))
    run_inputs = node_input.get(RUN_KEY)
    if run_inputs:
        lines = "\n".join(f"{name}: {_as_text(value)}" for name, value in run_inputs.items())
        sections.append(f"## Run inputs\n{lines}")
    return "\n\n".join(sections) or NO_INPUT


def _section(title: str, value: Any) -> str:
    return f"## {title}\n{_as_text(value)}"


def _as_text(value: Any) -> str:
    """An agent output's text, a string as it is, anything else as compact JSON."""
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return str(value["text"])
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
