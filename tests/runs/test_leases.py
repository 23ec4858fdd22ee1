"""Control nodes are held by a lease: one worker computes them, the reaper repairs a lost one.

The claims and the reaper are called here, in the test process, against the
real database, where the order of deliveries can be chosen; the same rules
with real worker processes (and killed pool children) are in test_worker_leases.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from server.accounts.services import create_workspace
from server.runs.models import NodeRun, Run
from server.runs.outputs import StoredOutput
from server.runs.services import execution, reaper, start
from server.workflows import services as workflow_services
from tests.support.documents import document, edge, node
from tests.support.runs import events_of
from workers.runtime.node_runner import run_node

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run(settings) -> Run:
    """input → t (a transformer) → output, with the input computed: ``t`` is queued."""
    # Tasks go to an in-process broker nobody consumes: this test is every worker.
    settings.CELERY_BROKER_URL = "memory://"
    user = get_user_model().objects.create_user("leases")
    workspace = create_workspace(owner=user, name="leases")
    doc = document(
        [node("input", "input"), node("t", expression="'done'"), node("output", "output")],
        [edge("input", "t"), edge("t", "output")],
    )
    workflow = workflow_services.create_workflow(user=user, workspace_id=workspace.pk, document=doc)
    run = start.create_run(workflow=workflow, user=user, inputs={})
    run_node(str(run.pk), "input", worker="w0")
    assert NodeRun.objects.get(run=run, node_id="t").state == "queued"
    return run


def t_of(run: Run) -> NodeRun:
    return NodeRun.objects.get(run=run, node_id="t")


def result() -> execution.NodeResult:
    return execution.NodeResult(output=StoredOutput.inline_only("done"), node_input={"run": {}})


def test_a_second_delivery_while_the_lease_is_live_is_dropped(run):
    first = execution.claim_node(run.pk, "t", worker="w1")
    assert first is not None
    leased = t_of(run)
    assert (leased.state, leased.worker, leased.attempt) == ("queued", "w1", 1)
    assert leased.heartbeat_at is not None
    assert execution.claim_node(run.pk, "t", worker="w2") is None
    assert execution.succeed_node(first, result())
    assert t_of(run).state == "succeeded"
    assert execution.claim_node(run.pk, "t", worker="w2") is None
    types = [e.type for e in events_of(run.pk) if e.node_id == "t"]
    assert types == ["node.queued", "node.started", "node.succeeded"]


def test_the_reaper_leaves_a_live_lease_alone_and_resends_an_unheld_node(run, settings):
    settings.AGENTLOOM_RUNS = {**settings.AGENTLOOM_RUNS, "redispatch_after_s": 0.0}
    assert reaper.reap().resent == 1  # nobody holds t yet: its message may be lost
    claim = execution.claim_node(run.pk, "t", worker="w1")
    assert claim is not None
    report = reaper.reap()
    assert (report.resent, report.requeued_lost, report.failed_lost) == (0, 0, 0)
    assert execution.heartbeat(claim)
    assert execution.succeed_node(claim, result())


def test_a_stale_lease_is_a_lost_worker_and_its_holder_can_no_longer_record(run, settings):
    claim = execution.claim_node(run.pk, "t", worker="w1")
    assert claim is not None
    timeout = settings.AGENTLOOM_RUNS["heartbeat_timeout_s"]
    later = timezone.now() + timedelta(seconds=timeout + 1)
    assert reaper.reap(now=later).requeued_lost == 1
    requeued = t_of(run)
    assert (requeued.state, requeued.attempt, requeued.lost_workers) == ("queued", 2, 1)
    assert requeued.heartbeat_at is None
    # The worker that lost its lease finds out, and its result is not recorded.
    assert not execution.heartbeat(claim)
    assert not execution.succeed_node(claim, result())
    again = execution.claim_node(run.pk, "t", worker="w2")
    assert again is not None
    assert again.attempt == 2
    assert execution.succeed_node(again, result())
    done = t_of(run)
    assert (done.state, done.worker, done.attempt) == ("succeeded", "w2", 2)
    node_events = [(e.type, e.data.get("attempt")) for e in events_of(run.pk) if e.node_id == "t"]
    assert node_events == [
        ("node.queued", 1),
        ("node.log", None),
        ("node.queued", 2),
        ("node.started", 2),
        ("node.succeeded", 2),
    ]


def test_a_lease_lost_max_lost_workers_times_fails_the_node_with_worker_lost(run, settings):
    settings.AGENTLOOM_RUNS = {**settings.AGENTLOOM_RUNS, "max_lost_workers": 2}
    after_timeout = timedelta(seconds=settings.AGENTLOOM_RUNS["heartbeat_timeout_s"] + 1)
    reports = []
    for worker in ("w1", "w2"):
        assert execution.claim_node(run.pk, "t", worker=worker) is not None
        report = reaper.reap(now=timezone.now() + after_timeout)
        reports.append((report.requeued_lost, report.failed_lost))
    assert reports == [(1, 0), (0, 1)]
    failed = t_of(run)
    assert (failed.state, failed.attempt, failed.error["code"]) == ("failed", 2, "worker_lost")
    run.refresh_from_db()
    assert (run.state, run.error["code"]) == ("failed", "worker_lost")


def test_a_released_lease_can_be_taken_at_once(run):
    claim = execution.claim_node(run.pk, "t", worker="w1")
    assert claim is not None
    execution.release(claim)
    assert t_of(run).heartbeat_at is None
    again = execution.claim_node(run.pk, "t", worker="w2")
    assert again is not None
    assert again.attempt == 1
    assert execution.succeed_node(again, result())
