"""Consume a blocking iterator from a helper thread, under a ``CallGuard``.

A provider call blocks in socket reads that nothing can interrupt from outside:
waiting for a first token can take a minute, and a stalled stream blocks until the
HTTP read timeout. Running the call in a daemon thread lets the calling thread keep
checking cancellation and the deadline while it waits for each item. When the
consumer stops early, the thread is told to close its iterator at the next item; a
read already blocked ends at the client's own timeout, so the thread cannot outlive
the call by more than that.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Generic, TypeVar

from workers.llm.guard import POLL_INTERVAL_S, CallGuard

T = TypeVar("T")


@dataclass(frozen=True)
class _Item(Generic[T]):
    value: T


@dataclass(frozen=True)
class _Failed:
    error: BaseException


def iterate_in_thread(
    produce: Callable[[], Generator[T, None, None]], guard: CallGuard
) -> Iterator[T]:
    """Yield what ``produce()`` yields, raising its errors, ``cancelled`` or ``timeout``."""
    items: queue.Queue[_Item[T] | _Failed | None] = queue.Queue()  # None: finished
    abandoned = threading.Event()

    def pump() -> None:
        try:
            with closing(produce()) as produced:
                for value in produced:
                    if abandoned.is_set():
                        return
                    items.put(_Item(value))
            items.put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            items.put(_Failed(exc))

    threading.Thread(target=pump, name="llm-call", daemon=True).start()
    try:
        while True:
            guard.check()
            try:
                item = items.get(timeout=POLL_INTERVAL_S)
            except queue.Empty:
                continue
            if item is None:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item.value
    finally:
        abandoned.set()
