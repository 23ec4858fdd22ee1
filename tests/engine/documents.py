"""Small builders for workflow documents, so each test shows only what it varies."""

from typing import Any

from tests.support import documents as shared
from workers.engine.problems import Problem
from workers.engine.validation import validate_document

Where = tuple[str, str | None, str | None, str | None]  # code, field, node_id, edge_id


def node(node_id: str, node_type: str, label: str = "", **config: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": node_type,
        "position": {"x": 0, "y": 0},
        "data": {"label": label, "config": config},
    }


def edge(edge_id: str, source: str, target: str, **fields: Any) -> dict[str, Any]:
    return {"id": edge_id, "source": source, "target": target, **fields}


def topic_input() -> dict[str, Any]:
    return {"topic": {"type": "string", "required": True, "description": ""}}


def document(
    nodes: list[dict[str, Any]], edges: list[dict[str, Any]], **overrides: Any
) -> dict[str, Any]:
    """A document with a required `topic` input; `overrides` replace its top-level fields."""
    return shared.document(nodes, edges, inputs=topic_input()) | overrides


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


def where(problems: list[Problem]) -> list[Where]:
    return [(p.code, p.field, p.node_id, p.edge_id) for p in problems]


def errors(doc: object, **options: Any) -> list[Where]:
    return where([p for p in validate_document(doc, **options) if p.severity == "error"])


def with_config(node_index: int, **config: Any) -> dict[str, Any]:
    """The pipeline with keys of one node's config replaced."""
    doc = pipeline()
    doc["nodes"][node_index]["data"]["config"].update(config)
    return doc
