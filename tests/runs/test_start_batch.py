"""Runs started together (``start.start_runs``, a map's children): one INSERT, one admission.

The first runs that fit under the workspace's cap start in the transaction
that creates them; the rest are written ``queued``, oldest first in request
order, so the admission pass starts them in that order.
"""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from server.accounts.models import Workspace
from server.accounts.services import create_workspace
from server.runs.models import Run
from server.runs.services import start
from server.workflows import services as workflow_services
from tests.support.documents import document, node

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nobody_consumes(settings) -> None:
    settings.CELERY_BROKER_URL = "memory://"


def test_a_batch_is_one_insert_and_what_the_cap_leaves_out_waits_in_order(
    monkeypatch, django_capture_on_commit_callbacks
) -> None:
    user = get_user_model().objects.create_user("batcher")
    workspace = create_workspace(owner=user, name="Batch")
    Workspace.objects.filter(pk=workspace.pk).update(max_running_runs=2)
    doc = document(
        [node("out", "output", expression="run.item")],
        inputs={"item": {"type": "number", "required": True}},
    )
    workflow = workflow_services.create_workflow(user=user, workspace_id=workspace.pk, document=doc)
    published: list[list[Any]] = []
    monkeypatch.setattr(start, "send_node_tasks", lambda tasks: published.append(list(tasks)))
    requests = [start.RunRequest({"item": item}) for item in range(5)]
    with (
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as queries,
    ):
        new = start.start_runs(workflow=workflow, user=user, requests=requests)
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    assert len(inserts) == 1, inserts
    assert [n.run.state for n in new] == ["running", "running", "queued", "queued", "queued"]
    waiting = Run.objects.filter(workspace_id=workspace.pk, state="queued").order_by("created_at")
    assert [r.inputs["item"] for r in waiting] == [2, 3, 4]
    assert [len(tasks) for tasks in published] == [2]
