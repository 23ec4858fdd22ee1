"""Run budgets: the limits a run stops at (docs/run-semantics.md, "Budgets")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Budget:
    """Limits on one run; None means unlimited."""

    max_total_tokens: int | None = None
    max_cost_usd: float | None = None
    max_duration_s: float | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> Budget:
        """The budget in a document's `settings` object (its `budget` key)."""
        budget = (settings or {}).get("budget") or {}
        return cls(
            max_total_tokens=budget.get("max_total_tokens"),
            max_cost_usd=budget.get("max_cost_usd"),
            max_duration_s=budget.get("max_duration_s"),
        )


def budget_exceeded(
    budget: Budget, *, total_tokens: int, cost_usd: float, elapsed_s: float
) -> str | None:
    """Why the run must stop, or None while it is within every limit.

    Reaching a limit exactly is still within it; only going over fails the run.
    """
    if budget.max_total_tokens is not None and total_tokens > budget.max_total_tokens:
        return f"token budget exceeded: {total_tokens:,} > {budget.max_total_tokens:,} tokens"
    if budget.max_cost_usd is not None and cost_usd > budget.max_cost_usd:
        return f"cost budget exceeded: ${cost_usd:,.4f} > ${budget.max_cost_usd:,.4f}"
    if budget.max_duration_s is not None and elapsed_s > budget.max_duration_s:
        return f"duration budget exceeded: {elapsed_s:,.1f} s > {budget.max_duration_s:,.1f} s"
    return None
