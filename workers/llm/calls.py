"""``call_model``: the one entry point agent tasks use to call a model.

It routes ``mock/*`` to the offline models and everything else through litellm, and
gives both the same contract: deltas in order, cancellation between chunks (and
every ~50 ms while waiting), one wall-clock limit over the whole call, JSON parsing,
usage and cost. Every failure is a ``ModelCallError`` whose ``retryable`` flag
decides the caller's retry (docs/run-semantics.md); nothing here retries.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from typing import Any

from workers.llm.guard import CallGuard
from workers.llm.json_answer import parse_json_answer
from workers.llm.mock import answers_json, is_mock_model, mock_cost_usd, run_mock
from workers.llm.provider import litellm_cost_usd, load_litellm, run_litellm
from workers.llm.types import AnswerChunks, ModelCallError, ModelRequest, ModelResult, Usage


def call_model(
    request: ModelRequest,
    *,
    on_delta: Callable[[str], None],
    should_stop: Callable[[], bool],
) -> ModelResult:
    """Call the model; ``on_delta`` gets each text chunk when ``request.stream``.

    ``should_stop`` is polled often (between chunks and every ~50 ms while waiting),
    so it must be cheap: read a flag that something else keeps fresh.
    """
    simulated = is_mock_model(request.model)
    if not simulated:
        load_litellm()  # a one-time ~7 s import must not eat into the call's time limit
    guard = CallGuard(request.timeout_s, should_stop)
    backend = run_mock if simulated else run_litellm
    text, usage = _collect(backend(request, guard), guard, on_delta if request.stream else None)
    answer_json: Any | None = None
    if request.response_format == "json" or answers_json(request.model):
        answer_json = parse_json_answer(text)
    return ModelResult(
        text=text,
        json=answer_json,
        model=request.model,
        usage=usage,
        cost_usd=mock_cost_usd(usage) if simulated else litellm_cost_usd(request.model, usage),
    )


def _collect(
    chunks: AnswerChunks,
    guard: CallGuard,
    on_delta: Callable[[str], None] | None,
) -> tuple[str, Usage]:
    """Join the backend's chunks, forwarding each; the backend ends with its ``Usage``."""
    parts: list[str] = []
    usage: Usage | None = None
    with closing(chunks):
        for chunk in chunks:
            if isinstance(chunk, Usage):
                usage = chunk
                continue
            guard.check()
            parts.append(chunk)
            if on_delta is not None:
                on_delta(chunk)
    if usage is None:
        raise ModelCallError("model_error", "the model's answer ended without usage")
    return "".join(parts), usage
