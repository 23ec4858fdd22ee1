"""Readiness, routing, conditions, transforms, node inputs and graph timing."""

from typing import Any

import pytest

from tests.engine.documents import document, edge, node, pipeline
from workers.engine.document import Graph
from workers.engine.expressions import ExpressionError
from workers.engine.limits import Limits
from workers.engine.scheduling import (
    EdgeDecision,
    build_node_input,
    critical_path,
    decide_outgoing,
    node_output_for_control,
    readiness,
)

LIMITS = Limits()


def agent_output(text: str = "", answer: Any = None) -> dict[str, Any]:
    return {
        "text": text,
        "json": answer,
        "model": "mock/echo",
        "usage": {"prompt_tokens": 1, "completion_tokens": 1},
        "cost_usd": 0.0,
    }


def coordinator_graph() -> Graph:
    return Graph.from_document(
        document(
            [
                node("in", "input"),
                node("boss", "coordinator"),
                node("a", "researcher", "Researcher"),
                node("b", "coder", "Coder"),
                node("c", "reviewer", "Reviewer"),
            ],
            [
                edge("e0", "in", "boss"),
                edge("to-a", "boss", "a", label="Research more"),
                edge("to-b", "boss", "b", label="write code"),
                edge("to-c", "boss", "c", label="review", condition="json.confident"),
            ],
        )
    )


def taken(decisions: list[EdgeDecision]) -> list[str]:
    return [decision.edge_id for decision in decisions if decision.taken]


# Readiness


@pytest.mark.parametrize(
    ("unresolved", "taken_count", "expected"),
    [(2, 0, "wait"), (1, 1, "wait"), (0, 1, "ready"), (0, 3, "ready"), (0, 0, "skip")],
)
def test_readiness(unresolved: int, taken_count: int, expected: str) -> None:
    assert readiness(unresolved, taken_count) == expected


def test_readiness_refuses_negative_counts() -> None:
    with pytest.raises(ValueError, match="negative"):
        readiness(-1, 0)


# Outgoing edges


def test_a_plain_node_takes_every_edge_with_its_output() -> None:
    graph = Graph.from_document(pipeline())
    output = agent_output("found it")
    assert decide_outgoing(graph, "researcher-1", output, limits=LIMITS) == [
        EdgeDecision("e2", "researcher-1", "reviewer-1", taken=True, value=output)
    ]


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (["Research more"], ["to-a"]),
        (["research MORE ", "write code"], ["to-a", "to-b"]),
        ("write code", ["to-b"]),
        ([], []),
        (["publish"], []),
        (None, []),
        ({"label": "review"}, []),
        ([3, "write code"], ["to-b"]),
    ],
)
def test_a_coordinator_takes_the_edges_its_route_names(route: Any, expected: list[str]) -> None:
    decisions = decide_outgoing(
        coordinator_graph(), "boss", agent_output(answer={"route": route}), limits=LIMITS
    )
    assert taken(decisions) == expected
    assert all(d.value is None for d in decisions if not d.taken)


@pytest.mark.parametrize("output", [agent_output("route: review"), "review", None, {"json": []}])
def test_a_coordinator_without_a_valid_answer_takes_no_edge(output: Any) -> None:
    assert taken(decide_outgoing(coordinator_graph(), "boss", output, limits=LIMITS)) == []


def test_a_routed_edge_must_also_satisfy_its_condition() -> None:
    graph = coordinator_graph()
    unsure = agent_output(answer={"route": ["review"], "confident": False})
    sure = agent_output(answer={"route": ["review"], "confident": True})
    assert taken(decide_outgoing(graph, "boss", unsure, limits=LIMITS)) == []
    assert taken(decide_outgoing(graph, "boss", sure, limits=LIMITS)) == ["to-c"]


def conditional_graph(**fields: Any) -> Graph:
    return Graph.from_document(
        document([node("a", "researcher"), node("b", "reviewer")], [edge("e", "a", "b", **fields)])
    )


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("json.score > 0.5", True),
        ("json.score > 0.9", False),
        ("json.missing", False),
        ("$contains(text, 'LGTM')", True),
        ("json.tags", True),
    ],
)
def test_conditions(condition: str, expected: bool) -> None:
    output = agent_output("LGTM", {"score": 0.7, "tags": ["x"]})
    [decision] = decide_outgoing(conditional_graph(condition=condition), "a", output, limits=LIMITS)
    assert decision.taken is expected


def test_a_transform_reshapes_the_value_crossing() -> None:
    graph = conditional_graph(transform="{'summary': $substring(text, 0, 5), 'n': json.n}")
    [decision] = decide_outgoing(graph, "a", agent_output("abcdefgh", {"n": 2}), limits=LIMITS)
    assert decision.value == {"summary": "abcde", "n": 2}


def test_an_untaken_edge_is_not_transformed() -> None:
    graph = conditional_graph(condition="false", transform="1/0")
    [decision] = decide_outgoing(graph, "a", agent_output(), limits=LIMITS)
    assert (decision.taken, decision.value) == (False, None)


@pytest.mark.parametrize("fields", [{"condition": "1/0"}, {"transform": "$number('x')"}])
def test_a_failing_expression_names_its_edge(fields: dict[str, str]) -> None:
    with pytest.raises(ExpressionError) as caught:
        decide_outgoing(conditional_graph(**fields), "a", agent_output(), limits=LIMITS)
    which = next(iter(fields))
    assert caught.value.message.startswith(f"{which} of edge 'e':")


def test_a_node_without_outgoing_edges_decides_nothing() -> None:
    assert decide_outgoing(Graph.from_document(pipeline()), "out", {}, limits=LIMITS) == []


# Node inputs


def fan_in_graph() -> Graph:
    return Graph.from_document(
        document(
            [
                node("r1", "researcher"),
                node("r2", "researcher"),
                node("r3", "researcher"),
                node("c", "coder"),
                node("sum", "reviewer"),
            ],
            [
                edge("e1", "r1", "sum", target_handle="research"),
                edge("e2", "c", "sum"),
                edge("e3", "r2", "sum", target_handle="research"),
                edge("e4", "r3", "sum", target_handle="research"),
            ],
        )
    )


def test_the_input_object_is_keyed_by_input_key_with_lists_for_shared_keys() -> None:
    values = {"e1": "one", "e2": "code", "e3": "two", "e4": "three"}
    assert build_node_input(fan_in_graph(), "sum", values, {"topic": "t"}) == {
        "research": ["one", "two", "three"],
        "c": "code",
        "run": {"topic": "t"},
    }


def test_a_shared_key_stays_a_list_when_only_one_edge_was_taken() -> None:
    node_input = build_node_input(fan_in_graph(), "sum", {"e3": "two"}, {})
    assert node_input == {"research": ["two"], "run": {}}


def test_a_root_gets_only_the_run_inputs() -> None:
    graph = Graph.from_document(pipeline())
    assert build_node_input(graph, "in", {}, {"topic": "t"}) == {"run": {"topic": "t"}}


# Control nodes


def test_an_input_node_outputs_the_run_inputs() -> None:
    graph = Graph.from_document(pipeline())
    node_input = build_node_input(graph, "in", {}, {"topic": "tides"})
    assert node_output_for_control(graph, "in", node_input, limits=LIMITS) == {"topic": "tides"}


def test_a_transformer_outputs_its_expression_over_its_input() -> None:
    graph = Graph.from_document(
        document(
            [node("a", "researcher"), node("t", "transformer", expression="a.text & $.run.x")],
            [edge("e", "a", "t")],
        )
    )
    node_input = build_node_input(graph, "t", {"e": agent_output("hi ")}, {"x": "there"})
    assert node_output_for_control(graph, "t", node_input, limits=LIMITS) == "hi there"


def test_an_output_node_collects_its_inputs_or_applies_its_expression() -> None:
    doc = pipeline()
    graph = Graph.from_document(doc)
    node_input = {"reviewer-1": agent_output("ok"), "run": {"topic": "t"}}
    assert node_output_for_control(graph, "out", node_input, limits=LIMITS) == {
        "reviewer-1": agent_output("ok")
    }
    doc["nodes"][3]["data"]["config"]["expression"] = "`reviewer-1`.text"
    graph = Graph.from_document(doc)
    assert node_output_for_control(graph, "out", node_input, limits=LIMITS) == "ok"


def test_an_agent_is_not_a_control_node() -> None:
    with pytest.raises(ValueError, match="agent"):
        node_output_for_control(Graph.from_document(pipeline()), "researcher-1", {}, limits=LIMITS)


# Levels and the critical path


def diamond() -> Graph:
    return Graph.from_document(
        document(
            [node(name, "transformer", expression="$") for name in "abcde"],
            [
                edge("ab", "a", "b"),
                edge("ac", "a", "c"),
                edge("bd", "b", "d"),
                edge("cd", "c", "d"),
                edge("de", "d", "e"),
                edge("ae", "a", "e"),
            ],
        )
    )


def test_critical_path_follows_the_slowest_branch() -> None:
    durations = {"a": 1.0, "b": 5.0, "c": 2.0, "d": 1.0, "e": 0.5}
    assert critical_path(diamond(), durations) == (7.5, ["a", "b", "d", "e"])
    durations["c"] = 6.0
    assert critical_path(diamond(), durations) == (8.5, ["a", "c", "d", "e"])


def test_critical_path_counts_missing_durations_as_zero() -> None:
    assert critical_path(diamond(), {"e": 3.0}) == (3.0, ["e"])
    assert critical_path(Graph.from_document(document([], [])), {}) == (0.0, [])


def test_a_cyclic_graph_has_no_critical_path() -> None:
    graph = Graph.from_document(
        document(
            [node(name, "transformer", expression="$") for name in "ab"],
            [edge("ab", "a", "b"), edge("ba", "b", "a")],
        )
    )
    with pytest.raises(ValueError, match="cycle"):
        critical_path(graph, {})
