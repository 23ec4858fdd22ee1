"""The built-in offline models, ``mock/*``.

They let the product run and be tested with no provider: deterministic answers,
streamed word by word, with usage, latency and failures on demand. They are not
litellm's ``mock_response`` (which reports a fixed fake usage and costs a 7 s
import). Usage follows ``workers.llm.tokens.estimate_usage`` (characters / 4,
rounded up; the prompt counts the system and user prompts). They carry a nominal
price (``MOCK_COST_PER_TOKEN``) so that spend, budgets and the estimate are
exercised without a provider: it is no one's bill.

Node options they read (``ModelRequest.options``):

* ``mock_chunk_delay_ms`` (all, default 0): pause before each streamed chunk.
* ``mock_latency_ms`` (``mock/slow``, default 2000): total time of the answer,
  spread over its chunks.
* ``mock_failures`` (``mock/flaky``, default 2) and ``mock_failure_status``
  (default 429): the first N attempts fail with that HTTP status.
* ``mock_json`` (``mock/json``): the exact JSON value to answer.
* ``route_labels`` (``mock/json``): the coordinator's outgoing edge labels; the
  answer routes to those named in the prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workers.llm.errors import error_for_status
from workers.llm.guard import CallGuard
from workers.llm.tokens import estimate_usage
from workers.llm.types import AnswerChunks, ModelCallError, ModelRequest, Usage

ECHO_PROMPT_CHARS = 400
# (input, output) USD per token of every mock model: $1 and $2 per million tokens.
MOCK_COST_PER_TOKEN = (1e-6, 2e-6)
SUMMARY_PROMPT_CHARS = 200
MOCK_TOOLS_MODEL = "mock/tools"


@dataclass(frozen=True)
class MockModel:
    id: str
    label: str
    answers_json: bool = False  # its answer is always parsed, whatever response_format says


MOCK_MODELS: dict[str, MockModel] = {
    model.id: model
    for model in (
        MockModel("mock/echo", "Echo"),
        MockModel("mock/slow", "Slow echo"),
        MockModel("mock/flaky", "Flaky echo"),
        MockModel("mock/json", "JSON answer / router", answers_json=True),
        MockModel("mock/error", "Always fails"),
        # Calls the tools it is offered (workers/llm/mock_tools.py); without tools, it echoes.
        MockModel("mock/tools", "Tool caller"),
    )
}


def is_mock_model(model: str) -> bool:
    """Whether ``model`` belongs to the mock family (known or not: see ``run_mock``)."""
    return model.startswith("mock/")


def mock_cost_usd(usage: Usage) -> float:
    input_cost, output_cost = MOCK_COST_PER_TOKEN
    return usage.prompt_tokens * input_cost + usage.completion_tokens * output_cost


def answers_json(model: str) -> bool:
    mock = MOCK_MODELS.get(model)
    return mock is not None and mock.answers_json


def run_mock(request: ModelRequest, guard: CallGuard) -> AnswerChunks:
    """Yield the answer in chunks, pausing through ``guard``, then its ``Usage``."""
    answer = _answer(request)
    chunks = _chunks(answer.text)
    pause_s = answer.chunk_delay_s + answer.total_latency_s / max(len(chunks), 1)
    for chunk in chunks:
        guard.sleep(pause_s)
        yield chunk
    yield estimate_usage(request, answer.text)


@dataclass(frozen=True)
class _Answer:
    text: str
    chunk_delay_s: float
    total_latency_s: float = 0.0


def _answer(request: ModelRequest) -> _Answer:
    options = request.options
    chunk_delay_s = _int_option(options, "mock_chunk_delay_ms", 0) / 1000
    echo = f"Echo: {request.user_prompt[:ECHO_PROMPT_CHARS]}"
    match request.model:
        case "mock/echo" | "mock/tools":
            return _Answer(echo, chunk_delay_s)
        case "mock/slow":
            latency_s = _int_option(options, "mock_latency_ms", 2000) / 1000
            return _Answer(echo, chunk_delay_s, latency_s)
        case "mock/flaky":
            failures = _int_option(options, "mock_failures", 2)
            status = _int_option(options, "mock_failure_status", 429, low=400, high=599)
            if request.attempt <= failures:
                raise error_for_status(
                    status,
                    f"mock/flaky: simulated HTTP {status} on attempt {request.attempt}"
                    f" (fails the first {failures})",
                )
            return _Answer(echo, chunk_delay_s)
        case "mock/json":
            return _Answer(_dump_json(_json_value(request)), chunk_delay_s)
        case "mock/error":
            raise ModelCallError("bad_request", "mock/error: simulated failure", status=400)
        case _:
            known = ", ".join(MOCK_MODELS)
            raise ModelCallError(
                "unknown_model", f"unknown mock model {request.model!r} (known: {known})"
            )


def _json_value(request: ModelRequest) -> Any:
    options = request.options
    if options.get("mock_json") is not None:
        return options["mock_json"]
    if options.get("route_labels") is not None:
        return _route(_labels(options["route_labels"]), request.user_prompt)
    prompt = request.user_prompt
    return {"summary": prompt[:SUMMARY_PROMPT_CHARS], "words": len(prompt.split())}


def _route(labels: list[str], prompt: str) -> dict[str, Any]:
    """Route like a coordinator would: to every edge the prompt names, else the first."""
    if not labels:
        return {"route": [], "reason": "There are no outgoing edges to choose from."}
    folded = prompt.casefold()
    named = [label for label in labels if label and label.casefold() in folded]
    if named:
        return {"route": named, "reason": f"The request mentions {', '.join(named)}."}
    return {
        "route": labels[:1],
        "reason": f"No edge label is mentioned; defaulting to {labels[0]}.",
    }


def _labels(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(label, str) for label in value):
        raise ModelCallError("bad_request", "option route_labels must be a list of strings")
    return list(dict.fromkeys(value))  # the same edge label twice is one route


def _dump_json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ModelCallError("bad_request", f"option mock_json is not JSON: {exc}") from exc


def _int_option(
    options: Mapping[str, Any], key: str, default: int, *, low: int = 0, high: int | None = None
) -> int:
    """Read a whole-number option; node config is user input, so check it."""
    value = options.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON documents may carry 2000.0
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ModelCallError("bad_request", f"option {key} must be a whole number {bounds}")
    return value


def _chunks(text: str) -> list[str]:
    """Word-sized chunks, each with its trailing whitespace; they join back to ``text``."""
    return re.findall(r"\S+\s*|\s+", text)
