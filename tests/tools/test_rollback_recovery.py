"""A worker SIGKILLed in the middle of a rollback: the rollback still ends, each effect undone once.

Its own worker processes (not the shared fixture), since it kills one.
"""

import time
from collections import Counter

import pytest

from server.runs.models import RunEvent, SideEffect
from tests.support.processes import start_worker
from tests.support.runs import start_run, wait_for_run
from tests.support.services import purge_maintenance_queue
from tests.tools.conftest import WORKER_ENV
from tests.tools.test_rollback import three_orders_then_failure, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_killed_worker_mid_rollback_recovers(api, fresh_api):
    purge_maintenance_queue()
    first = start_worker("tools-doomed", concurrency=4, beat=True, **WORKER_ENV)
    try:
        doc = three_orders_then_failure(fresh_api.url, block_second=True)
        run = start_run(api, doc, {"item": "lamp"})
        assert wait_for_run(run["id"]).state == "failed"
        assert api.post(f"/api/v1/runs/{run['id']}/rollback/").status_code == 202
        # c is compensated; b's compensation is on the wire when the worker dies.
        wait_for(fresh_api.blocked.is_set)
    finally:
        first.kill()
    fresh_api.released.set()
    effects = SideEffect.objects.filter(run_id=run["id"]).order_by("id")
    assert [e.state for e in effects] == ["done", "done", "compensated"]

    second = start_worker("tools-heir", concurrency=4, beat=True, **WORKER_ENV)
    try:
        wait_for(
            lambda: set(effects.values_list("state", flat=True)) == {"compensated"}, timeout=60
        )
    finally:
        second.stop()
    deletes = fresh_api.seen("DELETE", "/orders/")
    keys = [r["headers"]["Idempotency-Key"] for r in deletes]
    # Newest first; b's was sent again after the crash, with the same key (the
    # receiver treats it as the same request), and nothing else was repeated.
    assert list(dict.fromkeys(r["path"].split("?")[0] for r in deletes)) == [
        "/orders/3",
        "/orders/2",
        "/orders/1",
    ]
    assert list(dict.fromkeys(keys)) == [
        f"agentloom-compensation-{e.pk}" for e in reversed(effects)
    ]
    assert max(Counter(keys).values()) <= 2
    events = RunEvent.objects.filter(run_id=run["id"], type="sideeffect.compensated")
    assert sorted(e.data["side_effect_id"] for e in events) == sorted(e.pk for e in effects)
    time.sleep(0.5)
