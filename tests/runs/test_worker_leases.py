"""A node is kept alive by its worker from claim to end, and a lost one is bounded.

Real worker processes take the nodes; the reaper runs in this process on a
short clock. The slow parts are real JSONata work (a sum over a long range),
since a node must outlast the heartbeat timeout for these rules to matter.
"""

import os
import signal
import time

import pytest

from server.runs.dispatch import send_node_tasks
from server.runs.journal import NodeTask
from server.runs.models import TERMINAL_RUN_STATES, NodeRun, Run
from server.runs.services.readiness import queue_for
from tests.support.chaos import _children
from tests.support.documents import agent, document, edge, node
from tests.support.processes import start_worker
from tests.support.recovery import Reaper
from tests.support.runs import (
    assert_log_is_sound,
    events_of,
    nodes_of,
    start_run,
    wait_for_node,
    wait_for_run,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HEARTBEAT_INTERVAL_S = 0.1
HEARTBEAT_TIMEOUT_S = 0.6
MAX_LOST_WORKERS = 3
WORKER_ENV = {
    "AGENTLOOM_HEARTBEAT_INTERVAL_S": str(HEARTBEAT_INTERVAL_S),
    "AGENTLOOM_HEARTBEAT_TIMEOUT_S": str(HEARTBEAT_TIMEOUT_S),
    "AGENTLOOM_REDISPATCH_AFTER_S": "5",
    "AGENTLOOM_MAX_LOST_WORKERS": str(MAX_LOST_WORKERS),
    # One expression may take long; the node run's budget (10 s) still bounds them all.
    "AGENTLOOM_EXPRESSION_TIMEOUT_MS": "60000",
}
# Seconds of CPU: several heartbeat timeouts, well within a node run's budget.
SLOW = "$sum([1..900000])"
SLOW_VALUE = 900000 * 900001 // 2
# Far more than a node run's budget, on any machine (one inner sum alone takes
# seconds on a fast one).
ENDLESS = "$sum([1..20].($sum([1..999999].($ % 7))))"


@pytest.fixture(autouse=True)
def timings(settings):
    """The reaper in this process uses the workers' clock."""
    settings.AGENTLOOM_RUNS = {
        **settings.AGENTLOOM_RUNS,
        "heartbeat_interval_s": HEARTBEAT_INTERVAL_S,
        "heartbeat_timeout_s": HEARTBEAT_TIMEOUT_S,
        "redispatch_after_s": 5.0,
        "max_lost_workers": MAX_LOST_WORKERS,
    }


@pytest.fixture
def worker():
    process = start_worker("leases", concurrency=4, **WORKER_ENV)
    yield process
    process.stop()


def duration_ms(run_id: str, node_id: str) -> int:
    [done] = [e for e in events_of(run_id) if e.type == "node.succeeded" and e.node_id == node_id]
    return int(done.data["duration_ms"])


def node_events(run_id: str, node_id: str) -> list[tuple[str, int | None]]:
    """The node's events but its streamed text."""
    return [
        (e.type, e.data.get("attempt"))
        for e in events_of(run_id)
        if e.node_id == node_id and e.type != "node.token"
    ]


@pytest.mark.usefixtures("worker")
def test_a_slow_control_node_keeps_its_lease_and_a_second_delivery_is_dropped(api):
    doc = document(
        [node("input", "input"), node("slow", expression=SLOW), node("output", "output")],
        [edge("input", "slow"), edge("slow", "output")],
    )
    run_id = start_run(api, doc)["id"]
    with Reaper(interval=0.2):
        deadline = time.monotonic() + 30
        while NodeRun.objects.get(run_id=run_id, node_id="slow").heartbeat_at is None:
            assert time.monotonic() < deadline, "the slow node was never leased"
            time.sleep(0.02)
        send_node_tasks([NodeTask(run_id, "slow", queue_for("transformer"))])
        run = wait_for_run(run_id, timeout=60)
    assert run.state == "succeeded", run.error
    assert duration_ms(run_id, "slow") > HEARTBEAT_TIMEOUT_S * 1000, "too quick to matter"
    slow = nodes_of(run_id)["slow"]
    assert (slow.attempt, slow.lost_workers, slow.output) == (1, 0, SLOW_VALUE)
    assert node_events(run_id, "slow") == [
        ("node.queued", 1),
        ("node.started", 1),
        ("node.succeeded", 1),
    ]
    assert_log_is_sound(run_id)


@pytest.mark.usefixtures("worker")
def test_slow_prompts_and_edge_decisions_do_not_start_the_model_call_again(api):
    doc = document(
        [
            node("input", "input"),
            agent("writer", prompt="{{ $string(" + SLOW + ") }}"),
            agent("router"),
            node("output", "output"),
        ],
        [
            edge("input", "writer"),
            edge("writer", "router"),
            edge("router", "output", condition=SLOW + " > 0"),
        ],
    )
    run_id = start_run(api, doc)["id"]
    with Reaper(interval=0.2):
        run = wait_for_run(run_id, timeout=60)
    assert run.state == "succeeded", run.error
    for agent_id in ("writer", "router"):
        assert duration_ms(run_id, agent_id) > HEARTBEAT_TIMEOUT_S * 1000, "too quick to matter"
        done = nodes_of(run_id)[agent_id]
        assert (done.attempt, done.lost_workers) == (1, 0)
        assert [t for t, _ in node_events(run_id, agent_id)] == [
            "node.queued",
            "node.started",
            "node.succeeded",
        ]
    assert nodes_of(run_id)["writer"].output["text"] == f"Echo: {SLOW_VALUE}"
    assert_log_is_sound(run_id)


@pytest.mark.usefixtures("worker")
def test_the_expressions_of_a_node_run_and_of_its_fallback_share_one_budget(api):
    doc = document(
        [
            node("input", "input"),
            node("endless", expression=ENDLESS, on_error="fallback", fallback_output="plan B"),
            node("output", "output"),
        ],
        [edge("input", "endless"), edge("endless", "output", condition="true")],
    )
    run = wait_for_run(start_run(api, doc)["id"], timeout=60)
    # The expression used the node run's budget up; the fallback output's edge
    # condition, however cheap, finds nothing left of it.
    assert run.state == "failed"
    assert run.error["code"] == "expression_budget_exceeded"
    assert run.error["node_id"] == "endless"
    assert "fallback output" in run.error["message"]
    assert "node run used up their 10,000 ms" in run.error["message"]
    endless = nodes_of(run.pk)["endless"]
    assert (endless.state, endless.attempt) == ("failed", 1)
    assert_log_is_sound(run.pk)


def test_a_control_task_that_kills_its_process_each_time_ends_with_worker_lost(api):
    """A prefork child dies mid-task; Celery gives its task back, which finds the lease live."""
    process = start_worker("lease-killer", pool="prefork", concurrency=2, **WORKER_ENV)
    doc = document(
        [node("input", "input"), node("doomed", expression=SLOW), node("output", "output")],
        [edge("input", "doomed"), edge("doomed", "output")],
    )
    killed: list[int] = []
    try:
        run_id = start_run(api, doc)["id"]
        with Reaper(interval=0.2):
            deadline = time.monotonic() + 120
            while Run.objects.get(pk=run_id).state not in TERMINAL_RUN_STATES:
                assert time.monotonic() < deadline, f"still going after {killed}"
                doomed = NodeRun.objects.get(run_id=run_id, node_id="doomed")
                if doomed.heartbeat_at is not None and doomed.attempt not in killed:
                    pid = int(doomed.worker.rsplit("#", 1)[1])
                    assert pid in _children(process.process.pid)
                    os.kill(pid, signal.SIGKILL)
                    killed.append(doomed.attempt)
                time.sleep(0.02)
    finally:
        process.stop()
    run = Run.objects.get(pk=run_id)
    assert run.state == "failed"
    assert run.error["code"] == "worker_lost"
    # One child per attempt died; the task each death gave back found the lease
    # live and did nothing, so no attempt ran twice and the losses are bounded.
    assert killed == [1, 2, 3]
    doomed = wait_for_node(run_id, "doomed", "failed")
    assert (doomed.attempt, doomed.lost_workers) == (MAX_LOST_WORKERS, MAX_LOST_WORKERS - 1)
    assert [t for t, _ in node_events(run_id, "doomed")] == [
        "node.queued",
        "node.log",
        "node.queued",
        "node.log",
        "node.queued",
        "node.started",
        "node.failed",
    ]
    assert_log_is_sound(run_id)
