"""Waiting on a blocking producer from a helper thread, under a ``CallGuard``."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator

import pytest

from tests.llm.helpers import PROMPTLY_S, StopSwitch
from workers.llm.guard import CallGuard
from workers.llm.threaded import iterate_in_thread
from workers.llm.types import ModelCallError


def test_items_arrive_in_order() -> None:
    def produce() -> Generator[int, None, None]:
        yield from range(5)

    assert list(iterate_in_thread(produce, CallGuard(5, lambda: False))) == [0, 1, 2, 3, 4]


def test_the_producers_error_is_raised_in_the_caller() -> None:
    def produce() -> Generator[int, None, None]:
        yield 1
        raise ConnectionError("reset by peer")

    items = iterate_in_thread(produce, CallGuard(5, lambda: False))

    assert next(items) == 1
    with pytest.raises(ConnectionError, match="reset by peer"):
        next(items)


def _blocked_producer(
    release: threading.Event, closed: threading.Event
) -> Generator[int, None, None]:
    """Yields once, then blocks like a stalled stream until released."""
    try:
        yield 1
        release.wait(5)
        yield 2
        yield 3
    finally:
        closed.set()


def test_a_blocked_producer_is_cancelled_promptly_and_then_closed() -> None:
    release, closed = threading.Event(), threading.Event()
    stop = StopSwitch().set_after(0.1)
    seen: list[int] = []

    with pytest.raises(ModelCallError) as raised:
        seen.extend(
            iterate_in_thread(lambda: _blocked_producer(release, closed), CallGuard(5, stop))
        )

    assert stop.set_at is not None
    assert time.monotonic() - stop.set_at < PROMPTLY_S
    assert raised.value.code == "cancelled"
    assert seen == [1]
    release.set()
    assert closed.wait(1)  # the helper thread ended its producer at the next item


def test_a_blocked_producer_times_out() -> None:
    release, closed = threading.Event(), threading.Event()
    started = time.monotonic()

    with pytest.raises(ModelCallError) as raised:
        list(
            iterate_in_thread(
                lambda: _blocked_producer(release, closed), CallGuard(0.1, lambda: False)
            )
        )

    assert raised.value.code == "timeout"
    assert time.monotonic() - started < 0.1 + PROMPTLY_S
    release.set()
