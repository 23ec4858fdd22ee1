"""A workflow's run statistics over its last days (``GET workflows/<id>/stats/``).

Four aggregate queries, whatever the number of runs: totals by state, the
duration percentiles, runs per day and the slowest nodes. Each reads the
window's runs through the (workflow, created_at) index, and node runs
through (run, state).
"""

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Extract, TruncDate

from server.runs.models import TERMINAL_RUN_STATES, NodeRun, NodeState, Run, RunState

DEFAULT_DAYS = 30
MAX_DAYS = 365
SLOWEST_NODES = 5


class _Percentile(Aggregate):
    """Postgres' ``percentile_cont``: the value below which the fraction ``p`` of rows lie."""

    function = "percentile_cont"
    template = "%(function)s(%(p)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, p: float) -> None:
        super().__init__(expression, p=p)


def _seconds(start: str, end: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _duration_percentiles(runs: QuerySet[Run]) -> tuple[float | None, float | None]:
    succeeded = runs.filter(state=RunState.SUCCEEDED, started_at__isnull=False)
    if connection.vendor == "postgresql":
        seconds = Extract(_seconds("started_at", "finished_at"), "epoch")
        found = succeeded.aggregate(p50=_Percentile(seconds, 0.5), p95=_Percentile(seconds, 0.95))
        return found["p50"], found["p95"]
    # The embedded SQLite has no percentile_cont; it holds one user's runs.
    values = sorted(
        (finished - started).total_seconds()
        for started, finished in succeeded.values_list("started_at", "finished_at")
        if started and finished
    )
    return _interpolated(values, 0.5), _interpolated(values, 0.95)


def _interpolated(values: list[float], p: float) -> float | None:
    if not values:
        return None
    rank = p * (len(values) - 1)
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


def _per_day(runs: QuerySet[Run], first: date, days: int) -> list[dict[str, Any]]:
    rows = (
        runs.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            runs=Count("pk"),
            succeeded=Count("pk", filter=Q(state=RunState.SUCCEEDED)),
            failed=Count("pk", filter=Q(state=RunState.FAILED)),
        )
    )
    counted: dict[date, dict[str, Any]] = {row["day"]: dict(row) for row in rows}
    answer = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row: dict[str, Any] = counted.get(day, {})
        answer.append(
            {
                "day": day.isoformat(),
                "runs": row.get("runs", 0),
                "succeeded": row.get("succeeded", 0),
                "failed": row.get("failed", 0),
            }
        )
    return answer


def _slowest_nodes(runs: QuerySet[Run]) -> list[dict[str, Any]]:
    duration = _seconds("started_at", "finished_at")
    rows = (
        NodeRun.objects.filter(
            run__in=runs.values("pk"), state=NodeState.SUCCEEDED, started_at__isnull=False
        )
        .values("node_id", "node_type")
        .annotate(runs=Count("pk"), mean=Avg(duration), longest=Max(duration))
        .order_by("-mean", "node_id")[:SLOWEST_NODES]
    )
    return [
        {
            "node_id": row["node_id"],
            "node_type": row["node_type"],
            "runs": row["runs"],
            "mean_s": row["mean"].total_seconds(),
            "max_s": row["longest"].total_seconds(),
        }
        for row in rows
    ]


def workflow_stats(workflow_id: uuid.UUID, days: int, now: datetime) -> dict[str, Any]:
    """Runs created in the last ``days`` days (today, in UTC, is the last), summarised."""
    first = now.date() - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    runs = Run.objects.filter(workflow_id=workflow_id, created_at__gte=since)
    by_state = dict.fromkeys(RunState.values, 0)
    totals = {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}
    for row in runs.values("state").annotate(
        n=Count("pk"),
        prompt=Sum("prompt_tokens"),
        completion=Sum("completion_tokens"),
        cost=Sum("cost_usd"),
    ):
        by_state[row["state"]] = row["n"]
        totals["prompt_tokens"] += row["prompt"] or 0
        totals["completion_tokens"] += row["completion"] or 0
        totals["cost_usd"] += row["cost"] or 0.0
    finished = sum(by_state[state] for state in TERMINAL_RUN_STATES)
    p50, p95 = _duration_percentiles(runs)
    return {
        "workflow": workflow_id,
        "days": days,
        "since": since,
        "runs": {**by_state, "total": sum(by_state.values())},
        "success_rate": by_state[RunState.SUCCEEDED] / finished if finished else None,
        "duration_p50_s": p50,
        "duration_p95_s": p95,
        **totals,
        "slowest_nodes": _slowest_nodes(runs),
        "per_day": _per_day(runs, first, days),
    }
