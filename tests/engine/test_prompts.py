"""The (system, user) messages of an agent node."""

from typing import Any

import pytest

from tests.engine.documents import document, edge, node, pipeline
from tests.support.clocks import Stopwatch
from workers.engine.document import AGENT_PRESETS, COORDINATOR_ANSWER_FORMAT, Graph
from workers.engine.expressions import ExpressionError
from workers.engine.limits import Limits
from workers.engine.prompts import NO_INPUT, build_messages
from workers.engine.scheduling import build_node_input

LIMITS = Limits()


def output(text: str) -> dict[str, Any]:
    return {"text": text, "json": None, "model": "mock/echo", "usage": {}, "cost_usd": 0.0}


def test_the_prompt_is_rendered_against_the_input_object() -> None:
    graph = Graph.from_document(pipeline())
    node_input = build_node_input(graph, "reviewer-1", {"e2": output("Tides follow the moon.")}, {})
    system, user = build_messages(graph, "reviewer-1", node_input, limits=LIMITS)
    assert system == AGENT_PRESETS["reviewer"].system_prompt
    assert user == "Review Tides follow the moon."


def test_the_system_prompt_may_hold_placeholders() -> None:
    doc = pipeline()
    doc["nodes"][1]["data"]["config"]["system_prompt"] = "You study {{ $.run.topic }}."
    graph = Graph.from_document(doc)
    system, user = build_messages(graph, "researcher-1", {"run": {"topic": "tides"}}, limits=LIMITS)
    assert (system, user) == ("You study tides.", "Research tides")


def fan_in(**config: Any) -> Graph:
    return Graph.from_document(
        document(
            [
                node("in", "input", "Inputs"),
                node("r1", "researcher", "Primary researcher"),
                node("r2", "researcher", ""),
                node("t", "transformer", "Stats", expression="{'n': 3}"),
                node("w", "coder", "Writer", **config),
            ],
            [
                edge("e1", "r1", "w", target_handle="research"),
                edge("e2", "t", "w"),
                edge("e3", "r2", "w", target_handle="research"),
            ],
        )
    )


def test_without_a_prompt_every_input_is_a_section_in_edge_order() -> None:
    graph = fan_in()
    values = {"e1": output("First."), "e2": {"n": 3}, "e3": output("Second.")}
    node_input = build_node_input(graph, "w", values, {"topic": "tides", "depth": 2})
    _, user = build_messages(graph, "w", node_input, limits=LIMITS)
    assert user == (
        "## Primary researcher\nFirst.\n\n"
        "## r2\nSecond.\n\n"
        '## Stats\n{"n":3}\n\n'
        "## Run inputs\ntopic: tides\ndepth: 2"
    )


def test_a_shared_key_with_some_edges_untaken_is_headed_by_the_key() -> None:
    graph = fan_in()
    node_input = build_node_input(graph, "w", {"e3": output("Second.")}, {})
    _, user = build_messages(graph, "w", node_input, limits=LIMITS)
    assert user == "## research\nSecond."


def test_strings_are_inserted_as_they_are() -> None:
    graph = fan_in()
    node_input = build_node_input(graph, "w", {"e2": "plain words"}, {})
    assert build_messages(graph, "w", node_input, limits=LIMITS)[1] == "## Stats\nplain words"


def test_no_input_at_all() -> None:
    graph = fan_in()
    assert build_messages(graph, "w", {"run": {}}, limits=LIMITS)[1] == NO_INPUT


def test_a_coordinator_is_told_its_routes_and_answer_format() -> None:
    graph = Graph.from_document(
        document(
            [
                node("boss", "coordinator", prompt="Decide."),
                *(node(name, "researcher") for name in "abc"),
            ],
            [
                edge("e1", "boss", "a", label="research"),
                edge("e2", "boss", "b", label="write"),
                edge("e3", "boss", "c", label="research"),
            ],
        )
    )
    system, user = build_messages(graph, "boss", {"run": {}}, limits=LIMITS)
    assert system.startswith(AGENT_PRESETS["coordinator"].system_prompt)
    assert system.endswith(
        "The steps you can route to, by label:\n- research\n- write\n"
        f"Answer with JSON only: {COORDINATOR_ANSWER_FORMAT}"
    )
    assert user == "Decide."


def test_a_coordinator_with_nowhere_to_route() -> None:
    graph = Graph.from_document(document([node("boss", "coordinator")], []))
    system, _ = build_messages(graph, "boss", {"run": {}}, limits=LIMITS)
    assert "no steps to route to" in system


def test_a_failing_placeholder_raises_with_its_position() -> None:
    graph = fan_in(prompt="Write {{ $number('x') }}")
    with pytest.raises(ExpressionError) as caught:
        build_messages(graph, "w", {"run": {}}, limits=LIMITS)
    assert caught.value.position == len("Write {{")


def test_both_prompts_of_a_node_share_one_expression_budget() -> None:
    """A 200,000-character prompt of slow placeholders holds a worker for the
    node's budget at most, not one per-expression timeout per placeholder."""
    limits = Limits(node_expression_ms=400)
    placeholder = "{{ $count([1..900000]) }} "
    doc = pipeline()
    config = doc["nodes"][1]["data"]["config"]
    config["system_prompt"] = placeholder * 3
    config["prompt"] = placeholder * (limits.max_prompt_chars // len(placeholder))
    graph = Graph.from_document(doc)
    clock = Stopwatch()
    with pytest.raises(ExpressionError) as caught:
        build_messages(graph, "researcher-1", {"run": {"topic": "x"}}, limits=limits)
    assert caught.value.code == "expression_budget_exceeded"
    assert clock.cpu_s() < 0.4 + 0.5
