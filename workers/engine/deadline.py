"""A hard wall-clock deadline for a call running in the current thread.

jsonata-python's own timeout is checked only when the evaluator enters or
leaves an expression node. A builtin that loops in Python over a large array
(`$sum([1..10000000])`, `$map(big, $string)`, `$distinct(...)`) does neither
and was measured running for 8 to 36 s past a 1 s limit. This module interrupts
such a call: one watchdog thread raises `DeadlineExceeded` inside the
evaluating thread (CPython's `PyThreadState_SetAsyncExc`) once its deadline
has passed. The interrupt lands at the next bytecode boundary, so a single
long C-level operation (sorting ten million numbers) still finishes first.

An asynchronous exception must never land outside the call it was meant for.
The watchdog marks a job `firing` while it decides and fires; `_Job.finish`
first marks the job done, waits out a fire in progress, then withdraws an
interrupt that was fired but not yet raised. The calling thread takes the
watchdog's lock only in `arm`, before its job can fire, so an interrupt never
lands while it holds that lock.

Interrupts target OS threads, so this does not suit gevent or eventlet worker
pools, where many tasks share one thread; prefork and thread pools are fine.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(BaseException):
    """Raised inside a call that ran past its deadline.

    A BaseException, so that `except Exception` in library code cannot swallow it.
    """


def call_with_deadline(call: Callable[[], T], seconds: float) -> T:
    """Run `call()` in this thread; raise `DeadlineExceeded` once `seconds` pass."""
    job = _watchdog.arm(seconds)
    try:
        return call()
    finally:
        job.finish()


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    # None withdraws a pending exception: ctypes passes it as NULL.
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else None
    )


class _Job:
    __slots__ = ("done", "fired", "firing", "thread_id")

    def __init__(self, thread_id: int) -> None:
        self.thread_id = thread_id
        self.done = False
        self.firing = False
        self.fired = False

    def fire(self) -> None:
        """Called by the watchdog when the deadline has passed."""
        self.firing = True
        if not self.done:
            self.fired = True
            _set_async_exc(self.thread_id, DeadlineExceeded)
        self.firing = False

    def finish(self) -> None:
        """Called by the job's own thread when its call has returned or raised."""
        self.done = True
        while self.firing:
            time.sleep(0)
        if self.fired:
            _set_async_exc(self.thread_id, None)


class _Watchdog:
    def __init__(self) -> None:
        self._wakeup = threading.Condition()
        self._queue: list[tuple[float, int, _Job]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> _Job:
        job = _Job(threading.get_ident())
        deadline = time.monotonic() + seconds
        with self._wakeup:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="agentloom-deadline", daemon=True
                )
                self._thread.start()
            heapq.heappush(self._queue, (deadline, next(self._order), job))
            if self._queue[0][2] is job:
                self._wakeup.notify()
        return job

    def _run(self) -> None:
        with self._wakeup:
            while True:
                now = time.monotonic()
                while self._queue and (self._queue[0][2].done or self._queue[0][0] <= now):
                    _, _, job = heapq.heappop(self._queue)
                    if not job.done:
                        job.fire()
                timeout = self._queue[0][0] - now if self._queue else None
                self._wakeup.wait(timeout)


_watchdog = _Watchdog()


def _reset_after_fork() -> None:
    # A forked child (a Celery prefork worker) inherits the parent's queue and
    # possibly a held lock, but not the watchdog thread: start afresh.
    global _watchdog
    _watchdog = _Watchdog()


os.register_at_fork(after_in_child=_reset_after_fork)
