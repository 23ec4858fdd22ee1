"""The watchdog that interrupts calls running past their deadline."""

import os
import sys
import threading
import time

import pytest

from tests.support.clocks import Stopwatch
from workers.engine.deadline import DeadlineExceeded, call_with_deadline


def spin(seconds: float) -> int:
    """Busy Python code, as a builtin looping in Python would be."""
    count = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        count += 1
    return count


def test_a_quick_call_returns_its_value() -> None:
    assert call_with_deadline(lambda: 42, 1.0) == 42


def test_a_failing_call_raises_its_own_error() -> None:
    def fail() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        call_with_deadline(fail, 1.0)


def test_a_slow_call_is_interrupted_at_the_deadline() -> None:
    clock = Stopwatch()
    with pytest.raises(DeadlineExceeded):
        call_with_deadline(lambda: spin(5.0), 0.1)
    assert clock.wall_s() >= 0.09
    assert clock.cpu_s() < 0.5


def test_except_exception_cannot_swallow_the_interrupt() -> None:
    def stubborn() -> None:
        try:
            spin(5.0)
        except Exception:  # what library code does
            spin(5.0)

    with pytest.raises(DeadlineExceeded):
        call_with_deadline(stubborn, 0.05)


def test_no_interrupt_arrives_after_the_call_returned() -> None:
    # Calls from well under to well over their deadline, so that many fire
    # right as the call ends: none may land in the code that follows. A short
    # GIL switch interval lets the watchdog fire as soon as it is due.
    interrupted = 0
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    try:
        for i in range(300):
            try:
                call_with_deadline(lambda i=i: spin(0.0001 * (i % 40)), 0.002)
            except DeadlineExceeded:
                interrupted += 1
        spin(0.2)  # a late interrupt would raise here and fail the test
    finally:
        sys.setswitchinterval(previous)
    assert 0 < interrupted < 300


def test_each_thread_has_its_own_deadline() -> None:
    outcomes: dict[str, str] = {}

    def run(name: str, work: float, limit: float) -> None:
        try:
            call_with_deadline(lambda: spin(work), limit)
            outcomes[name] = "done"
        except DeadlineExceeded:
            outcomes[name] = "interrupted"

    threads = [
        threading.Thread(target=run, args=("slow", 5.0, 0.1)),
        threading.Thread(target=run, args=("quick", 0.05, 2.0)),
        threading.Thread(target=run, args=("patient", 0.3, 2.0)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == {"slow": "interrupted", "quick": "done", "patient": "done"}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_watchdog() -> None:
    call_with_deadline(lambda: None, 1.0)  # the parent's watchdog is running
    pid = os.fork()
    if pid == 0:  # the child, like a Celery prefork worker
        try:
            call_with_deadline(lambda: spin(5.0), 0.1)
        except DeadlineExceeded:
            os._exit(0)
        os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
