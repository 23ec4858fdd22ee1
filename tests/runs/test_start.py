"""A new run's one INSERT leaves exactly what the general start leaves.

When a new run starts at once, ``start._start_new`` writes its roots queued in
the INSERT itself; when a root waits for a person, ``start._start`` inserts the
run queued and starts it by UPDATEs (``readiness.mark_ready``). Forcing the
second way for graphs the first one takes, both must give the same run row,
node rows, events and tasks. The API's answer is built from the rows just
written, so it must match what a read gives.
"""

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from server.accounts.services import create_workspace
from server.runs.models import NodeRun, Run, RunEvent
from server.runs.selectors import node_counts
from server.runs.services import start
from server.workflows import services as workflow_services
from server.workflows.models import Workflow
from tests.support.documents import agent, document, edge, node

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nobody_consumes(settings) -> None:
    settings.CELERY_BROKER_URL = "memory://"


def _workflow(doc: dict[str, Any]) -> Workflow:
    user = get_user_model().objects.create_user("starter")
    workspace = create_workspace(owner=user, name="Start")
    return workflow_services.create_workflow(user=user, workspace_id=workspace.pk, document=doc)


def _written(run: Run) -> dict[str, Any]:
    """The run as stored, with its times as offsets from its start."""
    run.refresh_from_db()
    began = run.started_at
    assert began is not None
    return {
        "run": (
            run.state,
            run.active_nodes,
            run.waiting_nodes,
            run.unfinished_nodes,
            run.next_seq,
            run.max_concurrency,
            run.deadline_at - began if run.deadline_at else None,
        ),
        "nodes": [
            (
                n.node_id,
                n.node_type,
                n.state,
                n.attempt,
                n.unresolved_edges,
                n.taken_edges,
                n.queued_at == began if n.queued_at else None,
                n.dispatched_at == began if n.dispatched_at else None,
            )
            for n in NodeRun.objects.filter(run=run).order_by("id")
        ],
        "events": list(
            RunEvent.objects.filter(run=run)
            .order_by("seq")
            .values_list("seq", "type", "node_id", "data")
        ),
    }


GRAPHS = {
    "chain": document(
        [node("input", "input"), node("shape", expression="'x'"), node("output", "output")],
        [edge("input", "shape"), edge("shape", "output")],
    ),
    # Three roots, two slots: the third waits queued without a dispatch.
    "roots over the cap": document(
        [
            node("a", expression="1"),
            agent("b"),
            node("c", expression="3"),
            node("output", "output"),
        ],
        [edge("a", "output"), edge("b", "output"), edge("c", "output")],
        max_concurrency=2,
    ),
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_one_insert_writes_what_the_general_start_writes(
    name, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    workflow = _workflow(GRAPHS[name])
    sent: list[list[Any]] = []
    monkeypatch.setattr(start, "send_node_tasks", lambda tasks: sent.append(list(tasks)))
    written = []
    for general in (False, True):
        if general:
            monkeypatch.setattr(start, "_startable_new", lambda graph: False)
        with django_capture_on_commit_callbacks(execute=True):
            new = start.start_run(workflow=workflow, user=None, inputs={})
        assert (new.node_counts is None) == general
        if not general:
            assert new.node_counts == node_counts([new.run.pk])[new.run.pk]
        written.append(_written(new.run))
    assert written[0] == written[1]
    assert [[(t.node_id, t.pool) for t in tasks] for tasks in sent[:1]] == [
        [(t.node_id, t.pool) for t in tasks] for tasks in sent[1:]
    ]
    assert written[0]["run"][0] == "running"


def test_the_api_answers_with_the_rows_it_wrote(api) -> None:
    doc = GRAPHS["roots over the cap"]
    workflow = api.post("/api/v1/workflows/", {"document": doc}, format="json").json()["id"]
    answer = api.post(f"/api/v1/workflows/{workflow}/runs/", {"inputs": {}}, format="json")
    assert answer.status_code == 202, answer.content
    body = answer.json()
    run = Run.objects.get(pk=body["id"])
    assert body["node_counts"] == {"queued": 3, "pending": 1}
    assert body["node_counts"] == node_counts([run.pk])[run.pk]
    assert (body["state"], body["last_seq"]) == (run.state, run.last_seq) == ("running", 5)
