"""Wall-clock limit and cancellation for one model call.

A cancelled run must stop within 2 s (docs/run-semantics.md), and a node's
``timeout_s`` bounds the whole call, streaming included. Neither a provider's per-read timeout nor a
between-chunks check alone gives that (a model may think for a minute before its
first token), so every wait in a call goes through a ``CallGuard``: it waits in
short slices and checks the deadline and ``should_stop`` after each.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from workers.llm.types import ModelCallError

# Short enough that a stop request is honoured within ~100 ms (a cancel may
# take 2 s), long enough that many waiting calls in one worker process do not keep
# waking up to compete for its GIL. ``should_stop`` is called once per slice, so
# it must be cheap (read a flag, not a database row).
POLL_INTERVAL_S = 0.05


class CallGuard:
    def __init__(self, timeout_s: float, should_stop: Callable[[], bool]) -> None:
        self.timeout_s = timeout_s
        self._should_stop = should_stop
        self._deadline = time.monotonic() + timeout_s

    @property
    def remaining_s(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    def check(self) -> None:
        """Raise ``cancelled`` or ``timeout`` if the call must end now."""
        if self._should_stop():
            raise ModelCallError("cancelled", "the model call was cancelled")
        if time.monotonic() >= self._deadline:
            raise ModelCallError(
                "timeout", f"the model call took longer than its {self.timeout_s:g} s limit"
            )

    def sleep(self, seconds: float) -> None:
        """Sleep, but end early (raising) on cancellation or at the deadline."""
        wake_at = time.monotonic() + seconds
        while True:
            self.check()
            left = wake_at - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(POLL_INTERVAL_S, left, self.remaining_s))
