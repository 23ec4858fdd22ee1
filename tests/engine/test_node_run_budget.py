"""One node run, one expression budget: its expression and its edges' conditions and
transforms draw from the same time, and a model call between them does not count."""

import time

import pytest

from tests.engine.documents import document, edge, node
from workers.engine.document import Graph
from workers.engine.expressions import ExpressionBudget, ExpressionError, evaluate
from workers.engine.limits import Limits
from workers.engine.scheduling import decide_outgoing, node_output_for_control

LIMITS = Limits()
# An expression that loops in Python for a while (about 150 ms here).
SLOW = "$count($map([1..10000], function($v){ $v }))"
EDGES = 10


def _budget(time_ms: int) -> ExpressionBudget:
    return ExpressionBudget(time_ms=time_ms, max_result_bytes=1_000_000, scope="node run")


def fan_graph(**edge_fields: str) -> Graph:
    """in → t (a transformer running SLOW) → ten targets, each edge with ``edge_fields``."""
    targets = [f"o{i}" for i in range(EDGES)]
    return Graph.from_document(
        document(
            [node("in", "input"), node("t", "transformer", expression=SLOW)]
            + [node(target, "output") for target in targets],
            [edge("in->t", "in", "t")]
            + [edge(f"t->{target}", "t", target, **edge_fields) for target in targets],
        )
    )


def test_each_part_of_a_node_run_alone_fits_a_budget_that_all_together_exceed() -> None:
    graph = fan_graph(condition=f"{SLOW} > 0")
    for _ in range(2):  # each expression alone fits (parsed once, so time it evaluated)
        started = time.monotonic()
        assert evaluate(SLOW, {}, limits=LIMITS) == 10000
    alone_ms = (time.monotonic() - started) * 1000
    budget = _budget(max(300, int(alone_ms * 3)))
    output = node_output_for_control(graph, "t", {"run": {}}, limits=LIMITS, budget=budget)
    assert output == 10000
    with pytest.raises(ExpressionError) as caught:
        decide_outgoing(graph, "t", output, limits=LIMITS, budget=budget)
    assert caught.value.code == "expression_budget_exceeded"
    assert "of edge 't->o" in caught.value.message
    assert "node run used up" in caught.value.message
    # Each node run has a budget of its own: a fresh one takes every edge.
    decisions = decide_outgoing(graph, "t", output, limits=LIMITS)
    assert [d.taken for d in decisions] == [True] * EDGES


@pytest.mark.parametrize("fields", [{"condition": "true"}, {"transform": "$ + 1"}])
def test_a_used_up_budget_fails_even_a_cheap_edge(fields: dict[str, str]) -> None:
    graph = fan_graph(**fields)
    with pytest.raises(ExpressionError) as caught:
        decide_outgoing(graph, "t", 1, limits=LIMITS, budget=_budget(0))
    assert caught.value.code == "expression_budget_exceeded"


def test_a_used_up_budget_fails_the_node_expression() -> None:
    with pytest.raises(ExpressionError) as caught:
        node_output_for_control(fan_graph(), "t", {"run": {}}, limits=LIMITS, budget=_budget(0))
    assert caught.value.code == "expression_budget_exceeded"


def test_edges_without_expressions_need_no_budget() -> None:
    decisions = decide_outgoing(fan_graph(), "t", 1, limits=LIMITS, budget=_budget(0))
    assert [d.value for d in decisions] == [1] * EDGES


def test_time_spent_paused_is_not_spent_from_the_budget() -> None:
    budget = _budget(200)
    with budget.paused():
        time.sleep(0.3)  # a model call, longer than the whole budget
    assert evaluate("1 + 1", {}, limits=LIMITS, budget=budget) == 2
    time.sleep(0.3)
    with pytest.raises(ExpressionError) as caught:
        evaluate("1 + 1", {}, limits=LIMITS, budget=budget)
    assert caught.value.code == "expression_budget_exceeded"
