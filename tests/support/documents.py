"""Builders for workflow documents used across tests and benchmarks."""

import itertools
from collections.abc import Iterable
from typing import Any


def document(
    nodes: Iterable[dict[str, Any]],
    edges: Iterable[dict[str, Any]] = (),
    *,
    name: str = "Test workflow",
    inputs: dict[str, Any] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "name": name,
        "description": "",
        "settings": {
            "default_model": "mock/echo",
            "max_concurrency": 8,
            "error_policy": "stop",
            "budget": {"max_total_tokens": None, "max_cost_usd": None, "max_duration_s": 3600},
            **settings,
        },
        "inputs": inputs if inputs is not None else {},
        "nodes": list(nodes),
        "edges": list(edges),
    }


def node(
    node_id: str, node_type: str = "transformer", x: int = 0, y: int = 0, **config: Any
) -> dict[str, Any]:
    if node_type == "transformer":
        config.setdefault("expression", "$")
    return {
        "id": node_id,
        "type": node_type,
        "position": {"x": x, "y": y},
        "data": {"label": node_id, "config": config},
    }


def agent(node_id: str, node_type: str = "researcher", **config: Any) -> dict[str, Any]:
    config.setdefault("model", "mock/echo")
    return node(node_id, node_type, **config)


def edge(source: str, target: str, edge_id: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "id": edge_id or f"{source}->{target}",
        "source": source,
        "target": target,
        "source_handle": "out",
        "target_handle": fields.pop("target_handle", None),
        "transform": fields.pop("transform", None),
        "condition": fields.pop("condition", None),
        "label": fields.pop("label", ""),
    }


def chain(length: int, *, node_type: str = "transformer", **config: Any) -> dict[str, Any]:
    """input → n nodes in a line → output."""
    ids = [f"n{i}" for i in range(length)]
    nodes = [
        node("input", "input"),
        *(node(i, node_type, **config) for i in ids),
        node("output", "output"),
    ]
    path = ["input", *ids, "output"]
    return document(nodes, [edge(a, b) for a, b in itertools.pairwise(path)])


def fan_out(width: int, *, node_type: str = "transformer", **config: Any) -> dict[str, Any]:
    """input → width parallel nodes → output (a fan-out and a fan-in)."""
    ids = [f"w{i}" for i in range(width)]
    nodes = [
        node("input", "input"),
        *(node(i, node_type, **config) for i in ids),
        node("output", "output"),
    ]
    edges = [edge("input", i) for i in ids] + [edge(i, "output") for i in ids]
    return document(nodes, edges, max_concurrency=max(8, width))


def one_step(step: dict[str, Any], *, output: str = "", **fields: Any) -> dict[str, Any]:
    """input → ``step`` → output, which outputs the expression ``output`` (its input if empty)."""
    output_config = {"expression": output} if output else {}
    return document(
        [node("input", "input"), step, node("output", "output", **output_config)],
        [edge("input", step["id"]), edge(step["id"], "output")],
        **fields,
    )


def slow_agent(latency_ms: int, **fields: Any) -> dict[str, Any]:
    """input → one agent of `mock/slow` that answers after ``latency_ms`` → output."""
    return document(
        [
            node("input", "input"),
            node("wait", "researcher", model="mock/slow", mock_latency_ms=latency_ms),
            node("output", "output"),
        ],
        [edge("input", "wait"), edge("wait", "output")],
        **fields,
    )
