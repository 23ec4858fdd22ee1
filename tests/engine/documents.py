"""Small builders for workflow documents, so each test shows only what it varies."""

from typing import Any


def node(node_id: str, node_type: str, label: str = "", **config: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": node_type,
        "position": {"x": 0, "y": 0},
        "data": {"label": label, "config": config},
    }


def edge(edge_id: str, source: str, target: str, **fields: Any) -> dict[str, Any]:
    return {"id": edge_id, "source": source, "target": target, **fields}


def document(
    nodes: list[dict[str, Any]], edges: list[dict[str, Any]], **overrides: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema_version": 1,
        "name": "Test workflow",
        "description": "",
        "settings": {
            "default_model": "mock/echo",
            "max_concurrency": 8,
            "error_policy": "stop",
            "budget": {"max_total_tokens": None, "max_cost_usd": None, "max_duration_s": 3600},
        },
        "inputs": {"topic": {"type": "string", "required": True, "description": ""}},
        "nodes": nodes,
        "edges": edges,
    }
    doc.update(overrides)
    return doc


def pipeline() -> dict[str, Any]:
    """input → researcher → reviewer → output: valid, with no warnings."""
    return document(
        [
            node("in", "input", "Inputs"),
            node(
                "researcher-1",
                "researcher",
                "Primary researcher",
                prompt="Research {{ $.run.topic }}",
            ),
            node("reviewer-1", "reviewer", "Reviewer", prompt="Review {{ research.text }}"),
            node("out", "output", "Result"),
        ],
        [
            edge("e1", "in", "researcher-1"),
            edge("e2", "researcher-1", "reviewer-1", target_handle="research"),
            edge("e3", "reviewer-1", "out"),
        ],
    )


def chain(length: int) -> dict[str, Any]:
    """input → (length - 2) transformers → output, each reading the previous."""
    ids = [f"n{index}" for index in range(length)]
    nodes = [node(ids[0], "input")]
    nodes += [node(node_id, "transformer", expression="$") for node_id in ids[1:-1]]
    nodes.append(node(ids[-1], "output"))
    edges = [edge(f"e{index}", ids[index], ids[index + 1]) for index in range(length - 1)]
    return document(nodes, edges)
