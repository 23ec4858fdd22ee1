"""Backoff maths: attempts, growth, cap and jitter."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workers.engine.retry import BACKOFF_KINDS, RetryPolicy, retry_delay_ms


def no_jitter(**fields: object) -> RetryPolicy:
    return RetryPolicy.from_config({"jitter": False, **fields})


def test_defaults() -> None:
    assert RetryPolicy() == RetryPolicy.from_config(None) == RetryPolicy.from_config({})
    assert RetryPolicy.from_config({"max_attempts": None}).max_attempts == 3


@pytest.mark.parametrize(
    ("backoff", "expected"),
    [
        ("exponential", [1000, 2000, 4000, 8000, 16000]),
        ("linear", [1000, 2000, 3000, 4000, 5000]),
        ("fixed", [1000, 1000, 1000, 1000, 1000]),
    ],
)
def test_growth(backoff: str, expected: list[int]) -> None:
    policy = no_jitter(backoff=backoff, max_attempts=6)
    assert [
        retry_delay_ms(policy, attempt, rand=lambda: 0.5) for attempt in range(1, 6)
    ] == expected


def test_no_attempt_left() -> None:
    policy = no_jitter(max_attempts=3)
    assert retry_delay_ms(policy, 2, rand=lambda: 0.0) == 2000
    assert retry_delay_ms(policy, 3, rand=lambda: 0.0) is None
    assert retry_delay_ms(no_jitter(max_attempts=1), 1, rand=lambda: 0.0) is None


def test_the_delay_is_capped() -> None:
    policy = no_jitter(max_attempts=100, max_delay_ms=5000)
    assert retry_delay_ms(policy, 4, rand=lambda: 0.0) == 5000
    assert retry_delay_ms(policy, 99, rand=lambda: 0.0) == 5000


def test_attempts_start_at_1() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        retry_delay_ms(RetryPolicy(), 0, rand=lambda: 0.0)


def test_equal_jitter_spans_the_upper_half() -> None:
    policy = RetryPolicy(max_attempts=5)
    assert retry_delay_ms(policy, 2, rand=lambda: 0.0) == 1000
    assert retry_delay_ms(policy, 2, rand=lambda: 0.999999) == 1999


@given(
    backoff=st.sampled_from(BACKOFF_KINDS),
    initial=st.integers(0, 100_000),
    cap=st.integers(0, 600_000),
    attempt=st.integers(1, 10_000),
    rand=st.floats(0, 1, exclude_max=True),
)
def test_delays_stay_within_bounds(
    backoff: str, initial: int, cap: int, attempt: int, rand: float
) -> None:
    config = {"backoff": backoff, "initial_delay_ms": initial, "max_delay_ms": cap}
    plain = retry_delay_ms(no_jitter(max_attempts=10**6, **config), attempt, rand=lambda: rand)
    jittered = retry_delay_ms(
        RetryPolicy.from_config({"max_attempts": 10**6, **config}), attempt, rand=lambda: rand
    )
    assert plain is not None
    assert jittered is not None
    assert 0 <= plain <= cap
    assert plain // 2 <= jittered <= plain
