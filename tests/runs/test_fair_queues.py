"""One workspace's backlog does not hold another's nodes, nor the reaper (server/queues.py).

The backlog is put in the broker before a worker exists, then one worker with
one slot starts: what it takes, in which order, is what the queues decide.
"""

import re
import subprocess
import sys
import uuid
from typing import Any

import pytest
import redis
from django.conf import settings

from server import queues
from server.celery import app
from server.runs.models import NodeRun, Run
from tests.support.documents import document, edge, node
from tests.support.processes import process_env, start_worker
from tests.support.runs import wait_for_run
from tests.support.services import purge_task_queues

pytestmark = pytest.mark.django_db(transaction=True)

BACKLOG_RUNS = 100


@pytest.fixture
def broker() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@pytest.fixture(autouse=True)
def _empty_queues(broker) -> None:
    """Tasks left by earlier tests must not compete with this test's backlog."""
    broker.delete(*queues.all_queues())


@pytest.fixture
def pool(broker):
    """A pool of this test's own, so its lists hold only what the test puts there."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    yield name
    names = queues.shards(name)
    broker.delete(*names, *(queues._ASSIGNED_KEY.format(n) for n in names))


def _post_run(client, workflow_id: str) -> str:
    response = client.post(f"/api/v1/workflows/{workflow_id}/runs/", {}, format="json")
    assert response.status_code == 202, response.content
    return str(response.json()["id"])


def _workflow(client, doc) -> str:
    response = client.post("/api/v1/workflows/", {"document": doc}, format="json")
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


@pytest.fixture
def flood(owner, api) -> list[str]:
    """Workspace A's backlog: the input tasks of many runs, waiting in the broker."""
    purge_task_queues()  # only this backlog: the tests read what their worker receives
    _, workspace = owner
    workspace.max_running_runs = BACKLOG_RUNS
    workspace.save()
    workflow = _workflow(api, document([node("input", "input"), node("output", "output")], []))
    return [_post_run(api, workflow) for _ in range(BACKLOG_RUNS)]


def _three_nodes(make_member, client_for) -> str:
    """Workspace B posts a run of input → transformer → output; returns the run's id."""
    user, _ = make_member("b")
    client = client_for(user)
    doc = document(
        [
            node("input", "input"),
            node("shape", expression="{'ok': true}"),
            node("output", "output"),
        ],
        [edge("input", "shape"), edge("shape", "output")],
    )
    return _post_run(client, _workflow(client, doc))


def test_a_backlog_of_one_workspace_does_not_hold_another_workspaces_nodes(
    flood, make_member, client_for
):
    small = _three_nodes(make_member, client_for)
    worker = start_worker("fair", queues="control", concurrency=1)
    try:
        run = wait_for_run(small, timeout=120)
    finally:
        worker.stop()
    assert run.state == "succeeded", run.error
    ahead = NodeRun.objects.filter(run_id__in=flood, finished_at__lte=run.finished_at).count()
    # One queue for all would have run every one of A's inputs first. The
    # worker alternates between the non-empty lists: at most about one of A's
    # nodes before each of B's three.
    assert ahead <= 6, ahead
    # By then the backlog was still there (the worker may finish a few more of
    # its runs before it stops: counted by when they ended, not by their state).
    ended_first = Run.objects.filter(pk__in=flood, finished_at__lte=run.finished_at).count()
    assert ended_first <= 6, ended_first


def test_the_reaper_is_taken_before_a_control_backlog(flood):
    reap = _reaper_schedule()
    app.send_task(reap["task"], **reap["options"])
    worker = start_worker("maintenance", queues="control", concurrency=1)
    try:
        worker.wait_for_log("agentloom.reap[", timeout=120)
    finally:
        worker.stop()
    log = worker.log()
    banner = log[log.index("[queues]") :]
    assert re.findall(r"\.> (\S+)", banner) == queues.worker_queues(queues.CONTROL)
    received = re.findall(r"Task (agentloom\.\w+)\[[^\]]+\] received", log)
    assert received.index("agentloom.reap") <= 2, received[:10]


def test_the_reaper_has_a_queue_of_its_own_that_every_control_worker_reads():
    reap = _reaper_schedule()
    assert reap["options"]["queue"] == queues.MAINTENANCE
    node_queues = queues.shards(queues.AGENTS) + queues.shards(queues.CONTROL)
    assert queues.MAINTENANCE not in node_queues
    assert queues.MAINTENANCE in queues.worker_queues(queues.CONTROL)
    assert queues.MAINTENANCE not in queues.worker_queues(queues.AGENTS)
    assert queues.expand_pools(["control"]) == queues.worker_queues(queues.CONTROL)
    assert queues.expand_pools(["agents", "control"]) == queues.all_queues()


def _reaper_schedule() -> dict[str, Any]:
    app.finalize()  # the schedule is written once the app's tasks are known
    return dict(app.conf.beat_schedule["reap-stale-nodes"])


def test_a_new_workspace_gets_the_shortest_list(broker, pool):
    names = queues.shards(pool)
    lengths = [5, 3, 7, 0, 6, 4, 9, 8][: len(names)]
    for name, length in zip(names, lengths, strict=True):
        for _ in range(length):
            broker.lpush(name, "waiting")
    assert queues.shard_for(broker, pool, str(uuid.uuid4())) == names[lengths.index(0)]


def test_workspaces_spread_over_empty_lists_before_sharing_one(broker, pool):
    names = queues.shards(pool)
    assigned = [queues.shard_for(broker, pool, str(uuid.uuid4())) for _ in names]
    assert sorted(assigned) == sorted(names)


def test_every_process_publishes_a_workspace_to_the_same_list(broker, pool):
    workspace = str(uuid.uuid4())
    first = queues.shard_for(broker, pool, workspace)
    for _ in range(20):
        broker.lpush(first, "waiting")
    newcomer = str(uuid.uuid4())
    assert _shard_in_another_process(pool, workspace) == first
    assert _shard_in_another_process(pool, newcomer) != first


def _shard_in_another_process(pool: str, workspace_id: str) -> str:
    code = (
        "import django, redis; django.setup(); from django.conf import settings; "
        "from server import queues; "
        "broker = redis.Redis.from_url(settings.CELERY_BROKER_URL); "
        f"print(queues.shard_for(broker, {pool!r}, {workspace_id!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=process_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()
