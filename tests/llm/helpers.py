"""Building requests and calling models in tests, with the defaults spelled once."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from workers.llm.calls import call_model
from workers.llm.types import ModelRequest, ModelResult

BASE_REQUEST = ModelRequest(
    model="mock/echo",
    system_prompt="You are a thorough researcher.",
    user_prompt="Research the history of looms",
    temperature=0.7,
    max_tokens=256,
    timeout_s=10.0,
    stream=True,
    response_format="text",
)

# How soon a stopped or timed-out call must give up. Calls poll every 50 ms;
# the rest is room for a loaded two-core CI machine, which has kept a waiting
# thread off the CPU for 0.7 s. Each stalled call these tests stop would
# otherwise go on for 2 s or more, so the bound still tells the two apart.
PROMPTLY_S = 1.5


def make_request(model: str = "mock/echo", **changes: Any) -> ModelRequest:
    return dataclasses.replace(BASE_REQUEST, model=model, **changes)


def call(
    request: ModelRequest, should_stop: Callable[[], bool] = lambda: False
) -> tuple[ModelResult, list[str]]:
    """Call the model and return its result with the deltas it streamed."""
    deltas: list[str] = []
    result = call_model(request, on_delta=deltas.append, should_stop=should_stop)
    return result, deltas


class StopSwitch:
    """A ``should_stop`` that turns on after a delay and remembers when it did."""

    def __init__(self) -> None:
        self.set_at: float | None = None

    def __call__(self) -> bool:
        return self.set_at is not None

    def set(self) -> None:
        self.set_at = time.monotonic()

    def set_after(self, seconds: float) -> StopSwitch:
        timer = threading.Timer(seconds, self.set)
        timer.daemon = True
        timer.start()
        return self
