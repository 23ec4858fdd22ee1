"""How long a bounded computation ran, in a way a loaded machine cannot distort.

An upper bound ("stopped at about its limit") is checked on the thread's CPU
clock: a machine busy with other processes can keep the thread waiting, so
wall-clock time passes, but cannot make it compute more, while a limit that
failed would let it compute for seconds. A lower bound ("it ran until its
limit") stays on the wall clock, which the limits themselves use.
"""

from __future__ import annotations

import time


class Stopwatch:
    """Started when made; reads the wall clock and this thread's CPU clock."""

    def __init__(self) -> None:
        self._wall = time.monotonic()
        self._cpu = time.thread_time()

    def wall_s(self) -> float:
        return time.monotonic() - self._wall

    def cpu_s(self) -> float:
        return time.thread_time() - self._cpu
