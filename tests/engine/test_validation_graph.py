"""validate_document: edges, the graph and every problem at once, with exact codes and fields."""

import copy
from typing import Any

import pytest

from tests.engine.documents import document, edge, errors, node, pipeline
from workers.engine.problems import ERROR_CODES, STRUCTURAL_CODES, WARNING_CODES, Problem
from workers.engine.validation import validate_document

# Edges


def test_an_edge_must_be_an_object() -> None:
    doc = pipeline()
    doc["edges"].append(None)
    assert errors(doc) == [("invalid_type", "edges[3]", None, None)]


def test_edge_ids() -> None:
    doc = pipeline()
    doc["edges"].append(edge("e1", "in", "out"))
    doc["edges"].append(edge("e5", "in", "out"))
    del doc["edges"][4]["id"]
    assert errors(doc) == [
        ("duplicate_edge_id", "edges[3].id", None, "e1"),
        ("missing_field", "edges[4].id", None, None),
    ]


@pytest.mark.parametrize("key", ["source", "target"])
def test_edge_endpoints(key: str) -> None:
    doc = pipeline()
    doc["edges"][1][key] = "ghost"
    assert ("unknown_node", f"edges[1].{key}", None, "e2") in errors(doc)
    del doc["edges"][1][key]
    assert ("missing_field", f"edges[1].{key}", None, "e2") in errors(doc)
    doc["edges"][1][key] = ["researcher-1"]
    assert ("invalid_type", f"edges[1].{key}", None, "e2") in errors(doc)


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"source_handle": "left"}, "unknown_handle", "edges[1].source_handle"),
        ({"source_handle": 1}, "invalid_type", "edges[1].source_handle"),
        ({"target_handle": "has space"}, "unknown_handle", "edges[1].target_handle"),
        ({"target_handle": "1st"}, "unknown_handle", "edges[1].target_handle"),
        ({"target_handle": "run"}, "reserved_input_key", "edges[1].target_handle"),
        ({"transform": "text +"}, "expression_syntax", "edges[1].transform"),
        ({"condition": "json.score >"}, "expression_syntax", "edges[1].condition"),
        ({"condition": 1}, "invalid_type", "edges[1].condition"),
        ({"label": False}, "invalid_type", "edges[1].label"),
    ],
)
def test_bad_edge_fields(fields: dict[str, Any], code: str, field: str) -> None:
    doc = pipeline()
    doc["edges"][1].update(fields)
    assert errors(doc) == [(code, field, None, "e2")]


@pytest.mark.parametrize(
    "fields",
    [
        {"source_handle": "out"},
        {"source_handle": None},
        {"source_handle": ""},
        {"target_handle": "draft-2"},
        {"target_handle": "_notes"},
        {"target_handle": None},
        {"target_handle": ""},
        {"transform": '{"text": $substring(text, 0, 100)}', "condition": "json.score > 0.5"},
        {"transform": "", "condition": None, "label": "research"},
    ],
)
def test_good_edge_fields(fields: dict[str, Any]) -> None:
    doc = pipeline()
    doc["edges"][1].update(fields)
    assert errors(doc) == []


def test_output_nodes_have_no_outgoing_edges_and_input_nodes_no_incoming() -> None:
    doc = pipeline()
    doc["nodes"].append(node("in-2", "input"))
    doc["edges"].append(edge("e4", "out", "in-2"))
    assert errors(doc) == [
        ("unknown_handle", "edges[3].source_handle", None, "e4"),
        ("unknown_handle", "edges[3].target_handle", None, "e4"),
    ]


def test_a_source_named_run_needs_a_target_handle() -> None:
    doc = pipeline()
    doc["nodes"][1]["id"] = "run"
    for item in doc["edges"]:
        for key in ("source", "target"):
            if item[key] == "researcher-1":
                item[key] = "run"
    doc["edges"][1]["target_handle"] = None
    assert errors(doc) == [("reserved_input_key", "edges[1].target_handle", None, "e2")]


def test_coordinator_edges_need_labels() -> None:
    doc = pipeline()
    doc["nodes"][2]["type"] = "coordinator"
    problems = validate_document(doc)
    assert [(p.code, p.severity, p.node_id, p.edge_id) for p in problems] == [
        ("unlabeled_route", "warning", "reviewer-1", "e3")
    ]
    doc["edges"][2]["label"] = "publish"
    assert validate_document(doc) == []


# The graph


def test_a_cycle_is_reported_with_its_path() -> None:
    doc = pipeline()
    doc["edges"].append(edge("back", "reviewer-1", "researcher-1", target_handle="review"))
    problems = [p for p in validate_document(doc) if p.code == "cycle"]
    assert len(problems) == 1
    assert problems[0].path == ("researcher-1", "reviewer-1", "researcher-1")
    assert problems[0].node_id == "researcher-1"
    assert problems[0].as_dict()["path"] == ["researcher-1", "reviewer-1", "researcher-1"]


def test_a_self_loop_is_a_cycle() -> None:
    doc = pipeline()
    doc["edges"].append(edge("self", "reviewer-1", "reviewer-1", target_handle="again"))
    assert [p.path for p in validate_document(doc)] == [("reviewer-1", "reviewer-1")]


def test_nodes_only_reachable_through_a_cycle_are_unreachable() -> None:
    doc = pipeline()
    doc["nodes"] += [node("a", "transformer", expression="$"), node("b", "coder")]
    doc["nodes"].append(node("c", "output"))
    doc["edges"] += [edge("ab", "a", "b"), edge("ba", "b", "a"), edge("bc", "b", "c")]
    problems = validate_document(doc)
    assert [(p.code, p.node_id) for p in problems] == [
        ("cycle", "a"),
        ("unreachable_node", "a"),
        ("unreachable_node", "b"),
        ("unreachable_node", "c"),
    ]
    assert [p.severity for p in problems[1:]] == ["warning"] * 3


def test_a_reachable_cycle_has_no_unreachable_nodes() -> None:
    doc = pipeline()
    doc["edges"].append(edge("back", "reviewer-1", "researcher-1", target_handle="review"))
    assert [p.code for p in validate_document(doc)] == ["cycle"]


def test_disconnected_nodes() -> None:
    doc = pipeline()
    doc["nodes"].append(node("lonely", "coder"))
    problems = validate_document(doc)
    assert [(p.code, p.severity, p.node_id) for p in problems] == [
        ("disconnected_node", "warning", "lonely")
    ]


def test_a_single_node_is_not_disconnected() -> None:
    doc = document([node("only", "researcher", prompt="Hi")], [])
    assert [p.code for p in validate_document(doc)] == ["no_input_node", "no_output_node"]


def test_no_input_and_no_output_node() -> None:
    doc = pipeline()
    doc["nodes"][0]["type"] = "transformer"
    doc["nodes"][0]["data"]["config"] = {"expression": "$"}
    doc["nodes"][3]["type"] = "reviewer"
    assert [(p.code, p.severity) for p in validate_document(doc)] == [
        ("no_input_node", "warning"),
        ("no_output_node", "warning"),
    ]


def test_an_empty_workflow_only_warns() -> None:
    doc = document([], [])
    assert [p.code for p in validate_document(doc)] == ["no_input_node", "no_output_node"]


# All at once


def test_every_problem_is_returned_at_once() -> None:
    doc = pipeline()
    doc["schema_version"] = 2
    doc["settings"]["max_concurrency"] = 0
    doc["inputs"]["topic"]["type"] = "date"
    doc["nodes"][1]["data"]["config"].update(temperature=3, max_tokens=0)
    doc["nodes"][2]["data"]["config"]["prompt"] = "{{ research.text + }}"
    doc["nodes"].append(node("reviewer-1", "output"))
    doc["nodes"].append(node("x", "planner"))
    doc["edges"].append(edge("e9", "researcher-1", "ghost"))
    doc["edges"].append(edge("e10", "reviewer-1", "researcher-1", target_handle="again"))
    doc["edges"].append(edge("e11", "out", "reviewer-1", condition="(("))
    problems = validate_document(doc)
    assert [p.code for p in problems] == [
        "unsupported_schema_version",
        "out_of_range",
        "invalid_value",
        "out_of_range",
        "out_of_range",
        "expression_syntax",
        "duplicate_node_id",
        "unknown_node_type",
        "unknown_node",
        "unknown_handle",
        "expression_syntax",
        "cycle",
        "disconnected_node",
    ]


def test_every_code_is_documented_with_its_severity() -> None:
    doc = pipeline()
    doc["nodes"][2]["type"] = "coordinator"
    doc["nodes"].append(node("lonely", "coder", model="gpt-1", temperature=9))
    doc["edges"].append(edge("back", "reviewer-1", "researcher-1", target_handle="run"))
    doc["edges"].append(edge("e9", "in", "ghost", transform="a +"))
    problems = validate_document(doc, is_known_model=lambda model: model == "mock/echo")
    assert {p.code for p in problems} >= {"cycle", "unlabeled_route", "unknown_model"}
    for problem in problems:
        expected = "warning" if problem.code in WARNING_CODES else "error"
        assert problem.severity == expected
        assert problem.code in ERROR_CODES | WARNING_CODES
    assert STRUCTURAL_CODES < ERROR_CODES
    assert not ERROR_CODES & WARNING_CODES


def test_validation_does_not_change_the_document() -> None:
    doc = pipeline()
    doc["nodes"][1]["data"]["config"]["temperature"] = 7
    before = copy.deepcopy(doc)
    validate_document(doc)
    assert doc == before


def test_problem_as_dict_leaves_out_what_is_unknown() -> None:
    problem = Problem("cycle", "a → b → a", node_id="a", path=("a", "b", "a"))
    assert problem.as_dict() == {
        "code": "cycle",
        "message": "a → b → a",
        "severity": "error",
        "node_id": "a",
        "path": ["a", "b", "a"],
    }
    assert Problem("x", "y", field="nodes[0].id", position=0).as_dict()["position"] == 0
