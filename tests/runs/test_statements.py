"""The hot-path SQL: wide steps, and new rows that read back exactly as written."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from server.accounts.services import create_workspace
from server.runs import inserts
from server.runs.models import NodeRun, Run, RunEvent
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


# Values a batch's rows carry as text through the JSON of the PostgreSQL insert.
AWKWARD = {
    "quotes": 'it\'s "quoted" \\ back\\slash',
    "controls": "tab\tnewline\nreturn\r bell\x07 line separator\u2028",
    "scripts": "☃ \U0001d7d8 日本語 ١٢٣ e\u0301",
    "big": 10**30,
    "tiny": -1.5e-300,
    "nested": [[[]], {"null": None, "false": False}],
    "empty": "",
}


def test_a_batch_of_new_runs_reads_back_exactly_as_written():
    user = get_user_model().objects.create_user("exact")
    workspace = create_workspace(owner=user, name="exact")
    workflow = workflow_services.create_workflow(
        user=user, workspace_id=workspace.pk, document=fan_out(2, expression="1")
    )
    version = workflow.versions.get()
    now = timezone.now().replace(microsecond=123456)
    runs = [
        Run(
            workspace_id=workspace.pk,
            workflow=workflow,
            version=version,
            inputs={**AWKWARD, "index": index},
            parent_node="n'; DROP TABLE runs_run; --",
            triggered_by=user,
            created_at=now + timedelta(microseconds=index),
        )
        for index in range(3)
    ]
    nodes = [
        NodeRun(run=run, node_id=f"ñode-{index}", node_type="transformer", output=AWKWARD)
        for run in runs
        for index in range(2)
    ]
    events = [
        RunEvent(run=run, seq=1, ts=now, type="run.queued", node_id="", data=AWKWARD)
        for run in runs
    ]
    inserts.insert_new_runs(runs, nodes, events)

    for run in runs:
        stored = Run.objects.get(pk=run.pk)
        assert stored.inputs == run.inputs
        assert (stored.parent_node, stored.created_at) == (run.parent_node, run.created_at)
        assert (stored.state, stored.triggered_by_id, stored.output) == ("queued", user.pk, None)
    stored_nodes = NodeRun.objects.filter(run__in=runs).order_by("id")
    assert [(n.node_id, n.output, n.state) for n in stored_nodes] == [
        (n.node_id, AWKWARD, "pending") for n in nodes
    ]
    stored_events = RunEvent.objects.filter(run__in=runs).order_by("id")
    assert [(e.data, e.ts, e.seq) for e in stored_events] == [(AWKWARD, now, 1)] * 3


def test_a_value_json_cannot_carry_is_refused_before_anything_is_written():
    user = get_user_model().objects.create_user("nan")
    workspace = create_workspace(owner=user, name="nan")
    workflow = workflow_services.create_workflow(
        user=user, workspace_id=workspace.pk, document=fan_out(2, expression="1")
    )
    run = Run(
        workspace_id=workspace.pk,
        workflow=workflow,
        version=workflow.versions.get(),
        inputs={"x": float("nan")},
    )
    with pytest.raises(ValueError, match="JSON"), transaction.atomic():
        inserts.insert_new_runs([run], [], [])
    assert not Run.objects.filter(workflow=workflow).exists()
