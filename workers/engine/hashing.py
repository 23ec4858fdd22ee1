"""Canonical hashes that decide what a resumed run may reuse (docs/run-semantics.md, "Resume").

A node keeps its earlier output only when both its config hash and its input
hash match the earlier attempt, so each hash must change whenever the output
could, and should not change otherwise (a needless change re-runs a model).
"""

import dataclasses
import hashlib
import json
from typing import Any

from workers.engine.document import Graph

# Operational settings: they change how a call is made, not what a successful
# call returns, so changing them must not throw away earlier outputs.
_OPERATIONAL_KEYS = ("timeout_s", "stream", "retry")


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no whitespace; NaN and infinities are refused."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def input_hash(node_input: Any) -> str:
    return sha256_hex(node_input)


def node_config_hash(graph: Graph, node_id: str) -> str:
    """Hash everything besides the input that shapes a node's output.

    That is its type, its resolved config (defaults and the workflow's default
    model included, so changing those invalidates too) and the definitions of
    its incoming edges. A coordinator's outgoing labels are included because
    they are in its system prompt; a prompt-less agent's upstream labels
    because they are headings in its user message.
    """
    node = graph.nodes[node_id]
    if node.is_agent:
        agent = graph.agent_config(node_id)
        config = dataclasses.asdict(agent)
        for key in _OPERATIONAL_KEYS:
            del config[key]
        with_labels = agent.prompt is None
    else:
        config = {
            **node.config,
            "on_error": graph.on_error(node_id),
            "fallback_output": graph.fallback_output(node_id),
        }
        with_labels = False
    incoming = []
    for edge in graph.in_edges(node_id):
        definition = {
            "source": edge.source,
            "source_handle": edge.source_handle,
            "target_handle": edge.target_handle,
            "transform": edge.transform,
            "condition": edge.condition,
        }
        if with_labels:
            definition["source_label"] = graph.nodes[edge.source].display_name
        incoming.append(definition)
    fingerprint: dict[str, Any] = {"type": node.type, "config": config, "incoming": incoming}
    if node.type == "coordinator":
        fingerprint["routes"] = [edge.label for edge in graph.out_edges(node_id)]
    return sha256_hex(fingerprint)
