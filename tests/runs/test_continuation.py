"""Eager continuation: a node task runs the control nodes its success made ready, within bounds.

Real worker processes; how many tasks a run took is read from the worker's
log (Celery logs every task it receives), and every transition must still be
in the run's gapless event log, once.
"""

import math
import time

import pytest

from server.runs.models import NodeRun
from tests.support.clocks import Stopwatch
from tests.support.documents import agent, chain, document, edge, node
from tests.support.processes import ManagedProcess, start_worker
from tests.support.recovery import Reaper
from tests.support.runs import assert_log_is_sound, events_of, start_run, wait_for_run
from tests.support.services import purge_task_queues
from tests.test_configuration_errors import DISTRIBUTED, _manage, _one_line
from workers.engine.expressions import evaluate
from workers.engine.limits import Limits

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Bounds no test run reaches, unless a test says otherwise.
UNBOUNDED = {"AGENTLOOM_CONTINUATION_MAX_NODES": "1000", "AGENTLOOM_CONTINUATION_SLICE_S": "60"}
# A transformer that takes tens of milliseconds of real JSONata work.
SLOWISH = "$sum([1..20000])"


def _expression_taking(seconds: float) -> str:
    """JSONata work of about ``seconds`` on this machine, measured here.

    Machines differ fivefold: a fixed expression long enough to matter on a
    fast one would exceed a node's 10 s expression budget on a slow one.
    """
    part = "$sum([1..200000])"
    clock = Stopwatch()
    evaluate(part, None, limits=Limits(expression_timeout_ms=60_000))
    return " + ".join([part] * max(1, math.ceil(seconds / clock.cpu_s())))


def node_tasks(worker: ManagedProcess) -> int:
    return sum(
        1
        for line in worker.log().splitlines()
        if "agentloom.execute_node[" in line and line.endswith("received")
    )


def succeeded_once(run_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event in events_of(run_id):
        if event.type == "node.succeeded":
            counts[event.node_id] = counts.get(event.node_id, 0) + 1
    return counts


@pytest.fixture
def worker_with():
    purge_task_queues()  # each test counts the tasks its worker receives
    started: list[ManagedProcess] = []

    def start(**env: str) -> ManagedProcess:
        process = start_worker("continuation", concurrency=2, **env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.mark.parametrize(
    ("bounds", "tasks"),
    [
        pytest.param(UNBOUNDED, 1, id="whole-run-in-one-task"),
        # 22 nodes, five per task: the task's own and four it continues with.
        pytest.param({**UNBOUNDED, "AGENTLOOM_CONTINUATION_MAX_NODES": "4"}, 5, id="node-bound"),
        pytest.param({**UNBOUNDED, "AGENTLOOM_CONTINUATION_SLICE_S": "0"}, 22, id="no-time-slice"),
    ],
)
def test_a_chain_of_control_nodes_continues_within_its_bounds(api, worker_with, bounds, tasks):
    worker = worker_with(**bounds)
    run_id = start_run(api, chain(20, expression="'ok'"))["id"]
    run = wait_for_run(run_id)
    assert run.state == "succeeded", run.error
    assert succeeded_once(run_id) == dict.fromkeys(
        ["input", *(f"n{i}" for i in range(20)), "output"], 1
    )
    assert_log_is_sound(run_id)
    types = [e.type for e in events_of(run_id) if e.node_id == "n7"]
    assert types == ["node.queued", "node.started", "node.succeeded"]
    # Nothing left leased or dispatched twice: every node ran its first attempt.
    assert set(NodeRun.objects.filter(run_id=run_id).values_list("attempt", flat=True)) == {1}
    assert node_tasks(worker) == tasks


def test_a_fan_out_keeps_its_control_branches_and_sends_its_agent_to_the_broker(api, worker_with):
    worker = worker_with(**UNBOUNDED)
    branches = [f"t{i}" for i in range(4)]
    doc = document(
        [
            node("input", "input"),
            *(node(t, expression=f"'{t}'") for t in branches),
            agent("writer"),
            node("output", "output"),
        ],
        [
            *(edge("input", t) for t in [*branches, "writer"]),
            *(edge(t, "output", target_handle=t) for t in [*branches, "writer"]),
        ],
    )
    run_id = start_run(api, doc)["id"]
    run = wait_for_run(run_id)
    assert run.state == "succeeded", run.error
    assert {k: v for k, v in run.output["output"].items() if k != "writer"} == {
        t: t for t in branches
    }
    assert succeeded_once(run_id) == dict.fromkeys(["input", *branches, "writer", "output"], 1)
    assert_log_is_sound(run_id)
    # The input's task ran the four branches; the agent had its own task, and
    # the output ran in whichever of the two finished last.
    assert node_tasks(worker) == 2
    writer = NodeRun.objects.get(run_id=run_id, node_id="writer")
    assert writer.state == "succeeded"


def test_kept_nodes_waiting_their_turn_are_kept_alive(api, worker_with, settings):
    """Two slow branches kept by one task: the second waits several heartbeat timeouts, unreaped."""
    clock = {"AGENTLOOM_HEARTBEAT_INTERVAL_S": "0.1", "AGENTLOOM_HEARTBEAT_TIMEOUT_S": "0.6"}
    settings.AGENTLOOM_RUNS = {
        **settings.AGENTLOOM_RUNS,
        "heartbeat_interval_s": 0.1,
        "heartbeat_timeout_s": 0.6,
    }
    worker = worker_with(**UNBOUNDED, **clock, AGENTLOOM_EXPRESSION_TIMEOUT_MS="60000")
    slow = _expression_taking(2.5)
    doc = document(
        [node("input", "input"), node("s1", expression=slow), node("s2", expression=slow)],
        [edge("input", "s1"), edge("input", "s2")],
    )
    run_id = start_run(api, doc)["id"]
    with Reaper(interval=0.2):
        run = wait_for_run(run_id)
    assert run.state == "succeeded", run.error
    s1, s2 = (NodeRun.objects.get(run_id=run_id, node_id=n) for n in ("s1", "s2"))
    assert s2.started_at >= s1.finished_at, "not run one after the other"
    assert (s2.started_at - s1.started_at).total_seconds() > 1.2, "too quick to matter"
    assert {(n.attempt, n.lost_workers) for n in (s1, s2)} == {(1, 0)}
    assert node_tasks(worker) == 1
    assert_log_is_sound(run_id)


def test_cancel_stops_a_long_continuation_within_two_seconds(api):
    # One slot: while the continuation goes on, nothing else runs on this worker.
    worker = start_worker("continuation-cancel", concurrency=1, **UNBOUNDED)
    try:
        run_id = start_run(api, chain(200, expression=SLOWISH))["id"]
        deadline = time.monotonic() + 60
        while len(succeeded_once(run_id)) < 10:
            assert time.monotonic() < deadline, "the chain did not get going"
            time.sleep(0.02)
        assert node_tasks(worker) == 1, "not one continuing task"
        response = api.post(f"/api/v1/runs/{run_id}/cancel/")
        asked = time.monotonic()
        assert response.status_code == 202
        other = start_run(api, chain(1))["id"]
        assert wait_for_run(other, timeout=10).state == "succeeded"
        assert time.monotonic() - asked < 2, "the worker went on with the cancelled run"
        run = wait_for_run(run_id)
        assert run.state == "cancelled"
        time.sleep(0.5)
        events = events_of(run_id)
        assert events[-1].type == "run.cancelled"
        done = succeeded_once(run_id)
        assert 10 <= len(done) < 202
        assert set(done.values()) == {1}
        assert_log_is_sound(run_id)
    finally:
        worker.stop()


@pytest.mark.parametrize(
    ("name", "value"),
    [("AGENTLOOM_CONTINUATION_MAX_NODES", "-1"), ("AGENTLOOM_CONTINUATION_SLICE_S", "-0.5")],
)
def test_a_negative_bound_is_refused_naming_its_variable(name, value):
    line = _one_line(_manage({**DISTRIBUTED, "SECRET_KEY": "k", name: value}))
    assert line == f"agentloom: {name} cannot be negative (0 turns eager continuation off)."
