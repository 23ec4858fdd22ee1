"""Every number a user can set is bounded on both sides, and a validation pass
spends a bounded time parsing expressions."""

import time
from typing import Any

import pytest

from tests.engine.documents import document, edge, node, pipeline
from workers.engine.expressions import clear_caches
from workers.engine.limits import Limits
from workers.engine.validation import validate_document

LIMITS = Limits()
RESEARCHER = 1  # the researcher's index in pipeline()


def problems_at(
    doc: dict[str, Any], limits: Limits = LIMITS
) -> set[tuple[str, str | None, str | None]]:
    return {
        (p.code, p.field, p.node_id)
        for p in validate_document(doc, limits=limits)
        if p.severity == "error"
    }


def with_settings(**settings: Any) -> dict[str, Any]:
    doc = pipeline()
    doc["settings"].update(settings)
    return doc


def with_agent(**config: Any) -> dict[str, Any]:
    doc = pipeline()
    doc["nodes"][RESEARCHER]["data"]["config"].update(config)
    return doc


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"max_concurrency": 5001}, "settings.max_concurrency"),
        ({"max_concurrency": 10**400}, "settings.max_concurrency"),
        ({"budget": {"max_duration_s": 1e12}}, "settings.budget.max_duration_s"),
        ({"budget": {"max_duration_s": 7 * 24 * 3600 + 1}}, "settings.budget.max_duration_s"),
        ({"budget": {"max_duration_s": -0.0}}, "settings.budget.max_duration_s"),
        ({"budget": {"max_total_tokens": 10**10}}, "settings.budget.max_total_tokens"),
        ({"budget": {"max_cost_usd": 1e300}}, "settings.budget.max_cost_usd"),
    ],
)
def test_settings_beyond_their_bounds_are_out_of_range(
    settings: dict[str, Any], field: str
) -> None:
    assert problems_at(with_settings(**settings)) == {("out_of_range", field, None)}


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"max_tokens": 10**400}, "max_tokens"),
        ({"max_tokens": 1_000_001}, "max_tokens"),
        ({"timeout_s": 3601}, "timeout_s"),
        ({"timeout_s": 1e308}, "timeout_s"),
        ({"temperature": 2.5}, "temperature"),
        ({"retry": {"max_attempts": 21}}, "retry.max_attempts"),
        ({"retry": {"max_delay_ms": 3_600_001}}, "retry.max_delay_ms"),
        ({"retry": {"initial_delay_ms": 3_600_001, "max_delay_ms": 1}}, "retry.initial_delay_ms"),
        ({"retry": {"initial_delay_ms": 5000, "max_delay_ms": 1000}}, "retry.initial_delay_ms"),
        ({"mock_latency_ms": 600_001}, "mock_latency_ms"),
        ({"mock_chunk_delay_ms": -1}, "mock_chunk_delay_ms"),
        ({"mock_failures": 1000}, "mock_failures"),
        ({"mock_failure_status": 200}, "mock_failure_status"),
    ],
)
def test_agent_numbers_beyond_their_bounds_are_out_of_range(
    config: dict[str, Any], field: str
) -> None:
    found = problems_at(with_agent(**config))
    assert ("out_of_range", f"nodes[1].data.config.{field}", "researcher-1") in found
    assert {code for code, _, _ in found} == {"out_of_range"}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), True])
@pytest.mark.parametrize("key", ["temperature", "max_tokens", "timeout_s"])
def test_nan_infinity_and_bools_are_not_numbers(key: str, value: Any) -> None:
    found = problems_at(with_agent(**{key: value}))
    assert found == {("invalid_type", f"nodes[1].data.config.{key}", "researcher-1")}


def test_huge_integers_anywhere_a_number_goes_are_out_of_range() -> None:
    doc = pipeline()
    doc["nodes"][0]["position"] = {"x": 10**400, "y": -(10**30)}
    assert problems_at(doc) == {
        ("out_of_range", "nodes[0].position.x", "in"),
        ("out_of_range", "nodes[0].position.y", "in"),
    }


def test_the_bounds_are_the_deployments_limits() -> None:
    doc = with_agent(max_tokens=5000, timeout_s=120)
    tight = Limits(max_agent_tokens=4096, max_node_timeout_s=60)
    assert problems_at(doc) == set()
    assert problems_at(doc, tight) == {
        ("out_of_range", "nodes[1].data.config.max_tokens", "researcher-1"),
        ("out_of_range", "nodes[1].data.config.timeout_s", "researcher-1"),
    }


def test_values_at_the_bounds_are_valid() -> None:
    doc = with_agent(
        max_tokens=1_000_000,
        timeout_s=3600,
        temperature=0,
        retry={"max_attempts": 20, "initial_delay_ms": 0, "max_delay_ms": 3_600_000},
        mock_latency_ms=600_000.0,
    )
    doc["settings"].update(
        max_concurrency=256, budget={"max_duration_s": 7 * 24 * 3600, "max_cost_usd": 0.01}
    )
    assert problems_at(doc) == set()


def _slow_document(count: int) -> dict[str, Any]:
    # Long paths parse in quadratic time (about 0.2 s each here); `[0]` keeps
    # them off the fast paths, and a name of its own (letters: digits would
    # share a syntax shape) makes every one a fresh parse.
    nodes = [node("in", "input")]
    edges = []
    for index in range(count):
        name = chr(ord("a") + index % 26) * (index // 26 + 1)
        nodes.append(node(f"t{index}", "transformer", expression=name + ".b" * 1200 + "[0]"))
        edges.append(edge(f"e{index}", "in", f"t{index}"))
    return document(nodes, edges)


def test_a_validation_pass_spends_a_bounded_time_parsing() -> None:
    clear_caches()
    limits = Limits(validation_parse_ms=300)
    doc = _slow_document(40)
    started = time.monotonic()
    problems = validate_document(doc, limits=limits)
    elapsed = time.monotonic() - started
    # Unbounded, these 40 parses take about 8 s; the budget stops the pass
    # after 0.3 s, and the rest is the margin a loaded CI machine needs.
    assert elapsed < 3
    skipped = [p for p in problems if p.code == "expression_budget_exceeded"]
    assert skipped
    assert all(p.severity == "error" and p.field for p in skipped)
    assert skipped[0].node_id is not None


def test_parse_outcomes_are_cached_so_a_second_pass_is_fast() -> None:
    clear_caches()
    doc = _slow_document(3)
    generous = Limits(expression_timeout_ms=30_000, validation_parse_ms=60_000)  # a loaded machine
    started = time.monotonic()
    assert problems_at(doc, generous) == set()
    first = time.monotonic() - started
    started = time.monotonic()
    assert problems_at(doc, generous) == set()
    assert time.monotonic() - started < first / 5
