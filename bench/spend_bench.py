"""What a workspace's monthly budget costs each node transition.

Usage: .venv/bin/python -m bench.spend_bench [--nodes 100] [--runs 5] [--checks 2000]

Every node's end asks whether its run's workspace has spent its month's budget
(server/runs/services/finishing.py, ``enforce_budget``), so a running run fails
at its next step. This runs chains of no-op transformers in this process, on
Postgres, exactly as a worker would (``run_node``: claim, compute, record, route,
check), in a workspace without a budget and in one with a budget it stays
under, and prints the median time per node of each, side by side; then the
budget check alone, inside a run's transition, as it is called there, beside
the same month's cost read by two ORM aggregates, as the check did before. Each
workspace has a month of finished runs (its counter row) and 20 live runs whose
cost the check sums. Node tasks go to an in-memory broker nobody consumes:
this process is every worker, so the figure is the transition's own cost.
"""

import argparse
import os
import statistics
import time
from typing import Any

# A database of its own (the harness drops and recreates it), read at import.
os.environ.setdefault("AGENTLOOM_BENCH_DB", "agentloom_bench_spend")
os.environ["CELERY_BROKER_URL"] = "memory://"

from bench.harness import deployment, percentile

LIVE_RUNS = 20


def _ms(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.3f} ms, p95 {percentile(values, 95):.3f} ms"
        f" (n={len(values)})"
    )


def _workspace(user: Any, name: str, budget: str | None) -> Any:
    """A workspace with a month of spend and its live runs."""
    from decimal import Decimal

    from django.utils import timezone

    from server.accounts.models import WorkspaceSpend
    from server.accounts.services import create_workspace
    from server.runs.models import Run
    from server.runs.services.start import create_run
    from server.runs.spend import month_of
    from server.workflows.services import create_workflow
    from tests.support.documents import chain

    workspace = create_workspace(owner=user, name=name)
    workspace.max_running_runs = 10_000
    workspace.monthly_budget_usd = Decimal(budget) if budget is not None else None
    workspace.save()
    WorkspaceSpend.objects.create(
        workspace=workspace, month=month_of(timezone.now()), runs=5000, cost_usd=12.5
    )
    idle = create_workflow(user=user, workspace_id=workspace.pk, document=chain(1))
    for _ in range(LIVE_RUNS):
        live = create_run(workflow=idle, user=user, inputs={})
        Run.objects.filter(pk=live.pk).update(cost_usd=0.01)
    return workspace


def _per_node(user: Any, workflow_doc: dict[str, Any], workspace: Any, runs: int) -> list[float]:
    from server.runs.models import Run
    from server.runs.services.start import create_run
    from server.workflows.services import create_workflow
    from workers.runtime.node_runner import run_node

    workflow = create_workflow(user=user, workspace_id=workspace.pk, document=workflow_doc)
    order = [node["id"] for node in workflow_doc["nodes"]]
    timings = []
    for _ in range(runs):
        run = create_run(workflow=workflow, user=user, inputs={})
        for node_id in order:
            started = time.perf_counter()
            run_node(str(run.pk), node_id, worker="bench")
            timings.append((time.perf_counter() - started) * 1000)
        state = Run.objects.get(pk=run.pk).state
        assert state == "succeeded", state
    return timings


def _check_alone(workspace: Any, checks: int, *, orm: bool = False) -> list[float]:
    """``workspace_over_budget`` in a live run's transition, as ``enforce_budget`` calls it.

    ``orm``: the month's cost read as it was before ``month_cost``, with the
    API's two ORM aggregates (``workspace_spend``), for the side by side.
    """
    from server.runs.models import Run, RunState
    from server.runs.services.finishing import workspace_over_budget
    from server.runs.services.start import transition
    from server.runs.spend import month_of, workspace_spend

    run = Run.objects.filter(workspace=workspace, state=RunState.RUNNING).first()
    assert run is not None
    timings = []
    with transition(run.pk) as journal:
        for _ in range(checks):
            started = time.perf_counter()
            if orm:
                month = month_of(journal.run.created_at)
                spent = workspace_spend(workspace.pk, month, exclude_run=run.pk).cost_usd
                assert spent + journal.run.cost_usd <= workspace.monthly_budget_usd
            else:
                assert workspace_over_budget(journal.run) is None
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--checks", type=int, default=2000)
    args = parser.parse_args()
    bench = deployment()
    from django.contrib.auth import get_user_model

    from tests.support.documents import chain

    user = get_user_model().objects.get(pk=bench.user_id)
    cases = {
        "no budget": _workspace(user, "no budget", None),
        "with a budget": _workspace(user, "budget", "1000000"),
    }
    doc = chain(args.nodes, expression="'done'")
    for workspace in cases.values():  # warm: the pinned graph, the ORM, the connection
        _per_node(user, doc, workspace, 1)
    per_node = {label: [] for label in cases}
    for _ in range(args.runs):  # interleaved, so a slow moment of the machine hits both
        for label, workspace in cases.items():
            per_node[label] += _per_node(user, doc, workspace, 1)
    for label, timings in per_node.items():
        print(f"per node, {label:14} {_ms(timings)}")
    for label, workspace in cases.items():
        print(f"check alone, {label:14} {_ms(_check_alone(workspace, args.checks))}")
    orm = _check_alone(cases["with a budget"], args.checks, orm=True)
    print(f"  the same month's cost by two ORM aggregates (before) {_ms(orm)}")


if __name__ == "__main__":
    main()
