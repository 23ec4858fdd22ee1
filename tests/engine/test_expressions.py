"""Bounded JSONata evaluation, error mapping and prompt templates."""

import math
import threading
import time
from typing import Any

import pytest

from tests.support.clocks import Stopwatch
from workers.engine.expression_budget import ExpressionBudget
from workers.engine.expressions import (
    ExpressionError,
    check_syntax,
    clear_caches,
    evaluate,
    evaluate_condition,
    placeholders,
    render_template,
)
from workers.engine.limits import Limits

LIMITS = Limits()
# Short enough to keep the suite fast, long enough to be measured reliably.
FAST = Limits(expression_timeout_ms=300)


def failure(text: str, data: Any = None, limits: Limits = LIMITS) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        evaluate(text, data, limits=limits)
    return caught.value


def all_plain(value: Any) -> bool:
    if isinstance(value, dict):
        return type(value) is dict and all(map(all_plain, value.values()))
    if isinstance(value, list):
        return type(value) is list and all(map(all_plain, value))
    return value is None or type(value) in (str, int, float, bool)


# Evaluation


def test_paths_and_undefined() -> None:
    data = {"run": {"topic": "tides"}, "researcher-1": {"text": "moon"}}
    assert evaluate("$.run.topic", data, limits=LIMITS) == "tides"
    assert evaluate("`researcher-1`.text", data, limits=LIMITS) == "moon"
    assert evaluate("nothing.here", data, limits=LIMITS) is None


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("[1..3]", None),
        ("items.name", {"items": [{"name": "a"}, {"name": "b"}]}),
        ("{'a': [1, [2, 3]], 'b': {'c': [true]}}", None),
        ("$", [1, 2, {"x": [3]}]),
        ("$sort([3, 1, 2])", None),
    ],
)
def test_results_are_plain_json(text: str, data: Any) -> None:
    assert all_plain(evaluate(text, data, limits=LIMITS))


def test_the_result_does_not_alias_the_input() -> None:
    data = {"a": {"b": [1]}}
    result = evaluate("$", data, limits=LIMITS)
    result["a"]["b"].append(2)
    assert data == {"a": {"b": [1]}}


def test_bindings_are_variables_and_do_not_leak() -> None:
    assert evaluate("$x + 1", {}, limits=LIMITS, bindings={"x": 2}) == 3
    assert evaluate("$x", {}, limits=LIMITS) is None


def test_one_cached_expression_sees_each_call_s_own_input() -> None:
    assert evaluate("$.n", {"n": 1}, limits=LIMITS) == 1
    assert evaluate("$.n", {"n": 2}, limits=LIMITS) == 2


def test_a_cached_expression_does_not_time_out_because_it_is_old() -> None:
    # jsonata-python starts a bounded object's clock when it is compiled.
    limits = Limits(expression_timeout_ms=100)
    assert evaluate("a + 1", {"a": 1}, limits=limits) == 2
    time.sleep(0.25)
    assert evaluate("a + 1", {"a": 2}, limits=limits) == 3


def test_a_failed_deep_evaluation_does_not_use_up_the_next_one_s_depth() -> None:
    limits = Limits(expression_max_depth=100)
    countdown = "($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(n))"
    assert failure(countdown, {"n": 10_000}, limits).code == "expression_depth"
    for _ in range(5):
        assert evaluate(countdown, {"n": 5}, limits=limits) == 5


def test_now_is_the_time_of_each_evaluation() -> None:
    first = evaluate("$millis()", None, limits=LIMITS)
    time.sleep(0.05)
    second = evaluate("$millis()", None, limits=LIMITS)
    assert second - first >= 40


def test_concurrent_evaluations_of_one_expression_do_not_mix() -> None:
    clear_caches()
    wrong: list[tuple[int, Any]] = []

    def work(worker: int) -> None:
        for step in range(200):
            value = worker * 1000 + step
            result = evaluate("{'v': $.v, 'twice': $.v * 2}", {"v": value}, limits=LIMITS)
            if result != {"v": value, "twice": value * 2}:
                wrong.append((value, result))

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


# Runaway expressions


@pytest.mark.parametrize(
    ("text", "slack_s"),
    [
        ("($f := function($x){ $f($x) }; $f(1))", 0.5),  # a tail call: no depth growth
        # Builtins looping in Python, which jsonata's own timeout never interrupts:
        ("$distinct([1..100000])", 0.5),
        ("$join($map([1..1000000], $string))", 0.5),
        # A million numbers (the most a range may hold) take 36 MB; allocating
        # and freeing them cannot be interrupted, hence the slack.
        ("$sum([1..1000000].($ * 2)) + $sum([1..1000000].($ * 3))", 1.0),
    ],
)
def test_runaway_expressions_are_stopped_at_about_the_limit(text: str, slack_s: float) -> None:
    clock = Stopwatch()
    error = failure(text, None, FAST)
    assert error.code == "expression_timeout"
    assert "300 ms" in error.message
    assert clock.wall_s() >= 0.25
    assert clock.cpu_s() < 0.3 + slack_s


def test_unbounded_recursion_hits_the_depth_limit() -> None:
    # The code tells it from the 1 s timeout, which would end it otherwise.
    error = failure("($f := function($x){ 1 + $f($x) }; $f(1))")
    assert error.code == "expression_depth"


def test_the_thread_is_usable_after_a_timeout() -> None:
    failure("$distinct([1..100000])", None, FAST)
    time.sleep(0.05)
    assert evaluate("1 + 1", None, limits=FAST) == 2


# Errors


@pytest.mark.parametrize(
    ("text", "data", "code", "fragment"),
    [
        ("1/0", None, "expression_runtime", "ZeroDivisionError"),
        ("$number('x')", None, "expression_runtime", "ValueError"),
        ("a + 'x'", {"a": 1}, "expression_runtime", "T2002"),
        ("$undefined(1)", None, "expression_runtime", "T1006"),
        ("[1..100000000]", None, "expression_output_too_large", "range"),
        ("function($x){ $x }", None, "expression_runtime", "function"),
        ("/*", None, "expression_syntax", "IndexError"),
        ("a +", None, "expression_syntax", "S0207"),
    ],
)
def test_every_failure_is_an_expression_error(
    text: str, data: Any, code: str, fragment: str
) -> None:
    error = failure(text, data)
    assert error.code == code
    assert fragment in error.message


def test_an_expression_too_deep_to_parse() -> None:
    error = failure("(" * 6000 + "1" + ")" * 6000, None, Limits(max_expression_chars=20_000))
    assert error.code == "expression_syntax"
    assert "nested too deeply" in error.message


def test_positions_are_reported_when_known() -> None:
    assert failure("a +").position == 3
    assert failure("$undefined(1)").position is not None
    assert failure("a + 'x'", {"a": 1}).position is None  # jsonata does not know it
    assert str(failure("a +")).endswith("(at position 3)")


def test_input_size_limit() -> None:
    limits = Limits(max_expression_input_bytes=100)
    assert failure("$", {"text": "x" * 100}, limits).code == "expression_input_too_large"
    assert evaluate("$", {"text": "x" * 80}, limits=limits) == {"text": "x" * 80}


@pytest.mark.parametrize("data", [{1, 2}, {"x": math.nan}, {"x": math.inf}, object()])
def test_input_must_be_json(data: Any) -> None:
    error = failure("$", data)
    assert error.code == "expression_runtime"
    assert "not JSON" in error.message


def test_expression_length_limit() -> None:
    limits = Limits(max_expression_chars=5)
    assert failure("a.b.c.d", None, limits).code == "expression_too_long"
    assert check_syntax("a.b.c.d", limits=limits) is not None
    assert check_syntax("a.b", limits=limits) is None


def test_check_syntax_returns_the_error_with_its_position() -> None:
    error = check_syntax("{'a': }", limits=LIMITS)
    assert error is not None
    assert (error.code, error.position) == ("expression_syntax", 7)
    assert check_syntax("$count(items) > 2", limits=LIMITS) is None


# Conditions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("false", False),
        ("missing", False),
        ("null", False),
        ("0", False),
        ("3", True),
        ("''", False),
        ("'no'", True),
        ("[]", False),
        ("[0, 1]", True),
        ("[0, false]", False),
        ("{}", False),
        ("{'a': 1}", True),
        ("function($x){ $x }", False),
        ("json.score > 0.5", True),
    ],
)
def test_conditions_cast_like_boolean(text: str, expected: bool) -> None:
    assert evaluate_condition(text, {"json": {"score": 0.7}}, limits=LIMITS) is expected


def test_a_failing_condition_raises() -> None:
    with pytest.raises(ExpressionError):
        evaluate_condition("1/0", None, limits=LIMITS)


# Templates


def test_placeholders_and_their_offsets() -> None:
    template = "A {{ x }} B {{y}}"
    assert placeholders(template) == [(" x ", 4), ("y", 14)]
    assert placeholders("no placeholders }} here") == []


@pytest.mark.parametrize(
    ("template", "expressions"),
    [
        ('{{ {"a": {"b": 1}} }}', [' {"a": {"b": 1}} ']),
        ('{{ {"a": 1}}}', [' {"a": 1}']),
        ('{{ "}}" }}', [' "}}" ']),
        ("{{ '}}' & \"{{\" }}", [" '}}' & \"{{\" "]),
        ("{{ `a}}b` }}", [" `a}}b` "]),
        ("{{ /* }} */ a }}", [" /* }} */ a "]),
        ('{{ "it\\"s }}" }}', [' "it\\"s }}" ']),
        ("{{a}}{{b}}", ["a", "b"]),
    ],
)
def test_a_placeholder_ends_outside_its_braces_and_strings(
    template: str, expressions: list[str]
) -> None:
    assert [text for text, _ in placeholders(template)] == expressions


def test_an_unclosed_placeholder_is_a_syntax_error_at_its_opening() -> None:
    with pytest.raises(ExpressionError) as caught:
        placeholders("Hello {{ name }} and {{ other")
    assert caught.value.code == "expression_syntax"
    assert caught.value.position == 21


def test_render_template() -> None:
    data = {
        "run": {"topic": "tides"},
        "research": {"text": "moon", "json": {"score": 0.5, "tags": ["a", "b"]}},
    }
    template = (
        "Topic: {{ $.run.topic }}. Notes: {{ research.text }}. "
        "Score {{ research.json.score }}, tags {{ research.json.tags }}, "
        "flag {{ true }}, none [{{ research.missing }}] {{ {'k': 'v'} }}"
    )
    assert render_template(template, data, limits=LIMITS) == (
        'Topic: tides. Notes: moon. Score 0.5, tags ["a","b"], flag true, none [] {"k":"v"}'
    )


def test_render_template_keeps_text_without_placeholders() -> None:
    text = "Plain } text { with }} braces"
    assert render_template(text, {}, limits=LIMITS) == text


def test_render_template_errors_point_into_the_template() -> None:
    with pytest.raises(ExpressionError) as caught:
        render_template("Hi {{ 1/0 }}", {}, limits=LIMITS)
    assert caught.value.code == "expression_runtime"
    assert caught.value.position == 5
    with pytest.raises(ExpressionError) as caught:
        render_template("Hi {{ a + }}", {}, limits=LIMITS)
    assert caught.value.position == 5 + len(" a + ")


def test_a_parse_that_runs_out_of_time_is_remembered_for_those_limits() -> None:
    # jsonata's parser is quadratic on long paths; `[0]` keeps this one off
    # the simple-path shortcut. Parsing it again on every request is the cost
    # a hostile document would make us pay.
    text = "a" + ".b" * 4500 + "[0]"
    clear_caches()
    slow = check_syntax(text, limits=Limits(expression_timeout_ms=20))
    assert slow is not None
    assert slow.code == "expression_syntax"
    assert "too complex" in slow.message
    # A spent budget would cut a second parse short: only the cache can answer.
    spent = ExpressionBudget(time_ms=0, max_result_bytes=1, scope="test")
    again = check_syntax(text, limits=Limits(expression_timeout_ms=20), budget=spent)
    assert again is not None
    assert again.code == "expression_syntax"
    assert again.message == slow.message
    # Under other limits, with time enough (generous, for a loaded machine), it parses.
    assert check_syntax(text, limits=Limits(expression_timeout_ms=30_000)) is None
