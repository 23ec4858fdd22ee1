"""One budget of expression time and result size per request or node run, and
allocation bombs that fail before they allocate."""

import resource

import pytest

from tests.support.clocks import Stopwatch
from workers.engine.expressions import (
    ExpressionBudget,
    ExpressionError,
    check_syntax,
    clear_caches,
    evaluate,
    evaluate_condition,
    render_template,
)
from workers.engine.limits import Limits

LIMITS = Limits()
# A placeholder that loops in Python for a while (about 150 ms here).
SLOW = "{{ $count($map([1..10000], function($v){ $v })) }}"


def _budget(time_ms: int | None, max_result_bytes: int = 1_000_000) -> ExpressionBudget:
    return ExpressionBudget(time_ms=time_ms, max_result_bytes=max_result_bytes, scope="test")


def _failure(call) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        call()
    return caught.value


def test_all_placeholders_of_a_template_share_one_budget() -> None:
    template = " ".join([SLOW] * 60)
    clock = Stopwatch()
    error = _failure(lambda: render_template(template, {}, limits=LIMITS, budget=_budget(300)))
    assert error.code == "expression_budget_exceeded"
    assert "300 ms" in error.message
    assert clock.cpu_s() < 0.3 + 0.3
    assert error.position is not None
    assert error.position > 0


def test_without_a_budget_each_call_has_the_per_expression_timeout_only() -> None:
    assert render_template(" ".join([SLOW] * 3), {}, limits=LIMITS) == "10000 10000 10000"


def test_evaluations_and_conditions_draw_from_the_same_budget() -> None:
    budget = _budget(250)
    expression = SLOW[3:-3]

    def evaluate_many() -> None:
        for _ in range(50):
            evaluate(expression, {}, limits=LIMITS, budget=budget)
            evaluate_condition(expression, {}, limits=LIMITS, budget=budget)

    clock = Stopwatch()
    assert _failure(evaluate_many).code == "expression_budget_exceeded"
    assert clock.cpu_s() < 0.25 + 0.3


def test_a_spent_budget_refuses_at_once() -> None:
    budget = _budget(0)
    error = _failure(lambda: evaluate("1 + 1", None, limits=LIMITS, budget=budget))
    assert error.code == "expression_budget_exceeded"


def test_a_long_prompt_of_slow_placeholders_is_held_to_the_node_budget() -> None:
    limits = Limits(node_expression_ms=500)
    placeholder = "{{ $count([1..900000]) }}"
    prompt = (placeholder + " ") * (limits.max_prompt_chars // (len(placeholder) + 1))
    assert len(prompt) <= limits.max_prompt_chars
    clock = Stopwatch()
    error = _failure(
        lambda: render_template(prompt, {}, limits=limits, budget=ExpressionBudget.for_node(limits))
    )
    assert error.code == "expression_budget_exceeded"
    assert clock.cpu_s() < 0.5 + 0.5


def test_a_parse_cut_short_by_the_budget_is_not_remembered() -> None:
    text = "a" + ".b" * 4500 + "[0]"
    clear_caches()
    cut = check_syntax(text, limits=LIMITS, budget=_budget(5))
    assert cut is not None
    assert cut.code == "expression_budget_exceeded"
    assert check_syntax(text, limits=Limits(expression_timeout_ms=30_000)) is None


@pytest.mark.parametrize(
    "text",
    [
        '$pad("x", 2e8)',
        '$pad("x", -2e8)',
        '$length($pad("x", 2e8, "ab"))',
        '($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $length($f("x", 40)))',
        "($f := function($a, $n){ $n = 0 ? $a : $f($append($a, $a), $n - 1) }; $f([1], 40))",
        '$join(["a", "b", "c"], $pad("", 1000000, "-"))',
        '$replace($pad("", 100000, "a"), "a", $pad("", 1000, "b"))',
        '$replace($pad("", 100000, "a"), /a/, $pad("", 1000, "b"))',
        "$count([1..3000000])",
        "$sum([-5000000..5000000])",
    ],
)
def test_allocation_bombs_fail_before_they_allocate(text: str) -> None:
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    clock = Stopwatch()
    error = _failure(lambda: evaluate(text, None, limits=LIMITS, budget=_budget(None)))
    assert error.code == "expression_output_too_large", error.message
    assert "1,000,000" in error.message
    assert clock.cpu_s() < 0.2
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kb < 64 * 1024


@pytest.mark.parametrize(
    "text",
    [
        '$count([1..100000].$pad("", 100000, "x"))',
        '$count($map([1..100000], function($v){ $pad("", 100000, "x") }))',
        "$count([1..100000].$uppercase($$.text))",
        '$count([1..100000].($$.text & "x"))',
    ],
)
def test_many_small_enough_results_cannot_add_up_to_gigabytes(text: str) -> None:
    data = {"text": "x" * 100_000}
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    clock = Stopwatch()
    error = _failure(lambda: evaluate(text, data, limits=LIMITS, budget=_budget(None)))
    assert error.code == "expression_output_too_large", error.message
    assert "in all" in error.message
    assert clock.cpu_s() < 0.5
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kb < 64 * 1024


def test_guarded_functions_still_work_within_the_limits() -> None:
    assert evaluate('$pad("ab", -5, "#")', None, limits=LIMITS) == "###ab"
    assert evaluate('$join(["a", "b"], ", ")', None, limits=LIMITS) == "a, b"
    assert evaluate('$replace("a-b-c", "-", "+")', None, limits=LIMITS) == "a+b+c"
    assert evaluate('$replace("abc", /(b)/, "<$1>")', None, limits=LIMITS) == "a<b>c"
    assert evaluate("$append([1, 2], 3)", None, limits=LIMITS) == [1, 2, 3]
    assert evaluate('"a" & 1 & true', None, limits=LIMITS) == "a1true"
    assert evaluate("$count([1..1000000])", None, limits=LIMITS) == 1_000_000
    assert evaluate('$eval("$pad(\\"x\\", 3)")', None, limits=LIMITS) == "x  "


def test_eval_cannot_escape_the_guards() -> None:
    error = _failure(lambda: evaluate('$eval("$pad(\\"x\\", 2e8)")', None, limits=LIMITS))
    assert error.code in ("expression_output_too_large", "expression_runtime")
    assert "1,000,000" in error.message or "D3121" in error.message


def test_a_result_larger_than_the_budget_allows_is_refused() -> None:
    data = {"text": "x" * 200_000}
    budget = _budget(None, max_result_bytes=100_000)
    error = _failure(lambda: evaluate("[text, text]", data, limits=LIMITS, budget=budget))
    assert error.code == "expression_output_too_large"
    error = _failure(lambda: render_template("{{ text }}", data, limits=LIMITS, budget=budget))
    assert error.code == "expression_output_too_large"


def test_a_rendered_template_counts_as_one_result() -> None:
    data = {"text": "x" * 40_000}
    budget = _budget(None, max_result_bytes=100_000)
    template = "{{ text }}" * 3
    error = _failure(lambda: render_template(template, data, limits=LIMITS, budget=budget))
    assert error.code == "expression_output_too_large"
    assert render_template("{{ text }}" * 2, data, limits=LIMITS, budget=budget) == "x" * 80_000
