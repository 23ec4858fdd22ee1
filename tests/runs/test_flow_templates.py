"""The built-in control-flow templates, instantiated and run on `mock/*` with a real worker.

Instantiating makes the child workflows first (in the same workspace, all or
none); the loop stops when its reviewer's verdict approves, within 3 rounds;
the map researches every item in its own child run, in the list's order.
"""

import pytest

from server.runs.models import Run, RunState
from server.workflow_templates.models import Template
from server.workflow_templates.services import load_builtin_templates
from server.workflows.models import Workflow
from tests.support.runs import assert_log_is_sound, wait_for_run

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _built_ins():
    load_builtin_templates()


def instantiate(api, key: str) -> dict:
    template = Template.objects.get(key=key)
    response = api.post(f"/api/v1/templates/{template.pk}/instantiate/", {}, format="json")
    assert response.status_code == 201, response.content
    assert [p for p in response.json()["problems"] if p["severity"] == "error"] == []
    return response.json()


def run(api, workflow: dict, inputs: dict) -> Run:
    response = api.post(
        f"/api/v1/workflows/{workflow['id']}/runs/", {"inputs": inputs}, format="json"
    )
    assert response.status_code == 202, response.content
    return wait_for_run(response.json()["id"], timeout=90)


def test_instantiating_makes_the_child_first_and_names_it_by_id(api, owner):
    workflow = instantiate(api, "coder-reviewer-loop")
    [rounds] = [n for n in workflow["document"]["nodes"] if n["id"] == "rounds"]
    child = Workflow.objects.get(pk=rounds["data"]["config"]["workflow"])
    assert child.workspace_id == owner[1].pk
    assert child.name == "Code round"
    assert Workflow.objects.filter(workspace_id=owner[1].pk).count() == 2


def test_a_failed_instantiation_leaves_no_child_behind(api, owner):
    template = Template.objects.get(key="research-each-item")
    response = api.post(
        f"/api/v1/templates/{template.pk}/instantiate/",
        {"variables": {"model": "no-such/model"}},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert not Workflow.objects.filter(workspace_id=owner[1].pk).exists()


def test_the_coder_reviewer_loop_goes_back_once_then_approves(api, worker):
    finished = run(api, instantiate(api, "coder-reviewer-loop"), {"task": "reverse a list"})
    assert finished.state == RunState.SUCCEEDED, finished.error
    rounds = list(Run.objects.filter(parent_run=finished).order_by("parent_step"))
    # Round 1's draft has no tests and the reviewer asks for them; round 2's has.
    assert [child.output["round"]["approved"] for child in rounds] == [False, True]
    assert "tests" in rounds[0].output["round"]["review"]
    assert finished.output["output"]["approved"] is True
    assert_log_is_sound(finished.pk)


def test_the_map_researches_each_item_in_order_then_summarises(api, worker):
    topics = ["tides", "bees", "looms", "comets", "moss"]
    finished = run(api, instantiate(api, "research-each-item"), {"topics": topics})
    assert finished.state == RunState.SUCCEEDED, finished.error
    output = finished.output["output"]
    assert [finding["item"] for finding in output["findings"]] == topics
    assert Run.objects.filter(parent_run=finished, state=RunState.SUCCEEDED).count() == len(topics)
    summary = output["summary"]
    assert all(topic in summary for topic in topics)
    assert summary.index("tides") < summary.index("moss")
    assert_log_is_sound(finished.pk)
