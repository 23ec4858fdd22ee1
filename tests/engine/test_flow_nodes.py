"""`workflow` and `map` nodes in the engine: their configs' rules, what their children add up to."""

from typing import Any

import pytest

from tests.engine.documents import document, edge, node
from workers.engine.catalog import engine_catalog
from workers.engine.flow import (
    MAX_ITERATIONS,
    MAX_PARALLEL,
    ChildConfig,
    ChildResult,
    as_items,
    child_error,
    flow_references,
    item_inputs,
    iteration_inputs,
    map_output,
)
from workers.engine.problems import STRUCTURAL_CODES
from workers.engine.validation import validate_document

CHILD = "0b7c2f4e-5d7a-4a53-9a43-6f1c1a0d9e11"
OWN = "5f0e3c1a-8b9d-4e27-b1c4-2a7d9e6f3b55"


def with_node(node_type: str, **config: Any) -> dict[str, Any]:
    return document(
        [node("in", "input"), node("flow", node_type, **config), node("out", "output")],
        [edge("e0", "in", "flow"), edge("e1", "flow", "out")],
    )


def problems(doc: dict[str, Any], **kwargs: Any) -> list[tuple[str, str | None]]:
    return [(p.code, p.field) for p in validate_document(doc, **kwargs) if p.severity == "error"]


def field(key: str) -> str:
    return f"nodes[1].data.config.{key}"


@pytest.mark.parametrize("node_type", ["workflow", "map"])
def test_a_new_node_needs_only_its_child_and_list(node_type):
    config = engine_catalog()["node_types"][node_type]["default_config"]
    found = problems(with_node(node_type, **config))
    assert ("missing_required", field("workflow")) in found
    config = {**config, "workflow": CHILD} | ({"items": "run.topic"} if node_type == "map" else {})
    assert problems(with_node(node_type, **config)) == []


@pytest.mark.parametrize(
    ("config", "code", "key"),
    [
        ({"max_iterations": 0}, "out_of_range", "max_iterations"),
        ({"max_iterations": MAX_ITERATIONS + 1}, "out_of_range", "max_iterations"),
        ({"max_iterations": True}, "invalid_type", "max_iterations"),
        ({"max_iterations": 2.5}, "invalid_type", "max_iterations"),
        ({"max_iterations": 3.0}, "invalid_type", "max_iterations"),
        ({"max_iterations": 10**400}, "out_of_range", "max_iterations"),
        ({"max_iterations": "5"}, "invalid_type", "max_iterations"),
        ({"version": 0}, "out_of_range", "version"),
        ({"version": False}, "invalid_type", "version"),
        ({"repeat_until": "output.("}, "expression_syntax", "repeat_until"),
        ({"inputs": "{"}, "expression_syntax", "inputs"),
        ({"inputs": 3}, "invalid_type", "inputs"),
        ({"workflow": "not-an-id"}, "invalid_value", "workflow"),
        ({"workflow": 7}, "invalid_type", "workflow"),
        ({"workflow": " "}, "missing_required", "workflow"),
        ({"max_iteration": 3}, "invalid_value", "max_iteration"),
    ],
)
def test_a_workflow_node_config_is_checked(config, code, key):
    doc = with_node("workflow", **{"workflow": CHILD, "inputs": "{}", **config})
    assert (code, field(key)) in problems(doc)


@pytest.mark.parametrize(
    ("config", "code", "key"),
    [
        ({"items": None}, "missing_required", "items"),
        ({"items": "[1,"}, "expression_syntax", "items"),
        ({"max_parallel": 0}, "out_of_range", "max_parallel"),
        ({"max_parallel": MAX_PARALLEL + 1}, "out_of_range", "max_parallel"),
        ({"max_parallel": True}, "invalid_type", "max_parallel"),
        ({"max_parallel": 1.5}, "invalid_type", "max_parallel"),
        ({"max_parallel": -(10**400)}, "out_of_range", "max_parallel"),
        ({"on_item_error": "retry"}, "invalid_value", "on_item_error"),
        ({"on_item_error": ["skip"]}, "invalid_type", "on_item_error"),
        ({"repeat_until": "true"}, "invalid_value", "repeat_until"),
    ],
)
def test_a_map_node_config_is_checked(config, code, key):
    doc = with_node("map", **{"workflow": CHILD, "items": "run.topic", **config})
    assert (code, field(key)) in problems(doc)


def test_wrong_types_are_structural_so_a_save_is_refused():
    doc = with_node("map", workflow=CHILD, items="[]", max_parallel=True)
    codes = {p.code for p in validate_document(doc)}
    assert codes & STRUCTURAL_CODES == {"invalid_type"}


def test_a_node_running_its_own_workflow_is_refused():
    doc = with_node("workflow", workflow=OWN.upper())
    assert ("invalid_value", field("workflow")) in problems(doc, workflow_id=OWN)


def test_a_child_that_runs_this_workflow_back_is_refused():
    looked_up: list[str] = []

    def references(workflow_id: str) -> frozenset[str]:
        looked_up.append(workflow_id)
        return frozenset({OWN}) if workflow_id == CHILD else frozenset()

    doc = with_node("map", workflow=CHILD, items="[]")
    found = problems(doc, workflow_id=OWN, references=references)
    assert ("invalid_value", field("workflow")) in found
    assert looked_up == [CHILD]
    other = "11111111-2222-4333-8444-555555555555"
    assert (
        problems(
            with_node("map", workflow=other, items="[]"), workflow_id=OWN, references=references
        )
        == []
    )


def test_flow_references_reads_only_workflow_and_map_nodes():
    doc = document(
        [
            node("a", "workflow", workflow=f" {CHILD.upper()} "),
            node("b", "map", workflow=OWN, items="[]"),
            node("c", "transformer", workflow="ignored", expression="$"),
            {"id": "d", "type": "map", "data": None},
        ],
        [],
    )
    assert flow_references(doc) == {CHILD, OWN}
    assert flow_references({"nodes": "nope"}) == frozenset()


def test_config_defaults():
    loop = ChildConfig.from_config("workflow", {"workflow": CHILD, "repeat_until": "true"})
    assert (loop.max_iterations, loop.inputs) == (10, None)
    once = ChildConfig.from_config("workflow", {"workflow": CHILD, "max_iterations": 7})
    assert once.max_iterations == 1
    mapped = ChildConfig.from_config("map", {"workflow": CHILD, "items": "xs"})
    assert (mapped.max_parallel, mapped.on_item_error, mapped.is_map) == (10, "fail", True)


def test_children_get_only_the_inputs_they_declare():
    assert item_inputs("x", 3, {"item", "index"}) == {"item": "x", "index": 3}
    assert item_inputs("x", 3, {"item"}) == {"item": "x"}
    assert iteration_inputs({"a": 1}, {"o": 2}, {"a", "previous"}) == {"a": 1, "previous": {"o": 2}}
    assert iteration_inputs({"a": 1}, {"o": 2}, {"a"}) == {"a": 1}


def test_items_read_as_jsonata_sequences():
    assert as_items(None) == []
    assert as_items(5) == [5]
    assert as_items([1, [2]]) == [1, [2]]


def test_map_output_keeps_item_order_and_applies_on_item_error():
    results = [
        ChildResult("succeeded", {"v": 0}, None),
        ChildResult("failed", None, {"code": "boom", "message": "no"}),
        ChildResult("cancelled", None, None),
        ChildResult("succeeded", {"v": 3}, None),
    ]
    assert map_output(results, "skip") == [{"v": 0}, {"v": 3}]
    assert map_output(results, "collect") == [
        {"v": 0},
        {"error": {"code": "boom", "message": "no"}},
        {"error": {"code": "cancelled"}},
        {"v": 3},
    ]


def test_a_child_error_names_the_step():
    code, message = child_error(
        ChildResult("failed", None, {"code": "x", "message": "m"}), "item 4"
    )
    assert (code, message) == ("x", "item 4 failed: m")
    assert child_error(ChildResult("cancelled", None, None), "iteration 2")[0] == "child_cancelled"
