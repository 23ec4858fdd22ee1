"""Chaos: workers of both pools SIGKILLed and replaced, Redis restarted, connections dropped.

A small version of ``bench/chaos_bench.py`` (same code, tests/support/chaos.py):
runs of a fan-out/fan-in agent workflow calling the local model server while
an orchestrator-like fleet keeps replacing the workers it loses. Nothing may be
lost or done twice, and no model is called for a node whose output is recorded.
"""

from collections import Counter

import pytest

from tests.support.chaos import (
    ChaosPlan,
    Fleet,
    chaos_env,
    fan_in_workflow,
    fleet_slots,
    run_chaos,
    start_beat,
)
from tests.support.chaos_checks import judge
from tests.support.openai_server import OpenAICompatibleServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def model_server(settings):
    with OpenAICompatibleServer() as server:
        # Validation in this process accepts openai/* only when a base is configured.
        settings.AGENTLOOM_MODEL_PROVIDERS = {
            **settings.AGENTLOOM_MODEL_PROVIDERS,
            "AGENTLOOM_OPENAI_API_BASE": server.base_url,
        }
        yield server


@pytest.mark.alone
def test_runs_survive_sigkills_a_redis_restart_and_dropped_connections(api, model_server):
    env = chaos_env(model_server.base_url)
    workflow = api.post(
        "/api/v1/workflows/",
        {"document": fan_in_workflow(3, "openai/slow-300")},
        format="json",
    )
    assert workflow.status_code == 201, workflow.content
    assert not [p for p in workflow.json()["problems"] if p["severity"] == "error"]
    runs_url = f"/api/v1/workflows/{workflow.json()['id']}/runs/"

    def start(tag: str) -> str:
        response = api.post(runs_url, {"inputs": {"tag": tag}}, format="json")
        assert response.status_code == 202, response.content
        return str(response.json()["id"])

    plan = ChaosPlan(runs=8, in_flight=4, kills=9, kill_interval_s=1.5, max_runs=32, max_seconds=80)
    beat = start_beat(env)
    try:
        with Fleet(fleet_slots(agents=2, control=1), env) as fleet:
            log = run_chaos(fleet, plan, start)
    finally:
        beat.stop()
    verdict = judge(log, model_server.requests)

    assert verdict.problems() == {}
    assert len(log.kills) >= plan.kills
    assert set(Counter(k.kind for k in log.kills)) == {"agents", "control", "control-child"}
    assert log.redis_restarts
    assert log.db_terminations
    assert log.unfinished == 0
    assert verdict.runs >= plan.runs
    assert verdict.model_calls >= verdict.agent_nodes > 0
    assert verdict.recoveries_s
