"""The side-effect log and rollback, with a real worker and a real local server (SPEC §11)."""

import time

import pytest

from server.accounts.models import Role
from server.runs.models import RunEvent, SideEffect
from tests.support.runs import start_run, wait_for_run
from tests.tools.helpers import http, pipeline

pytestmark = pytest.mark.django_db(transaction=True)

RETRY = {"max_attempts": 1}
ITEM = {"item": {"type": "string"}}


def order(node_id: str, base: str, *, block: bool = False) -> dict:
    suffix = "?block=1" if block else ""
    return http(
        node_id,
        f"{base}/orders",
        method="POST",
        body='{"item": "{{ $.run.item }}", "step": "' + node_id + '"}',
        side_effect="reversible",
        idempotency_key="order-{{ $.run.item }}-" + node_id,
        compensation={
            "method": "DELETE",
            "url": f"{base}/orders/{{{{ response.json.id }}}}{suffix}",
        },
    )


def three_orders_then_failure(base: str, *, block_second: bool = False) -> dict:
    return pipeline(
        order("a", base),
        order("b", base, block=block_second),
        order("c", base),
        http("notify", f"{base}/fail", method="POST", retry=RETRY),
        inputs=ITEM,
    )


def wait_for(predicate, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def settled(run_id) -> bool:
    return not SideEffect.objects.filter(run_id=run_id, state="done").exists()


def test_run_records_its_side_effects_with_the_step(api, fresh_api, tool_worker):
    run = start_run(api, three_orders_then_failure(fresh_api.url), {"item": "book"})
    assert wait_for_run(run["id"]).state == "failed"
    listing = api.get(f"/api/v1/runs/{run['id']}/side-effects/")
    assert listing.status_code == 200
    rows = listing.json()
    assert [r["node_id"] for r in rows] == ["a", "b", "c"]
    assert {r["state"] for r in rows} == {"done"}
    assert rows[0]["method"] == "POST"
    assert rows[0]["path"] == "/orders"
    assert rows[0]["status"] == 201
    assert rows[0]["idempotency_key"] == "order-book-a"
    assert rows[2]["compensation"] == {"method": "DELETE", "url": f"{fresh_api.url}/orders/3"}
    posted = fresh_api.seen("POST", "/orders")
    assert [r["headers"]["Idempotency-Key"] for r in posted] == [
        "order-book-a",
        "order-book-b",
        "order-book-c",
    ]


def test_rollback_compensates_in_reverse_order_once(api, fresh_api, tool_worker):
    run = start_run(api, three_orders_then_failure(fresh_api.url), {"item": "pen"})
    assert wait_for_run(run["id"]).state == "failed"
    answer = api.post(f"/api/v1/runs/{run['id']}/rollback/")
    assert answer.status_code == 202, answer.content
    wait_for(lambda: settled(run["id"]))
    deletes = [r["path"] for r in fresh_api.seen("DELETE", "/orders/")]
    assert deletes == ["/orders/3", "/orders/2", "/orders/1"]
    states = SideEffect.objects.filter(run_id=run["id"]).values_list("state", flat=True)
    assert set(states) == {"compensated"}
    events = RunEvent.objects.filter(run_id=run["id"], type="sideeffect.compensated")
    assert [e.node_id for e in events.order_by("seq")] == ["c", "b", "a"]

    again = api.post(f"/api/v1/runs/{run['id']}/rollback/")
    assert again.status_code == 409
    assert again.json()["code"] == "nothing_to_roll_back"
    time.sleep(1)
    assert len(fresh_api.seen("DELETE", "/orders/")) == 3


def test_failed_compensation_is_reported_and_retried_by_a_second_rollback(
    api, fresh_api, tool_worker
):
    step = http(
        "pay",
        f"{fresh_api.url}/orders",
        method="POST",
        side_effect="reversible",
        compensation={"method": "POST", "url": f"{fresh_api.url}/flaky?key=comp&fail=1&status=500"},
    )
    run = start_run(api, pipeline(step))
    assert wait_for_run(run["id"]).state == "succeeded"
    assert api.post(f"/api/v1/runs/{run['id']}/rollback/").status_code == 202
    wait_for(lambda: settled(run["id"]))
    effect = SideEffect.objects.get(run_id=run["id"])
    assert effect.state == "compensation_failed"
    assert effect.error["code"] == "http_status"
    assert RunEvent.objects.filter(run_id=run["id"], type="sideeffect.compensation_failed").exists()
    assert api.post(f"/api/v1/runs/{run['id']}/rollback/").status_code == 202
    wait_for(lambda: SideEffect.objects.get(run_id=run["id"]).state == "compensated")


def test_manual_compensation_waits_for_a_person(api, fresh_api, tool_worker):
    step = http(
        "ship",
        f"{fresh_api.url}/orders",
        method="POST",
        side_effect="reversible",
        compensation={"manual": "Call the warehouse and cancel the shipment."},
    )
    irreversible = http("mail", f"{fresh_api.url}/orders", method="POST")
    run = start_run(api, pipeline(step, irreversible))
    assert wait_for_run(run["id"]).state == "succeeded"
    rows = api.post(f"/api/v1/runs/{run['id']}/rollback/").json()
    manual, mail = rows
    assert manual["state"] == "manual"
    assert manual["compensation"] == {"manual": "Call the warehouse and cancel the shipment."}
    assert mail["state"] == "done"
    assert mail["compensation"] is None
    resolved = api.post(f"/api/v1/runs/{run['id']}/side-effects/{manual['id']}/resolve/")
    assert resolved.status_code == 200
    assert resolved.json()["state"] == "compensated"
    twice = api.post(f"/api/v1/runs/{run['id']}/side-effects/{manual['id']}/resolve/")
    assert twice.status_code == 409
    assert api.post(f"/api/v1/runs/{run['id']}/rollback/").status_code == 409
    assert not fresh_api.seen("DELETE")


def test_rollback_of_a_running_run_is_refused(api, fresh_api, tool_worker):
    steps = order("a", fresh_api.url), http("wait", f"{fresh_api.url}/block")
    run = start_run(api, pipeline(*steps, inputs=ITEM), {"item": "x"})
    wait_for(fresh_api.blocked.is_set)
    answer = api.post(f"/api/v1/runs/{run['id']}/rollback/")
    assert answer.status_code == 409
    assert answer.json()["code"] == "run_not_finished"
    assert SideEffect.objects.get(run_id=run["id"]).rollback_requested_at is None
    fresh_api.released.set()
    assert wait_for_run(run["id"]).state == "succeeded"


def test_roles_and_workspaces(api, owner, make_member, client_for, fresh_api, tool_worker):
    run = start_run(api, pipeline(order("a", fresh_api.url), inputs=ITEM), {"item": "x"})
    wait_for_run(run["id"])
    viewer, _ = make_member("viewer", Role.VIEWER, owner[1])
    stranger, _ = make_member("stranger")
    as_viewer, as_stranger = client_for(viewer), client_for(stranger)
    assert as_viewer.get(f"/api/v1/runs/{run['id']}/side-effects/").status_code == 200
    assert as_viewer.post(f"/api/v1/runs/{run['id']}/rollback/").status_code == 403
    assert as_stranger.get(f"/api/v1/runs/{run['id']}/side-effects/").status_code == 404
    assert as_stranger.post(f"/api/v1/runs/{run['id']}/rollback/").status_code == 404
    effect = SideEffect.objects.get(run_id=run["id"])
    resolve = f"/api/v1/runs/{run['id']}/side-effects/{effect.pk}/resolve/"
    assert as_stranger.post(resolve).status_code == 404
    assert api.post(f"/api/v1/runs/{run['id']}/side-effects/999999/resolve/").status_code == 404
    huge = f"/api/v1/runs/{run['id']}/side-effects/{10**30}/resolve/"
    assert api.post(huge).status_code == 404
    assert api.post("/api/v1/runs/not-a-uuid/rollback/").status_code == 404
    assert not fresh_api.seen("DELETE")
