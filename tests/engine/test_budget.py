"""Budget checks and the pre-run estimate."""

import dataclasses
import math

import pytest

from tests.engine.documents import document, edge, node, pipeline
from workers.engine.budget import Budget, budget_exceeded
from workers.engine.document import DEFAULT_MAX_TOKENS, Graph
from workers.engine.estimate import estimate_run


def test_from_settings() -> None:
    settings = {"budget": {"max_total_tokens": 10_000, "max_cost_usd": 1.5, "max_duration_s": None}}
    assert Budget.from_settings(settings) == Budget(10_000, 1.5, None)
    assert Budget.from_settings({}) == Budget() == Budget.from_settings(None)
    assert Budget.from_settings({"budget": None}) == Budget()


def test_an_unlimited_budget_is_never_exceeded() -> None:
    assert budget_exceeded(Budget(), total_tokens=10**9, cost_usd=1e6, elapsed_s=1e6) is None


@pytest.mark.parametrize(
    ("tokens", "cost", "elapsed", "reason"),
    [
        (10_512, 0.0, 0.0, "token budget exceeded: 10,512 > 10,000 tokens"),
        (0, 2.5, 0.0, "cost budget exceeded: $2.5000 > $2.0000"),
        (0, 0.0, 3600.5, "duration budget exceeded: 3,600.5 s > 3,600.0 s"),
    ],
)
def test_each_limit(tokens: int, cost: float, elapsed: float, reason: str) -> None:
    budget = Budget(max_total_tokens=10_000, max_cost_usd=2.0, max_duration_s=3600)
    assert budget_exceeded(budget, total_tokens=tokens, cost_usd=cost, elapsed_s=elapsed) == reason


def test_reaching_a_limit_exactly_is_within_it() -> None:
    budget = Budget(max_total_tokens=100, max_cost_usd=1.0, max_duration_s=10)
    assert budget_exceeded(budget, total_tokens=100, cost_usd=1.0, elapsed_s=10) is None


def price(model: str) -> tuple[float, float]:
    return {"cheap": (1e-6, 2e-6), "mock/echo": (0.0, 0.0)}[model]


def test_estimate_of_a_pipeline() -> None:
    doc = pipeline()
    doc["settings"]["default_model"] = "cheap"
    doc["nodes"][1]["data"]["config"].update(system_prompt="x" * 40, max_tokens=100)
    doc["nodes"][2]["data"]["config"].update(system_prompt="y" * 8, max_tokens=50)
    graph = Graph.from_document(doc)
    run_inputs = {"topic": "tides"}  # 18 characters as JSON: 5 tokens
    estimate = estimate_run(graph, run_inputs, price)
    researcher, reviewer = estimate.nodes
    # system 40/4 + prompt "Research {{ $.run.topic }}" 26 → 7 + run inputs 5
    assert (researcher.node_id, researcher.prompt_tokens, researcher.completion_tokens) == (
        "researcher-1",
        10 + 7 + 5,
        100,
    )
    # system 8/4 + prompt "Review {{ research.text }}" 26 → 7 + the researcher's 100
    assert (reviewer.prompt_tokens, reviewer.completion_tokens) == (2 + 7 + 100, 50)
    assert math.isclose(researcher.cost_usd, 22 * 1e-6 + 100 * 2e-6)
    assert estimate.prompt_tokens == 22 + 109
    assert estimate.completion_tokens == 150
    assert estimate.total_tokens == 281
    assert dataclasses.asdict(estimate)["total_tokens"] == 281  # the API's JSON
    assert math.isclose(estimate.cost_usd, researcher.cost_usd + reviewer.cost_usd)


def test_estimate_uses_defaults_and_skips_control_nodes() -> None:
    graph = Graph.from_document(
        document(
            [node("in", "input"), node("a", "coder"), node("t", "transformer", expression="$")],
            [edge("e1", "in", "a"), edge("e2", "a", "t")],
        )
    )
    estimate = estimate_run(graph, {}, price)
    assert [n.node_id for n in estimate.nodes] == ["a"]
    assert estimate.nodes[0].completion_tokens == DEFAULT_MAX_TOKENS
    assert estimate.cost_usd == 0.0
