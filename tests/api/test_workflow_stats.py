"""``GET workflows/<id>/stats/``: the figures of a known set of runs, access, and bad input."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from server.accounts.models import Role
from server.runs.models import NodeRun, Run
from server.workflows import services as workflow_services
from tests.support.documents import chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def workflow(owner):
    user, workspace = owner
    return workflow_services.create_workflow(
        user=user, workspace_id=workspace.pk, document=chain(1)
    )


def add_run(workflow, state: str, *, days_ago: int = 0, seconds: float = 1.0, **fields) -> Run:
    now = timezone.now()
    started = now - timedelta(days=days_ago, seconds=seconds)
    run = Run.objects.create(
        workspace=workflow.workspace,
        workflow=workflow,
        version=workflow.versions.get(),
        state=state,
        started_at=started,
        finished_at=now - timedelta(days=days_ago) if state != "running" else None,
        **fields,
    )
    # created_at is auto_now_add: moved back afterwards.
    Run.objects.filter(pk=run.pk).update(created_at=started)
    return run


def add_node(run: Run, node_id: str, seconds: float, node_type: str = "transformer") -> None:
    start = run.started_at
    NodeRun.objects.create(
        run=run,
        node_id=node_id,
        node_type=node_type,
        state="succeeded",
        started_at=start,
        finished_at=start + timedelta(seconds=seconds),
    )


def stats(api, workflow, query: str = ""):
    return api.get(f"/api/v1/workflows/{workflow.pk}/stats/{query}")


def test_figures_of_known_runs(api, workflow):
    for seconds in (1, 2, 3, 4, 100):
        run = add_run(workflow, "succeeded", seconds=seconds, prompt_tokens=10, cost_usd=0.5)
        add_node(run, "n0", seconds / 2)
        add_node(run, "input", 0.01, "input")
    add_run(workflow, "failed", days_ago=2, completion_tokens=7)
    add_run(workflow, "running")
    add_run(workflow, "succeeded", days_ago=40)  # outside the default window

    with CaptureQueriesContext(connection) as queries:
        answer = stats(api, workflow)
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert len(queries) <= 10  # auth, the workflow, and four aggregates
    assert body["runs"] == {
        "queued": 0, "running": 1, "succeeded": 5, "failed": 1, "cancelled": 0, "total": 7,
    }  # fmt: skip
    assert body["success_rate"] == pytest.approx(5 / 6)
    assert body["duration_p50_s"] == pytest.approx(3)
    assert body["duration_p95_s"] == pytest.approx(4 + 0.8 * 96)
    assert (body["prompt_tokens"], body["completion_tokens"]) == (50, 7)
    assert body["cost_usd"] == pytest.approx(2.5)
    assert [n["node_id"] for n in body["slowest_nodes"]] == ["n0", "input"]
    assert body["slowest_nodes"][0]["max_s"] == pytest.approx(50)
    assert body["slowest_nodes"][0]["mean_s"] == pytest.approx(11)
    days = body["per_day"]
    assert len(days) == 30
    assert days[-1]["day"] == timezone.now().date().isoformat()
    assert sum(d["runs"] for d in days) == 7
    assert days[-3] == {"day": days[-3]["day"], "runs": 1, "succeeded": 0, "failed": 1}


def test_a_workflow_without_runs(api, workflow):
    body = stats(api, workflow, "?days=7").json()
    assert body["runs"]["total"] == 0
    assert body["success_rate"] is None
    assert body["duration_p50_s"] is None
    assert body["slowest_nodes"] == []
    assert len(body["per_day"]) == 7


def test_a_viewer_reads_an_outsider_gets_404(workflow, owner, make_member, client_for):
    viewer, _ = make_member("viewer", Role.VIEWER, owner[1])
    outsider, _ = make_member("outsider")
    assert stats(client_for(viewer), workflow).status_code == 200
    assert stats(client_for(outsider), workflow).status_code == 404
    assert stats(client_for(outsider), workflow).json()["code"] == "not_found"


@pytest.mark.parametrize(
    "days", ["0", "366", "-1", "1.5", "NaN", "١٢", "10" * 200, "7\x00", "", "1e2", " 7"]
)
def test_bad_days_are_a_400(api, workflow, days):
    answer = api.get(f"/api/v1/workflows/{workflow.pk}/stats/", {"days": days})
    assert answer.status_code == 400, answer.content
    assert "days" in str(answer.json())


def test_an_unknown_workflow_is_a_404(api):
    answer = api.get("/api/v1/workflows/00000000-0000-0000-0000-000000000000/stats/")
    assert answer.status_code == 404
