"""The budget check's one statement sums what ``workspace_spend`` sums, in either database.

``month_cost`` runs at every node transition of a workspace with a budget, so
it is plain SQL; these compare it with the ORM's answer on the cases that
matter: the month's counter, live runs in and out of the month, finished runs
(already in the counter), other workspaces, and the running run left out.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from server.accounts.models import WorkspaceSpend
from server.accounts.services import create_workspace
from server.runs.models import Run, RunState
from server.runs.services import start
from server.runs.spend import month_cost, month_of, over_budget, workspace_spend
from server.workflows import services as workflow_services
from tests.support.documents import chain

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def runs(settings):
    """Five runs of one workspace and one of another, with their costs set."""
    settings.CELERY_BROKER_URL = "memory://"  # nobody runs the nodes: only rows count here
    user = get_user_model().objects.create_user("spender")
    workspace = create_workspace(owner=user, name="spender")
    workspace.max_running_runs = 100
    workspace.save()
    other = create_workspace(owner=user, name="other")
    made = []
    for owner in [workspace] * 5 + [other]:
        workflow = workflow_services.create_workflow(
            user=user, workspace_id=owner.pk, document=chain(1)
        )
        made.append(start.create_run(workflow=workflow, user=user, inputs={}))
    now = timezone.now()
    costs = [0.5, 0.25, 4.0, 8.0, 16.0, 32.0]
    for run, cost in zip(made, costs, strict=True):
        Run.objects.filter(pk=run.pk).update(cost_usd=cost)
    # One finished (counted in WorkspaceSpend, not summed again), one live from last month.
    Run.objects.filter(pk=made[2].pk).update(state=RunState.SUCCEEDED)
    Run.objects.filter(pk=made[3].pk).update(created_at=now - timedelta(days=40))
    WorkspaceSpend.objects.create(workspace=workspace, month=month_of(now), runs=1, cost_usd=4.0)
    return workspace, [Run.objects.get(pk=run.pk) for run in made]


def test_the_statement_sums_what_the_orm_sums(runs):
    workspace, made = runs
    month = month_of(timezone.now())
    # The counter (4.0) and the month's live runs (0.5 + 0.25 + 16.0).
    assert month_cost(workspace.pk, month) == pytest.approx(20.75)
    assert month_cost(workspace.pk, month) == pytest.approx(
        workspace_spend(workspace.pk, month).cost_usd
    )
    left_out = month_cost(workspace.pk, month, exclude_run=made[4].pk)
    assert left_out == pytest.approx(4.75)
    assert left_out == pytest.approx(
        workspace_spend(workspace.pk, month, exclude_run=made[4].pk).cost_usd
    )
    last_month = month_of(timezone.now() - timedelta(days=40))
    assert month_cost(workspace.pk, last_month) == pytest.approx(8.0)
    assert month_cost(workspace.pk, month_of(timezone.now() + timedelta(days=400))) == 0.0


def test_a_running_run_counts_its_own_newest_cost_and_fails_only_past_the_budget(runs):
    workspace, made = runs
    month = month_of(timezone.now())
    running = made[4]
    # Others' 4.75 plus the run's own 16.0 in memory: 20.75.
    assert over_budget(workspace.pk, month, budget=Decimal("20.75"), running=running) is None
    assert "monthly budget" in over_budget(
        workspace.pk, month, budget=Decimal("20.74"), running=running
    )
    running.cost_usd = 17.0  # newer than its row: what the transition holds
    assert over_budget(workspace.pk, month, budget=Decimal("20.75"), running=running) is not None
    # A new run is refused at the budget exactly.
    assert over_budget(workspace.pk, month, budget=Decimal("20.75")) is not None
    assert over_budget(workspace.pk, month, budget=Decimal("20.76")) is None
    assert over_budget(workspace.pk, month, budget=None) is None
