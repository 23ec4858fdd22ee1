"""Spend per run, workflow and workspace (by calendar month), and the workspace's monthly budget.

Runs use the mock models, whose nominal price exercises the whole path: a real
worker process runs them, the counters are kept as they end, and the API sums.
"""

import pytest

from server.accounts.models import WorkspaceSpend
from server.runs.models import NodeRun, Run, RunEvent
from tests.support.documents import chain
from tests.support.runs import wait_for_run
from workers.llm.mock import MOCK_COST_PER_TOKEN

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker")]

# Long enough that one agent's answer costs more than the smallest budget ($0.0001).
PROMPT = "Summarise the history of weaving looms in detail. " * 20


def agents(count: int, **config) -> dict:
    config.setdefault("prompt", PROMPT)
    config.setdefault("model", "mock/echo")
    return chain(count, node_type="researcher", **config)


@pytest.fixture
def workspace_url(owner) -> str:
    return f"/api/v1/workspaces/{owner[1].pk}/"


def save(api, doc: dict) -> str:
    answer = api.post("/api/v1/workflows/", {"document": doc}, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["problems"] == []
    return answer.json()["id"]


def start(api, workflow_id: str):
    return api.post(f"/api/v1/workflows/{workflow_id}/runs/", {"inputs": {}}, format="json")


def run_to_end(api, workflow_id: str) -> Run:
    answer = start(api, workflow_id)
    assert answer.status_code == 202, answer.json()
    return wait_for_run(answer.json()["id"])


def set_budget(api, workspace_url: str, usd) -> None:
    answer = api.patch(workspace_url, {"monthly_budget_usd": usd}, format="json")
    assert answer.status_code == 200, answer.json()


def test_spend_per_run_workflow_and_workspace(api, workspace_url):
    first = save(api, agents(2))
    second = save(api, agents(1))
    runs = [run_to_end(api, first), run_to_end(api, first), run_to_end(api, second)]
    assert {run.state for run in runs} == {"succeeded"}
    input_cost, output_cost = MOCK_COST_PER_TOKEN
    for run in runs:
        nodes = NodeRun.objects.filter(run=run, node_type="researcher")
        assert run.cost_usd > 0
        assert run.prompt_tokens == sum(n.prompt_tokens for n in nodes)
        assert run.cost_usd == pytest.approx(
            run.prompt_tokens * input_cost + run.completion_tokens * output_cost
        )
        shown = api.get(f"/api/v1/runs/{run.pk}/").json()
        assert shown["cost_usd"] == pytest.approx(run.cost_usd)

    month = runs[0].created_at.strftime("%Y-%m")
    workflow = api.get(f"/api/v1/workflows/{first}/spend/", {"month": month}).json()
    assert workflow["month"] == month
    assert workflow["spend"]["runs"] == 2
    assert workflow["spend"]["cost_usd"] == pytest.approx(runs[0].cost_usd + runs[1].cost_usd)
    assert workflow["spend"]["total_tokens"] == sum(
        r.prompt_tokens + r.completion_tokens for r in runs[:2]
    )
    assert workflow["all_time"] == workflow["spend"]

    workspace = api.get(f"{workspace_url}spend/").json()
    assert workspace["month"] == month
    assert workspace["spend"]["runs"] == 3
    assert workspace["spend"]["cost_usd"] == pytest.approx(sum(r.cost_usd for r in runs))
    assert workspace["spend"]["prompt_tokens"] == sum(r.prompt_tokens for r in runs)
    assert [w["id"] for w in workspace["workflows"]] == [first, second]
    assert workspace["workflows"][0]["runs"] == 2
    # Another month has nothing; all time has everything.
    assert api.get(f"{workspace_url}spend/", {"month": "2001-01"}).json()["spend"]["runs"] == 0
    assert workspace["all_time"] == workspace["spend"]

    # The counter holds what the runs used; deleting a workflow gives no budget back.
    counted = WorkspaceSpend.objects.get()
    assert (counted.runs, counted.prompt_tokens) == (3, sum(r.prompt_tokens for r in runs))
    assert api.delete(f"/api/v1/workflows/{first}/").status_code == 204
    after = api.get(f"{workspace_url}spend/").json()
    assert after["spend"]["cost_usd"] == pytest.approx(workspace["spend"]["cost_usd"])
    assert [w["id"] for w in after["workflows"]] == [second]


def test_new_runs_past_the_budget_are_refused(api, workspace_url):
    workflow = save(api, agents(1))
    spent = run_to_end(api, workflow)
    assert spent.cost_usd > 0.0001
    set_budget(api, workspace_url, 0.0001)
    runs_before, events_before = Run.objects.count(), RunEvent.objects.count()
    refused = start(api, workflow)
    assert refused.status_code == 402
    assert refused.json()["code"] == "budget_exceeded"
    assert "monthly budget" in refused.json()["message"]
    assert (Run.objects.count(), RunEvent.objects.count()) == (runs_before, events_before)
    shown = api.get(f"{workspace_url}spend/").json()
    assert shown["remaining_usd"] == 0
    # A larger budget lets runs start again.
    set_budget(api, workspace_url, 1)
    assert run_to_end(api, workflow).state == "succeeded"
    set_budget(api, workspace_url, None)
    assert run_to_end(api, workflow).state == "succeeded"


def test_a_running_run_fails_at_its_next_step_past_the_budget(api, workspace_url):
    workflow = save(api, agents(3))
    set_budget(api, workspace_url, 0.0001)
    run = run_to_end(api, workflow)
    assert run.state == "failed"
    assert run.error["code"] == "budget_exceeded"
    assert "monthly budget" in run.error["message"]
    states = dict(NodeRun.objects.filter(run=run).values_list("node_id", "state"))
    assert states["n0"] == "succeeded"
    assert (states["n1"], states["n2"]) == ("cancelled", "cancelled")
    counted = WorkspaceSpend.objects.get()
    assert (counted.runs, counted.cost_usd) == (1, pytest.approx(run.cost_usd))


def test_a_queued_run_started_past_the_budget_fails(api, workspace_url):
    assert api.patch(workspace_url, {"max_running_runs": 1}, format="json").status_code == 200
    slow = save(api, agents(2, model="mock/slow", mock_latency_ms=1500))
    quick = save(api, agents(1))
    set_budget(api, workspace_url, 0.0001)
    first = start(api, slow).json()
    waiting = start(api, quick)
    assert waiting.status_code == 202
    assert waiting.json()["state"] == "queued"
    assert wait_for_run(first["id"]).error["code"] == "budget_exceeded"
    ended = wait_for_run(waiting.json()["id"])
    assert ended.state == "failed"
    assert ended.error["code"] == "budget_exceeded"
    assert ended.started_at is None
    assert not NodeRun.objects.filter(run=ended).exclude(state="cancelled").exists()
