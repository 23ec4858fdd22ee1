"""Real model calls through litellm.

``import litellm`` costs ~7 s and ~200 MB, so it happens on the first real call
(``load_litellm``), never when a worker imports this package: a worker that only
runs mock or transformer nodes never pays for it. Workers that serve real models
can warm it up at process start by calling ``load_litellm()``.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Generator, Mapping, Sequence
from contextlib import closing
from typing import Any

from workers.llm.errors import classify_provider_error, scrub
from workers.llm.guard import CallGuard
from workers.llm.threaded import iterate_in_thread
from workers.llm.tokens import estimate_usage
from workers.llm.types import AnswerChunks, ModelCallError, ModelRequest, Usage

logger = logging.getLogger(__name__)

# litellm's own variables, which settings.py sets before litellm is imported
# (unless the deployment chose otherwise): use the price list bundled with the
# package rather than downloading one at import, and fetch none of the other
# catalogs litellm keeps online (blog posts, Anthropic beta headers, …). Workers
# must not depend on, or leak metadata to, anything but the provider.
LITELLM_OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
}


@functools.cache
def load_litellm() -> Any:
    """Import and configure litellm once per process."""
    litellm: Any = importlib.import_module("litellm")
    # Otherwise every provider error also prints a "Give Feedback" banner to stdout.
    litellm.suppress_debug_info = True
    return litellm


def run_litellm(request: ModelRequest, guard: CallGuard) -> AnswerChunks:
    """Yield the answer's text chunks, then its ``Usage`` (see ``run_mock``)."""
    try:
        yield from iterate_in_thread(lambda: _completion(request, guard.remaining_s), guard)
    except ModelCallError:
        raise
    except Exception as exc:
        raise _provider_error(exc, request) from None


def run_litellm_tool_turn(
    request: ModelRequest,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]],
    guard: CallGuard,
) -> tuple[dict[str, Any], Usage]:
    """One model turn offered ``tools``: the assistant's message (as a dict) and its usage.

    Not streamed: the agent loop persists whole turns, and a tool call's
    arguments are of no use until they are complete.
    """

    def turn() -> Generator[tuple[dict[str, Any], Usage], None, None]:
        litellm = load_litellm()
        _check_provider(litellm, request)
        arguments = _completion_arguments(request, guard.remaining_s)
        arguments.pop("stream_options", None)
        arguments.update(messages=list(messages), tools=list(tools), stream=False)
        response = litellm.completion(**arguments)
        message = response.choices[0].message
        answer = message.model_dump() if hasattr(message, "model_dump") else dict(message)
        yield answer, _usage(response.usage, request, str(answer.get("content") or ""))

    try:
        for answer in iterate_in_thread(turn, guard):
            return answer
    except ModelCallError:
        raise
    except Exception as exc:
        raise _provider_error(exc, request) from None
    raise ModelCallError("model_error", "the model's turn ended without an answer")


def _provider_error(exc: Exception, request: ModelRequest) -> ModelCallError:
    error = classify_provider_error(exc)
    # Provider messages may name the key they refused; the node's error must not.
    error.message = scrub(error.message, request.api_key)
    error.args = (error.message,)
    return error


def litellm_cost_usd(model: str, usage: Usage) -> float:
    litellm = load_litellm()
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )
    except Exception as exc:
        # A self-hosted or brand-new model has no price (litellm raises one of several
        # types); that must not fail a call that already succeeded.
        logger.info("no price for model %s, counting cost 0: %s", model, exc)
        return 0.0
    return float(prompt_cost) + float(completion_cost)


def _completion(request: ModelRequest, timeout_s: float) -> AnswerChunks:
    litellm = load_litellm()
    _check_provider(litellm, request)
    response = litellm.completion(**_completion_arguments(request, timeout_s))
    if not request.stream:
        text = response.choices[0].message.content or ""
        yield text
        yield _usage(response.usage, request, text)
        return
    parts: list[str] = []
    reported = None
    with closing(response):
        for chunk in response:
            if chunk.choices and (content := chunk.choices[0].delta.content):
                parts.append(content)
                yield content
            # With include_usage the last chunk carries the usage of the whole call.
            reported = getattr(chunk, "usage", None) or reported
    yield _usage(reported, request, "".join(parts))


def _check_provider(litellm: Any, request: ModelRequest) -> None:
    """Fail as ``unknown_model`` when litellm cannot tell which provider serves the model.

    ``completion`` would raise a plain BadRequestError, indistinguishable from a
    request the provider refused.
    """
    try:
        litellm.get_llm_provider(model=request.model, api_base=request.api_base)
    except Exception as exc:
        raise ModelCallError(
            "unknown_model", f"no provider serves model {request.model!r}: {exc}"
        ) from exc


def _completion_arguments(request: ModelRequest, timeout_s: float) -> dict[str, Any]:
    messages = [{"role": "user", "content": request.user_prompt}]
    if request.system_prompt:
        messages.insert(0, {"role": "system", "content": request.system_prompt})
    arguments: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "stream": request.stream,
        # Bounds each connect and read, so a call abandoned by the guard still ends.
        "timeout": timeout_s,
        # Retries are scheduled by the caller (with backoff and node states),
        # never inside a worker.
        "num_retries": 0,
        # Some models reject some parameters (o-series: temperature); a workflow
        # should still run rather than fail on a knob the model ignores.
        "drop_params": True,
    }
    if request.stream:
        arguments["stream_options"] = {"include_usage": True}
    if request.response_format == "json":
        arguments["response_format"] = {"type": "json_object"}
    if request.api_base:
        arguments["api_base"] = request.api_base
    if request.api_key:
        arguments["api_key"] = request.api_key
    if request.api_version:
        arguments["api_version"] = request.api_version
    if request.transport is not None:
        arguments["client"] = _sdk_client(
            request.model, request.api_key, request.api_base, request.api_version, request.transport
        )
    return arguments


@functools.lru_cache(maxsize=64)
def _sdk_client(
    model: str, api_key: str | None, api_base: str | None, api_version: str | None, transport: Any
) -> Any:
    """An OpenAI (or Azure OpenAI) SDK client that connects through ``transport``.

    litellm takes such a client for both providers (``client=``); one per key and
    base is kept, as litellm keeps its own, so connections are pooled. Its retries
    are off: the caller schedules retries.
    """
    openai = importlib.import_module("openai")
    httpx = importlib.import_module("httpx")
    http_client = httpx.Client(transport=transport, trust_env=False)
    if model.startswith("azure/"):
        return openai.AzureOpenAI(
            api_key=api_key,
            azure_endpoint=api_base,
            api_version=api_version,
            http_client=http_client,
            max_retries=0,
        )
    return openai.OpenAI(api_key=api_key, base_url=api_base, http_client=http_client, max_retries=0)


def _usage(reported: Any, request: ModelRequest, text: str) -> Usage:
    """The provider's counts, estimated where it gave none (some servers never do)."""
    estimate = estimate_usage(request, text)
    prompt_tokens = getattr(reported, "prompt_tokens", None)
    completion_tokens = getattr(reported, "completion_tokens", None)
    return Usage(
        prompt_tokens=prompt_tokens if isinstance(prompt_tokens, int) else estimate.prompt_tokens,
        completion_tokens=(
            completion_tokens if isinstance(completion_tokens, int) else estimate.completion_tokens
        ),
    )
