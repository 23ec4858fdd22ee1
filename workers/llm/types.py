"""The value types of a model call, shared by the mock and the provider paths.

Plain frozen dataclasses: agent tasks build a ``ModelRequest`` from a node's
config and store ``ModelResult.as_output()`` as the node's output (docs/workflow-document.md).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ErrorCode = Literal[
    "rate_limited",
    "timeout",
    "connection",
    "provider_error",
    "bad_request",
    "auth",
    "context_window",
    "content_policy",
    "invalid_json",
    "cancelled",
    "unknown_model",
    "model_error",
    # Before or at the connection: which key, and whether the address may be reached.
    "model_unavailable",
    "credential_not_found",
    "credential_mismatch",
    "credential_unreadable",
    "egress_refused",
]

# Only these are worth another attempt; the rest fail the node at once.
RETRYABLE_CODES: frozenset[ErrorCode] = frozenset(
    {"rate_limited", "timeout", "connection", "provider_error"}
)


@dataclass(frozen=True)
class ModelRequest:
    """Everything one call needs; built by the agent task from the node config."""

    model: str  # "mock/echo", "openai/gpt-4o-mini", …
    system_prompt: str
    user_prompt: str
    temperature: float
    max_tokens: int
    timeout_s: float
    stream: bool
    response_format: Literal["text", "json"]
    attempt: int = 1  # 1-based; mock/flaky uses it to fail the first attempts
    # Extra node config keys read by the mock models (mock_latency_ms, mock_failures,
    # mock_failure_status, mock_chunk_delay_ms, mock_json, route_labels).
    options: Mapping[str, Any] = field(default_factory=dict)
    # Per-deployment endpoint and key (settings, env, workspace credentials), never
    # taken from user documents: a document must not point a worker at any host.
    api_base: str | None = None
    api_key: str | None = None
    api_version: str | None = None
    # An httpx transport the call must connect through: the outbound guard's, for an
    # address a user gave (docs/egress.md). None: litellm's own client.
    transport: Any = None


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class ModelResult:
    text: str
    json: Any | None
    model: str
    usage: Usage
    cost_usd: float

    def as_output(self) -> dict[str, Any]:
        """The agent output (docs/workflow-document.md), ready to store as JSON."""
        return {
            "text": self.text,
            "json": self.json,
            "model": self.model,
            "usage": {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
            },
            "cost_usd": self.cost_usd,
        }


# What a model backend (mock or litellm) yields: the answer's text chunks in order,
# then exactly one Usage.
AnswerChunks = Generator[str | Usage, None, None]


class ModelCallError(Exception):
    """A failed model call, classified so the caller can decide to retry or fail.

    ``retryable`` defaults from the code (see ``RETRYABLE_CODES``) so callers cannot
    get the policy wrong by forgetting it.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str = "",
        retryable: bool | None = None,
        status: int | None = None,
    ) -> None:
        self.code: ErrorCode = code
        self.message = message or code.replace("_", " ")
        self.retryable = code in RETRYABLE_CODES if retryable is None else retryable
        self.status = status
        super().__init__(self.message)

    def __reduce__(self) -> tuple[type[ModelCallError], tuple[str, str, bool, int | None]]:
        # Celery's prefork pool pickles a task's exception from the child to the
        # parent; the default reduction would drop every attribute but the message.
        return (type(self), (self.code, self.message, self.retryable, self.status))

    def __repr__(self) -> str:
        return (
            f"ModelCallError(code={self.code!r}, message={self.message!r}, "
            f"retryable={self.retryable!r}, status={self.status!r})"
        )
