"""Calls of one process that arrive together, done together by one of their threads.

Group commit for work that costs less in batches (one transaction, one
admission, one publish for many runs): the first caller of a key does a batch
of what has arrived; callers arriving meanwhile wait, and when that batch is
done the oldest of them does the next one, with everything that came in the
meantime. Nothing waits for a timer: one caller at a time, each batch is that
caller's call alone; under load the batches grow by themselves, up to
``max_batch``. A caller's thread only ever does batches holding its own call,
so no caller waits longer than its own batch and the one before it.

Only for callers outside a transaction: a batch commits in the thread that
does it, not in the callers'.
"""

import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Item = TypeVar("Item")
Result = TypeVar("Result")

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class _Call(Generic[Item, Result]):
    item: Item
    answered: threading.Event = field(default_factory=threading.Event)
    # Set with ``answered`` when this call is to do the next batch itself.
    leads: bool = False
    result: Result | None = None
    error: BaseException | None = None


class Coalescer(Generic[Key, Item, Result]):
    """``call(key, item)`` gives ``work(key, items)[i]`` for its item, batched with its neighbours'.

    ``work`` answers every item of a batch in order, or raises for all of them.
    ``before_waiting`` runs in a caller's thread before it waits for another's
    batch (to give back what it holds and does not need meanwhile).
    """

    def __init__(
        self,
        work: Callable[[Key, list[Item]], list[Result]],
        *,
        max_batch: int,
        before_waiting: Callable[[], None] | None = None,
    ) -> None:
        self._work = work
        self._max_batch = max_batch
        self._before_waiting = before_waiting
        self._lock = threading.Lock()
        self._waiting: dict[Key, list[_Call[Item, Result]]] = {}

    def call(self, key: Key, item: Item) -> Result:
        call: _Call[Item, Result] = _Call(item)
        with self._lock:
            waiting = self._waiting.get(key)
            if waiting is None:
                # Nobody is doing this key's batches: this caller does.
                self._waiting[key] = [call]
                call.leads = True
            else:
                waiting.append(call)
        if not call.leads:
            self._give_back()
            call.answered.wait()
        if call.leads:
            self._lead(key)
        if call.error is not None:
            raise call.error
        return call.result  # type: ignore[return-value]

    def _give_back(self) -> None:
        """``before_waiting``, whose failure must not keep a queued call from its turn."""
        if self._before_waiting is None:
            return
        try:
            self._before_waiting()
        except Exception:
            logger.warning("Giving back before waiting for a batch failed", exc_info=True)

    def _lead(self, key: Key) -> None:
        """Do the batch at the head of the key's calls, then hand the next one to its oldest."""
        with self._lock:
            waiting = self._waiting[key]
            batch = waiting[: self._max_batch]
            del waiting[: self._max_batch]
        try:
            results = self._work(key, [call.item for call in batch])
        except BaseException as error:  # every caller of the batch re-raises it
            for call in batch:
                call.error = error
        else:
            for call, result in zip(batch, results, strict=True):
                call.result = result
        finally:
            with self._lock:
                heir = waiting[0] if waiting else None
                if heir is None:
                    del self._waiting[key]
                else:
                    heir.leads = True
            for call in batch[1:]:
                call.answered.set()
            if heir is not None:
                heir.answered.set()
