"""Canonical JSON and the hashes that decide what a resumed run reuses."""

import math
from collections.abc import Callable
from typing import Any

import pytest

from tests.engine.documents import document, edge, node, pipeline
from workers.engine.document import Graph
from workers.engine.hashing import (
    canonical_json,
    input_hash,
    node_config_hash,
    sha256_hex,
)


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": [1.5, "é", None, True]}) == (
        '{"a":[1.5,"é",null,true],"b":1}'.encode()
    )
    assert canonical_json({"a": 1, "b": 2}) == canonical_json({"b": 2, "a": 1})


@pytest.mark.parametrize("value", [math.nan, math.inf, {"x": -math.inf}])
def test_canonical_json_refuses_nan(value: Any) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json(value)


def test_sha256_hex() -> None:
    assert sha256_hex({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    assert input_hash({"run": {"a": 1}, "x": 2}) == input_hash({"x": 2, "run": {"a": 1}})


def hash_after(change: Callable[[dict[str, Any]], None], node_id: str) -> tuple[str, str]:
    doc = pipeline()
    before = node_config_hash(Graph.from_document(doc), node_id)
    change(doc)
    return before, node_config_hash(Graph.from_document(doc), node_id)


def set_config(index: int, **config: Any) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc["nodes"][index]["data"]["config"].update(config)


def set_edge(index: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc["edges"][index].update(fields)


@pytest.mark.parametrize(
    ("change", "node_id"),
    [
        (set_config(1, temperature=0.1), "researcher-1"),
        (set_config(1, prompt="Study {{ $.run.topic }}"), "researcher-1"),
        (set_config(1, mock_latency_ms=5), "researcher-1"),
        (set_config(1, on_error="fallback", fallback_output="-"), "researcher-1"),
        (lambda doc: doc["settings"].update(default_model="other"), "researcher-1"),
        (set_edge(1, transform="{'t': text}"), "reviewer-1"),
        (set_edge(1, condition="json.ok"), "reviewer-1"),
        (set_edge(1, target_handle="notes"), "reviewer-1"),
        (set_config(3, expression="`reviewer-1`.text"), "out"),
    ],
)
def test_what_shapes_the_output_changes_the_hash(
    change: Callable[[dict[str, Any]], None], node_id: str
) -> None:
    before, after = hash_after(change, node_id)
    assert before != after


@pytest.mark.parametrize(
    ("change", "node_id"),
    [
        (set_config(1, timeout_s=10, stream=False, retry={"max_attempts": 9}), "researcher-1"),
        (set_config(1, temperature=0.7), "researcher-1"),  # the preset's value, made explicit
        (lambda doc: doc["nodes"][2]["data"].update(label="Renamed"), "out"),
        (lambda doc: doc["nodes"][1]["position"].update(x=500), "researcher-1"),
        (set_edge(1, id="renamed", label="a label"), "reviewer-1"),
        (set_config(2, temperature=0.9), "researcher-1"),  # another node
    ],
)
def test_what_does_not_shape_the_output_keeps_the_hash(
    change: Callable[[dict[str, Any]], None], node_id: str
) -> None:
    before, after = hash_after(change, node_id)
    assert before == after


def test_upstream_labels_count_only_for_an_agent_without_a_prompt() -> None:
    # Without a prompt, the upstream labels are headings in the user message.
    def rename_researcher(doc: dict[str, Any]) -> None:
        doc["nodes"][1]["data"]["label"] = "Renamed"

    before, after = hash_after(rename_researcher, "reviewer-1")
    assert before == after
    doc = pipeline()
    doc["nodes"][2]["data"]["config"]["prompt"] = None
    before = node_config_hash(Graph.from_document(doc), "reviewer-1")
    rename_researcher(doc)
    assert node_config_hash(Graph.from_document(doc), "reviewer-1") != before


def test_a_coordinator_s_route_labels_count() -> None:
    doc = document(
        [node("boss", "coordinator"), node("a", "coder")], [edge("e", "boss", "a", label="code")]
    )
    before = node_config_hash(Graph.from_document(doc), "boss")
    doc["edges"][0]["label"] = "write code"
    assert node_config_hash(Graph.from_document(doc), "boss") != before
