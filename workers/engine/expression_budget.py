"""The time and result size that parsing and evaluating expressions may use.

`ExpressionError` lives here rather than in `expressions` so that a budget can
say it is exhausted without importing the evaluator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from workers.engine.limits import Limits

ExpressionErrorCode = Literal[
    "expression_syntax",
    "expression_runtime",
    "expression_timeout",
    "expression_depth",
    "expression_too_long",
    "expression_input_too_large",
    "expression_output_too_large",
    "expression_budget_exceeded",
]


class ExpressionError(Exception):
    """A JSONata expression could not be parsed or evaluated.

    `position` is a character offset into the expression (into the template,
    for errors from `render_template` and `placeholders`), when known.
    """

    def __init__(
        self, code: ExpressionErrorCode, message: str, position: int | None = None
    ) -> None:
        super().__init__(message if position is None else f"{message} (at position {position})")
        self.code: ExpressionErrorCode = code
        self.message = message
        self.position = position

    def shifted(self, offset: int) -> ExpressionError:
        """The same error with its position moved by `offset` characters."""
        position = offset if self.position is None else offset + self.position
        return ExpressionError(self.code, self.message, position)


class ExpressionBudget:
    """The expression time and result size of one request or one node run.

    Every parse and evaluation made for the same request (an expression
    preview, a template, a validation pass) or the same node run (all the
    placeholders of its prompts, all the transforms and conditions of its
    edges) draws from one budget, so that many expressions together cost at
    most `time_ms`, not one per-expression timeout each. Each one still has
    `Limits.expression_timeout_ms` at most. A result (a value, or a whole
    rendered template) may hold `max_result_bytes` at most.

    The clock starts when the budget is made. One budget belongs to one thread.
    """

    def __init__(self, *, time_ms: int | None, max_result_bytes: int, scope: str) -> None:
        self.time_ms = time_ms
        self.max_result_bytes = max_result_bytes
        self.scope = scope
        self._deadline = None if time_ms is None else time.monotonic() + time_ms / 1000

    @classmethod
    def _from(cls, limits: Limits, time_ms: int | None, scope: str) -> ExpressionBudget:
        return cls(
            time_ms=time_ms, max_result_bytes=limits.max_expression_result_bytes, scope=scope
        )

    @classmethod
    def for_request(cls, limits: Limits) -> ExpressionBudget:
        """The budget of one API request that evaluates expressions."""
        return cls._from(limits, limits.request_expression_ms, "request")

    @classmethod
    def for_node(cls, limits: Limits) -> ExpressionBudget:
        """The budget of one node run: its prompts, its expression, its edges."""
        return cls._from(limits, limits.node_expression_ms, "node run")

    @classmethod
    def for_validation(cls, limits: Limits) -> ExpressionBudget:
        """The parse time of one validation pass over a document."""
        return cls._from(limits, limits.validation_parse_ms, "validation")

    @classmethod
    def per_call(cls, limits: Limits) -> ExpressionBudget:
        """No shared time: each call has only the per-expression timeout."""
        return cls._from(limits, None, "expression")

    def allowance(self, limits: Limits) -> tuple[float, bool]:
        """The seconds the next parse or evaluation may take, and whether the
        budget rather than the per-expression timeout sets them.

        Raises `expression_budget_exceeded` when nothing is left.
        """
        per_call = limits.expression_timeout_ms / 1000
        if self._deadline is None:
            return per_call, False
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise self.exhausted()
        return (left, True) if left < per_call else (per_call, False)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the clock while the owner does something else (a node's model
        call): the budget is the time of expressions, not of the whole task."""
        started = time.monotonic()
        try:
            yield
        finally:
            if self._deadline is not None:
                self._deadline += time.monotonic() - started

    def exhausted(self) -> ExpressionError:
        return ExpressionError(
            "expression_budget_exceeded",
            f"the expressions of this {self.scope} used up their {self.time_ms:,} ms "
            "of evaluation time",
        )

    def check_result_size(self, size: int, what: str = "the result") -> None:
        if size > self.max_result_bytes:
            raise ExpressionError(
                "expression_output_too_large",
                f"{what} is larger than {self.max_result_bytes:,} bytes",
            )
