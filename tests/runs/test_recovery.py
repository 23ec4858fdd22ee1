"""Failure: workers killed mid-run, Redis restarted, database connections dropped.

Runs must finish with nothing lost or duplicated. These tests start their own
worker processes (not the shared ``worker`` fixture), since they kill them.
"""

import itertools
import time
from collections import Counter

import pytest
from django.db import connection

from server.runs.models import NodeRun, RunEvent
from server.runs.services import reaper
from tests.support.documents import agent, document, edge, node
from tests.support.processes import FAST_RECOVERY, start_worker
from tests.support.recovery import Reaper
from tests.support.runs import assert_log_is_sound, start_run, wait_for_node, wait_for_run
from tests.support.services import purge_maintenance_queue, restart_redis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def _no_reaper_but_ours() -> None:
    """These tests make the reaper's passes themselves: no leftover reap task may race them."""
    purge_maintenance_queue()


def ten_node_slow_workflow(latency_ms: int = 700) -> dict:
    """input → two chains of four slow agents → output: ten nodes."""
    chains = [[f"{side}{i}" for i in range(4)] for side in ("a", "b")]
    nodes = [node("input", "input"), node("output", "output")]
    edges = []
    for chain in chains:
        nodes += [agent(n, model="mock/slow", mock_latency_ms=latency_ms) for n in chain]
        path = ["input", *chain, "output"]
        edges += [
            edge(s, t, target_handle=s if t == "output" else None)
            for s, t in itertools.pairwise(path)
        ]
    return document(nodes, edges, max_concurrency=8)


def test_sigkill_of_the_worker_mid_run_loses_nothing(api, fast_recovery):
    first = start_worker("doomed", concurrency=16, **FAST_RECOVERY)
    run_ids = [start_run(api, ten_node_slow_workflow())["id"] for _ in range(20)]
    # Wait until work is in flight everywhere, then kill the worker and its threads outright.
    deadline = time.monotonic() + 30
    while NodeRun.objects.filter(state="running").count() < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    first.kill()
    in_flight = NodeRun.objects.filter(state="running").count()
    assert in_flight > 0
    second = start_worker("survivor", concurrency=16, **FAST_RECOVERY)
    try:
        with Reaper():
            runs = [wait_for_run(run_id, timeout=120) for run_id in run_ids]
    finally:
        second.stop()
    assert [r.state for r in runs] == ["succeeded"] * 20
    for run in runs:
        assert_log_is_sound(run.pk)
        nodes = NodeRun.objects.filter(run=run)
        assert nodes.count() == 10
        assert all(n.state == "succeeded" and n.output is not None for n in nodes)
        succeeded = Counter(
            RunEvent.objects.filter(run=run, type="node.succeeded").values_list(
                "node_id", flat=True
            )
        )
        assert set(succeeded.values()) == {1}
    requeued = RunEvent.objects.filter(type="node.log", data__level="warning").count()
    assert requeued >= 1


def test_the_reaper_requeues_a_node_whose_worker_vanished(api, fast_recovery):
    first = start_worker("vanishing", concurrency=4, **FAST_RECOVERY)
    doc = document(
        [
            node("input", "input"),
            agent("slow", model="mock/slow", mock_latency_ms=3000),
            node("output", "output"),
        ],
        [edge("input", "slow"), edge("slow", "output")],
    )
    run_id = start_run(api, doc)["id"]
    stale = wait_for_node(run_id, "slow", "running")
    first.kill()
    second = start_worker("replacement", concurrency=4, **FAST_RECOVERY)
    try:
        time.sleep(3.5)
        report = reaper.reap()
        assert report.requeued_lost == 1
        run = wait_for_run(run_id, timeout=30)
    finally:
        second.stop()
    assert run.state == "succeeded"
    slow = NodeRun.objects.get(run_id=run_id, node_id="slow")
    assert slow.attempt == stale.attempt + 1
    assert slow.lost_workers == 1
    assert slow.worker != stale.worker
    assert_log_is_sound(run_id)


def test_a_node_that_keeps_losing_its_worker_fails_rather_than_loops(api, fast_recovery, settings):
    settings.AGENTLOOM_RUNS = {**settings.AGENTLOOM_RUNS, "max_lost_workers": 1}
    doc = document(
        [node("input", "input"), agent("slow", model="mock/slow", mock_latency_ms=60000)],
        [edge("input", "slow")],
    )
    worker = start_worker("unlucky", concurrency=2, **FAST_RECOVERY)
    try:
        run_id = start_run(api, doc)["id"]
        wait_for_node(run_id, "slow", "running")
        worker.kill()
        time.sleep(3.5)
        reaper.reap()
        run = wait_for_run(run_id, timeout=10)
    finally:
        worker.stop()
    assert run.state == "failed"
    assert run.error["code"] == "worker_lost"


@pytest.mark.alone
def test_runs_finish_after_redis_restarts_mid_run(api, fast_recovery, settings):
    settings.AGENTLOOM_RUNS = {**settings.AGENTLOOM_RUNS, "redispatch_after_s": 2.0}
    worker = start_worker(
        "through-restart", concurrency=8, **{**FAST_RECOVERY, "AGENTLOOM_REDISPATCH_AFTER_S": "2"}
    )
    try:
        run_ids = [start_run(api, ten_node_slow_workflow(400))["id"] for _ in range(5)]
        time.sleep(1)
        restart_redis()
        with Reaper():
            runs = [wait_for_run(run_id, timeout=120) for run_id in run_ids]
    finally:
        worker.stop()
    assert [r.state for r in runs] == ["succeeded"] * 5
    for run in runs:
        assert_log_is_sound(run.pk)


@pytest.mark.alone
def test_dropped_database_connections_do_not_lose_runs(api, fast_recovery):
    worker = start_worker("db-drop", concurrency=8, **FAST_RECOVERY)
    try:
        run_ids = [start_run(api, ten_node_slow_workflow(300))["id"] for _ in range(5)]
        for _ in range(3):
            time.sleep(0.7)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
        with Reaper():
            runs = [wait_for_run(run_id, timeout=120) for run_id in run_ids]
    finally:
        worker.stop()
    assert [r.state for r in runs] == ["succeeded"] * 5
    for run in runs:
        assert_log_is_sound(run.pk)
