"""What runs used (tokens, cost), per run, workflow and workspace, per calendar month.

A run's spend belongs to the calendar month (UTC) it was created in. A
workspace's month is its finished runs' counter (``WorkspaceSpend``, added to
in the transaction that ends a run) plus the runs still queued or running: a
handful, found through the (workspace, state) index. So a budget check is one
statement of two small reads however many runs the month had (none for a
workspace without a budget, whose absence a worker remembers for a second), and
deleting old runs or workflows gives no budget back. A workflow's spend is
summed from its runs.
"""

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

from django.db import connection
from django.db.models import Count, F, Field, QuerySet, Sum

from server.accounts.models import Workspace, WorkspaceSpend
from server.runs.models import Run, RunState

_LIVE = (RunState.QUEUED, RunState.RUNNING)
# The most workflows a workspace's spend answer lists (the costliest first).
TOP_WORKFLOWS = 20


@dataclass(frozen=True)
class Spend:
    runs: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: "Spend") -> "Spend":
        return Spend(
            self.runs + other.runs,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cost_usd + other.cost_usd,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "cost_usd": self.cost_usd,
        }


def month_of(moment: datetime) -> date:
    """The first day of the UTC calendar month ``moment`` is in."""
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def _prep(model: type[Any], name: str, value: Any) -> Any:
    field = cast("Field[Any, Any]", model._meta.get_field(name))
    return field.get_db_prep_value(value, connection)


def _month_range(month: date) -> tuple[datetime, datetime]:
    following = (month.year + month.month // 12, month.month % 12 + 1)
    return (
        datetime(month.year, month.month, 1, tzinfo=UTC),
        datetime(*following, 1, tzinfo=UTC),
    )


def _spend(rows: QuerySet[Any], runs: Count | Sum) -> Spend:
    """The totals of ``rows``: runs (rows of Run) or the finished months (WorkspaceSpend)."""
    totals = rows.aggregate(
        runs=runs,
        prompt_tokens=Sum("prompt_tokens"),
        completion_tokens=Sum("completion_tokens"),
        cost_usd=Sum("cost_usd"),
    )
    return Spend(
        totals["runs"] or 0,
        totals["prompt_tokens"] or 0,
        totals["completion_tokens"] or 0,
        totals["cost_usd"] or 0.0,
    )


def workspace_spend(
    workspace_id: uuid.UUID, month: date | None = None, *, exclude_run: Any = None
) -> Spend:
    """The workspace's spend in ``month`` (``None``: ever), live runs included."""
    finished = WorkspaceSpend.objects.filter(workspace_id=workspace_id)
    live = Run.objects.filter(workspace_id=workspace_id, state__in=_LIVE)
    if month is not None:
        start, end = _month_range(month)
        finished = finished.filter(month=month)
        live = live.filter(created_at__gte=start, created_at__lt=end)
    if exclude_run is not None:
        live = live.exclude(pk=exclude_run)
    return _spend(finished, Sum("runs")) + _spend(live, Count("pk"))


def workflow_spend(workflow_id: uuid.UUID, month: date | None = None) -> Spend:
    """The spend of the workflow's runs that still exist, in ``month`` (``None``: ever)."""
    runs = Run.objects.filter(workflow_id=workflow_id)
    if month is not None:
        start, end = _month_range(month)
        runs = runs.filter(created_at__gte=start, created_at__lt=end)
    return _spend(runs, Count("pk"))


def top_workflows(workspace_id: uuid.UUID, month: date) -> list[dict[str, Any]]:
    """The workspace's costliest workflows of the month, at most ``TOP_WORKFLOWS``."""
    start, end = _month_range(month)
    rows = (
        Run.objects.filter(workspace_id=workspace_id, created_at__gte=start, created_at__lt=end)
        .values("workflow_id", name=F("workflow__name"))
        .annotate(
            runs=Count("pk"),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            cost_usd=Sum("cost_usd"),
        )
        .order_by("-cost_usd", "workflow_id")[:TOP_WORKFLOWS]
    )
    return [
        {
            "id": row["workflow_id"],
            "name": row["name"],
            **Spend(
                row["runs"], row["prompt_tokens"], row["completion_tokens"], row["cost_usd"]
            ).as_dict(),
        }
        for row in rows
    ]


def month_cost(workspace_id: uuid.UUID, month: date, *, exclude_run: Any = None) -> float:
    """The workspace's cost in ``month``, live runs included (``workspace_spend``'s), in one query.

    Every node transition of a workspace with a budget asks this, under its
    run's lock, so it is plain SQL (the subset PostgreSQL and SQLite share):
    the two ORM aggregates it replaces took about eight times as long, mostly
    in Python (bench/spend_bench.py).
    """
    start, end = _month_range(month)
    live = [_prep(Run, "workspace", workspace_id), *(state.value for state in _LIVE)]
    live += [_prep(Run, "created_at", start), _prep(Run, "created_at", end)]
    other_runs = ""
    if exclude_run is not None:
        other_runs = " AND id <> %s"
        live.append(_prep(Run, "id", exclude_run))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE((SELECT cost_usd FROM"
            f" {WorkspaceSpend._meta.db_table} WHERE workspace_id = %s AND month = %s), 0)"
            f" + COALESCE((SELECT SUM(cost_usd) FROM {Run._meta.db_table} WHERE workspace_id = %s"
            " AND state IN (%s, %s) AND created_at >= %s AND created_at < %s"
            f"{other_runs}), 0)",
            [
                _prep(WorkspaceSpend, "workspace", workspace_id),
                _prep(WorkspaceSpend, "month", month),
                *live,
            ],
        )
        (cost,) = cursor.fetchone()
    return float(cost)


def over_budget(
    workspace_id: uuid.UUID, month: date, *, budget: Decimal | None, running: Run | None = None
) -> str | None:
    """Why the workspace may spend no more this month, or None.

    For a new run (``running`` None) spending the budget exactly is already the
    end; a running run, whose own cost is newer than its row, fails only past it,
    as a run's own budgets do.
    """
    if budget is None:
        return None
    if running is None:
        spent = month_cost(workspace_id, month)
        if spent < budget:
            return None
    else:
        spent = month_cost(workspace_id, month, exclude_run=running.pk) + running.cost_usd
        if spent <= budget:
            return None
    return (
        f"the workspace's monthly budget is spent: ${spent:,.4f} of ${budget:,.2f} in {month:%Y-%m}"
    )


# How long a worker trusts the budget it read: every node transition asks, and
# a budget changes seldom. A change reaches running runs within this time.
BUDGET_MEMO_S = 1.0
_budgets: dict[uuid.UUID, tuple[float, Decimal | None]] = {}


def workspace_budget(workspace_id: uuid.UUID) -> Decimal | None:
    """The workspace's monthly budget, read at most once a second per process."""
    now = time.monotonic()
    memo = _budgets.get(workspace_id)
    if memo is not None and now - memo[0] < BUDGET_MEMO_S:
        return memo[1]
    budget: Decimal | None = (
        Workspace.objects.filter(pk=workspace_id)
        .values_list("monthly_budget_usd", flat=True)
        .first()
    )
    _budgets[workspace_id] = (now, budget)
    return budget


def count_finished_runs(runs: list[Run]) -> None:
    """Add ending runs to their months' counters; in the transaction that ends them.

    One statement, the runs of one workspace and month summed first (an
    upsert cannot touch a row twice): the counter's row is locked from here to
    the commit, so the callers count last, after every run lock they take.
    """
    counts: dict[tuple[uuid.UUID, date], list[Any]] = {}
    for run in runs:
        count = counts.setdefault((run.workspace_id, month_of(run.created_at)), [0, 0, 0, 0])
        count[0] += 1
        count[1] += run.prompt_tokens
        count[2] += run.completion_tokens
        count[3] += run.cost_usd
    if not counts:
        return
    table = WorkspaceSpend._meta.db_table
    values = [
        value
        for (workspace_id, month), count in counts.items()
        for value in (
            _prep(WorkspaceSpend, "workspace", workspace_id),
            _prep(WorkspaceSpend, "month", month),
            *count,
        )
    ]
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(counts))
    # No lost update when runs of the month end at once in other transactions.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, month, runs, prompt_tokens, completion_tokens,"
            f" cost_usd) VALUES {rows}"
            " ON CONFLICT (workspace_id, month) DO UPDATE SET"
            f" runs = {table}.runs + excluded.runs,"
            f" prompt_tokens = {table}.prompt_tokens + excluded.prompt_tokens,"
            f" completion_tokens = {table}.completion_tokens + excluded.completion_tokens,"
            f" cost_usd = {table}.cost_usd + excluded.cost_usd",
            values,
        )
