"""Retry policy and backoff maths (docs/run-semantics.md, "Errors"): capped backoff with jitter."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

Backoff = Literal["exponential", "linear", "fixed"]
BACKOFF_KINDS: tuple[Backoff, ...] = ("exponential", "linear", "fixed")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a node retries a retryable error.

    `max_attempts` counts the first try, so 1 means "never retry".
    """

    max_attempts: int = 3
    backoff: Backoff = "exponential"
    initial_delay_ms: int = 1000
    max_delay_ms: int = 60000
    jitter: bool = True

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> "RetryPolicy":
        """The policy of a node's `retry` object; absent or null keys keep defaults.

        Expects a config that passed validation, which checks types and ranges.
        """
        if not config:
            return cls()
        given = {key: value for key, value in config.items() if value is not None}
        default = cls()
        return cls(
            max_attempts=int(given.get("max_attempts", default.max_attempts)),
            backoff=cast(Backoff, given.get("backoff", default.backoff)),
            initial_delay_ms=int(given.get("initial_delay_ms", default.initial_delay_ms)),
            max_delay_ms=int(given.get("max_delay_ms", default.max_delay_ms)),
            jitter=bool(given.get("jitter", default.jitter)),
        )


def retry_delay_ms(policy: RetryPolicy, attempt: int, *, rand: Callable[[], float]) -> int | None:
    """Milliseconds to wait before the next attempt, or None when none are left.

    `attempt` is the 1-based number of the attempt that just failed; `rand`
    returns a float in [0, 1) (injected so tests are deterministic).

    Jitter is "equal jitter": the delay is drawn from [d/2, d] where d is the
    capped backoff. Full jitter ([0, d]) spreads load slightly better, but may
    retry almost at once, which wastes an attempt against a provider that just
    rate-limited us; keeping half the backoff as a floor still breaks up
    synchronised retries from many nodes.
    """
    if attempt < 1:
        raise ValueError(f"attempt numbers start at 1, got {attempt}")
    if attempt >= policy.max_attempts:
        return None
    delay = min(_backoff_ms(policy, attempt), policy.max_delay_ms)
    if not policy.jitter:
        return delay
    half = delay / 2
    return int(half + rand() * half)


def _backoff_ms(policy: RetryPolicy, attempt: int) -> int:
    if policy.backoff == "fixed":
        return policy.initial_delay_ms
    if policy.backoff == "linear":
        return policy.initial_delay_ms * attempt
    # Stop doubling once past the cap: the result is capped anyway, and this
    # keeps the numbers small for absurd attempt counts.
    doublings = min(attempt - 1, 64)
    return int(policy.initial_delay_ms * 2**doublings)
