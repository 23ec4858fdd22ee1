"""The numeric settings of a document, each bounded.

Every number a user can set is bounded on both sides: a run, a node or a mock
model must not be able to ask for a week-long timeout, a thousand retries or
a deadline past what a date can hold. The upper bounds are the deployment's
`Limits`. A value outside is an `out_of_range` error: the document is saved
with the problem, and runs are refused until it is fixed.
"""

from collections.abc import Mapping
from typing import Any

from workers.engine.document import JsonKind
from workers.engine.limits import Limits
from workers.engine.validation.report import Report, Where

SETTINGS_FIELDS: Mapping[str, JsonKind] = {
    "default_model": "string",
    "max_concurrency": "integer",
    "error_policy": "string",
    "budget": "object",
}
_BUDGET_FIELDS: Mapping[str, JsonKind] = {
    "max_total_tokens": "integer",
    "max_cost_usd": "number",
    "max_duration_s": "number",
}
RETRY_FIELDS: Mapping[str, JsonKind] = {
    "max_attempts": "integer",
    "backoff": "string",
    "initial_delay_ms": "integer",
    "max_delay_ms": "integer",
    "jitter": "boolean",
}
# Options only the mock models read (workers/llm/mock.py); they stay in the
# agent's config as extra keys, and may be written as 2000.0.
_MOCK_FIELDS: Mapping[str, JsonKind] = {
    "mock_chunk_delay_ms": "number",
    "mock_latency_ms": "number",
    "mock_failures": "number",
    "mock_failure_status": "number",
}


def check_settings_numbers(
    report: Report, typed: Mapping[str, Any], limits: Limits, where: Where
) -> None:
    report.check_between(typed, "max_concurrency", where, 1, limits.max_concurrency)
    if "budget" not in typed:
        return
    where = where.at("budget")
    budget = report.typed_fields(typed["budget"], _BUDGET_FIELDS, where)
    bounds = {
        "max_total_tokens": limits.max_run_tokens,
        "max_cost_usd": limits.max_run_cost_usd,
        "max_duration_s": limits.max_run_duration_s,
    }
    for key, high in bounds.items():
        report.check_between(budget, key, where, 0, high, low_excluded=True)


def check_agent_numbers(
    report: Report,
    config: Mapping[str, Any],
    typed: Mapping[str, Any],
    limits: Limits,
    where: Where,
) -> None:
    report.check_between(typed, "temperature", where, 0, 2)
    report.check_between(typed, "max_tokens", where, 1, limits.max_agent_tokens)
    report.check_between(typed, "timeout_s", where, 0, limits.max_node_timeout_s, low_excluded=True)
    mock = report.typed_fields(config, _MOCK_FIELDS, where)
    for key in ("mock_chunk_delay_ms", "mock_latency_ms"):
        report.check_between(mock, key, where, 0, limits.max_mock_latency_ms)
    report.check_between(mock, "mock_failures", where, 0, limits.max_retry_attempts)
    report.check_between(mock, "mock_failure_status", where, 400, 599)


def check_retry_numbers(
    report: Report, typed: Mapping[str, Any], limits: Limits, where: Where
) -> None:
    report.check_between(typed, "max_attempts", where, 1, limits.max_retry_attempts)
    for key in ("initial_delay_ms", "max_delay_ms"):
        report.check_between(typed, key, where, 0, limits.max_retry_delay_ms)
    initial, most = typed.get("initial_delay_ms"), typed.get("max_delay_ms")
    if initial is not None and most is not None and initial > most:
        report.error(
            "out_of_range",
            f"initial_delay_ms ({initial:,}) must not be more than max_delay_ms ({most:,})",
            where.at("initial_delay_ms"),
        )
