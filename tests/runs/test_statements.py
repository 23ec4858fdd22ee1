"""The hot-path SQL on both databases: wide steps that exceed one statement's parameters."""

import pytest
from django.contrib.auth import get_user_model

from server.accounts.services import create_workspace
from server.runs.models import NodeRun, RunEvent
from server.runs.services import start
from server.workflows import services as workflow_services
from tests.support.documents import fan_out
from workers.runtime.node_runner import run_node

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_4998_wide_fan_out_step_is_written_in_chunks(settings):
    # Run in this process, node by node, so only the statements are under test.
    settings.CELERY_BROKER_URL = "memory://"
    user = get_user_model().objects.create_user("wide")
    workspace = create_workspace(owner=user, name="wide")
    workflow = workflow_services.create_workflow(
        user=user, workspace_id=workspace.pk, document=fan_out(4998, expression="1")
    )
    run = start.create_run(workflow=workflow, user=user, inputs={})
    run_node(str(run.pk), "input", worker="test")
    assert NodeRun.objects.filter(run=run, state="queued").count() == 4998
    handoffs = RunEvent.objects.filter(run=run, type="edge.handoff").count()
    queued = RunEvent.objects.filter(run=run, type="node.queued").count()
    assert (handoffs, queued) == (4998, 4999)
    seqs = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    run_node(str(run.pk), "w0", worker="test")
    assert NodeRun.objects.get(run=run, node_id="output").unresolved_edges == 4997
