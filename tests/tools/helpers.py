"""Workflows with http nodes, for the tools tests."""

import itertools
from typing import Any

from tests.support.documents import document, edge, node


def http(node_id: str, url: str, **config: Any) -> dict[str, Any]:
    config.setdefault("method", "GET")
    config.setdefault("retry", {"max_attempts": 1})
    return node(node_id, "http", url=url, **config)


def pipeline(*steps: dict[str, Any], inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """input → each step in turn → output."""
    nodes = [node("input", "input"), *steps, node("output", "output")]
    ids = [n["id"] for n in nodes]
    return document(nodes, [edge(a, b) for a, b in itertools.pairwise(ids)], inputs=inputs)
