"""Triggers end to end with real processes: beat firing schedules, uvicorn answering hooks."""

import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

import pytest

from server.runs.models import Run, RunEvent, Trigger
from server.triggers.models import Schedule, ScheduleFiring
from tests.support.documents import document, edge, node
from tests.support.processes import FAST_RECOVERY, start_worker
from tests.triggers.signing import signed_headers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(scope="module")
def second_beat(worker, django_db_blocker):
    """Another worker with its own beat: two beats send the firing job every second."""
    with django_db_blocker.unblock():
        process = start_worker("beat-2", concurrency=4, beat=True, **FAST_RECOVERY)
    yield process
    process.stop()


def _workflow(api, expression: str = "run.n * 2"):
    doc = document(
        [node("in", "input"), node("double", expression=expression), node("out", "output")],
        [edge("in", "double"), edge("double", "out")],
        inputs={"n": {"type": "number", "default": 1}},
    )
    response = api.post("/api/v1/workflows/", {"document": doc}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_every_minute_schedule_fires_once_per_slot_under_two_beats(api, worker, second_beat):
    workflow = _workflow(api)
    created = api.post(
        "/api/v1/schedules/",
        {"workflow": workflow, "cron": "* * * * *", "inputs": {"n": 5}},
        format="json",
    )
    assert created.status_code == 201, created.content
    first_slot = datetime.fromisoformat(created.json()["next_fire_at"])
    # One slot (at most a minute away) shows what two would: both beats send
    # the firing job every second, and the slot is fired once.
    deadline = time.monotonic() + 70
    while time.monotonic() < deadline and not ScheduleFiring.objects.exists():
        time.sleep(0.2)
    time.sleep(3)  # any duplicate would have come by now
    firings = list(ScheduleFiring.objects.all())
    assert [f.slot for f in firings] == [first_slot], "the slot fired not once within 70 s"
    schedule = Schedule.objects.get(pk=created.json()["id"])
    assert schedule.next_fire_at == first_slot + timedelta(minutes=1)
    (run,) = Run.objects.filter(workflow_id=workflow)
    assert run.pk == firings[0].run_id
    assert run.trigger == Trigger.SCHEDULE
    assert run.inputs == {"n": 5}
    started = RunEvent.objects.get(run_id=run.pk, type="run.started")
    delay = (started.ts - first_slot).total_seconds()
    print(f"schedule fire delay (slot -> run.started): {delay:.3f} s")
    assert delay < 5


def test_respond_output_waits_for_the_run_and_answers_its_output(api, worker, asgi):
    workflow = _workflow(api)
    created = api.post(
        "/api/v1/triggers/",
        {
            "workflow": workflow,
            "name": "sync",
            "inputs": "{'n': body.value}",
            "respond": "output",
            "wait_s": 20,
        },
        format="json",
    ).json()
    body = b'{"value": 21}'
    status, answer = _post(asgi + created["url"], body, signed_headers(created["secret"], body))
    assert status == 200, answer
    assert answer["state"] == "succeeded"
    assert "42" in json.dumps(answer["output"])
    assert Run.objects.get(pk=answer["run"]).trigger == Trigger.WEBHOOK
    assert created["secret"] not in json.dumps(answer)


def test_concurrent_senders_each_start_one_run_and_every_run_finishes(api, worker, asgi):
    """50 senders at once (their latency and rate are bench/webhook_bench.py's figures)."""
    from concurrent.futures import ThreadPoolExecutor

    workflow = _workflow(api)
    created = api.post(
        "/api/v1/triggers/",
        {"workflow": workflow, "name": "load", "rate_per_minute": 100_000},
        format="json",
    ).json()
    url = asgi + created["url"]

    def send(i: int) -> tuple[int, dict]:
        body = json.dumps({"n": i}).encode()
        return _post(url, body, signed_headers(created["secret"], body))

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(send, range(200)))
    assert [status for status, _ in answers] == [202] * 200
    run_ids = {answer["run"] for _, answer in answers}
    assert len(run_ids) == 200
    runs = Run.objects.filter(pk__in=run_ids)
    deadline = time.monotonic() + 120
    while runs.filter(state="succeeded").count() < 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert runs.filter(state="succeeded").count() == 200
    assert sorted(run.inputs["n"] for run in runs) == list(range(200))


def test_callers_waiting_for_output_hold_no_database_connection(api, token, django_db_blocker):
    """Three calls waiting for runs that wait for a person, on a server with two pooled connections.

    Each call waits its whole ``wait_s``; a request sent meanwhile still gets
    a connection at once.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tests.support.processes import start_asgi

    doc = document(
        [node("gate", "approval", message="Go ahead?"), node("out", "output")],
        [edge("gate", "out")],
    )
    saved = api.post("/api/v1/workflows/", {"document": doc}, format="json")
    assert saved.status_code == 201, saved.content
    workflow = saved.json()["id"]
    created = api.post(
        "/api/v1/triggers/",
        {"workflow": workflow, "name": "slow", "respond": "output", "wait_s": 8},
        format="json",
    ).json()
    with django_db_blocker.unblock():
        server, base = start_asgi(DB_POOL_MAX_SIZE="2", DB_POOL_TIMEOUT_S="20")
    try:
        url = base + created["url"]

        def send() -> tuple[int, dict]:
            return _post(url, b"{}", signed_headers(created["secret"], b"{}"))

        with ThreadPoolExecutor(3) as pool:
            waiting = [pool.submit(send) for _ in range(3)]
            deadline = time.monotonic() + 10
            while Run.objects.filter(workflow_id=workflow).count() < 3:
                assert time.monotonic() < deadline, "the calls never started their runs"
                time.sleep(0.05)
            asked = time.monotonic()
            request = urllib.request.Request(
                f"{base}/api/v1/workflows/{workflow}/",
                headers={"Authorization": f"Token {token}"},
            )
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.status == 200
            answered_s = time.monotonic() - asked
            answers = [future.result() for future in waiting]
        assert [status for status, _ in answers] == [202] * 3
        assert answered_s < 4, answered_s
    finally:
        server.stop()
