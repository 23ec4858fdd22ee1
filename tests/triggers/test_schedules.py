"""Schedules over the API, and firing: one run per slot, catch-up, overlap."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import close_old_connections

from server.runs.models import Run, RunState, Trigger
from server.triggers.models import FiringOutcome, Schedule, ScheduleFiring
from server.triggers.schedules import fire_due_schedules


def _create(api, workflow, **fields):
    body = {"workflow": str(workflow.pk), "cron": "*/5 * * * *", **fields}
    return api.post("/api/v1/schedules/", body, format="json")


def _due(schedule_id, slot: datetime) -> Schedule:
    Schedule.objects.filter(pk=schedule_id).update(next_fire_at=slot)
    return Schedule.objects.get(pk=schedule_id)


@pytest.mark.django_db
def test_create_preview_and_disable(api, make_workflow):
    workflow = make_workflow()
    response = _create(api, workflow, timezone="Europe/Berlin", inputs={"n": 3})
    assert response.status_code == 201, response.content
    schedule = response.json()
    assert schedule["next_fire_at"] is not None
    preview = api.get(f"/api/v1/schedules/{schedule['id']}/preview/?n=3").json()
    assert len(preview) == 3
    assert preview[0]["utc"].endswith("Z")
    assert preview[0]["local"].endswith(("+01:00", "+02:00"))
    draft = api.get("/api/v1/schedules/preview/", {"cron": "0 9 * * 1", "timezone": "Asia/Tokyo"})
    assert draft.status_code == 200
    assert draft.json()[0]["local"].endswith("T09:00:00+09:00")
    off = api.patch(f"/api/v1/schedules/{schedule['id']}/", {"enabled": False}, format="json")
    assert off.status_code == 200
    assert off.json()["next_fire_at"] is None
    on = api.patch(f"/api/v1/schedules/{schedule['id']}/", {"enabled": True}, format="json")
    assert on.json()["next_fire_at"] is not None
    listed = api.get("/api/v1/schedules/", {"workflow": str(workflow.pk)}).json()
    assert [s["id"] for s in listed["results"]] == [schedule["id"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"cron": "* * * *"}, "cron"),
        ({"cron": "\u0661 * * * *"}, "cron"),
        ({"cron": "0 0 31 2 *"}, "cron"),
        ({"cron": "x" * 10_000}, "cron"),
        ({"timezone": "Nowhere/City"}, "timezone"),
        ({"timezone": "UTC\x00"}, "timezone"),
        ({"overlap": "sometimes"}, "overlap"),
        ({"inputs": [1, 2]}, "inputs"),
    ],
)
def test_bad_schedules_are_refused_with_nothing_saved(api, make_workflow, fields, field):
    response = _create(api, make_workflow(), **fields)
    assert response.status_code == 400, response.content
    body = response.json()
    # NUL is refused by the JSON parser itself, before any field is read.
    assert field in body.get("fields", {}) or body["code"] == "unsupported_character"
    assert not Schedule.objects.exists()


@pytest.mark.django_db
def test_another_workspace_sees_nothing(api, make_workflow, make_member, client_for):
    schedule = _create(api, make_workflow()).json()
    stranger = client_for(make_member("stranger")[0])
    assert stranger.get(f"/api/v1/schedules/{schedule['id']}/").status_code == 404
    assert stranger.get(f"/api/v1/schedules/{schedule['id']}/preview/").status_code == 404
    assert (
        stranger.patch(f"/api/v1/schedules/{schedule['id']}/", {}, format="json").status_code == 404
    )
    assert stranger.get("/api/v1/schedules/").json()["results"] == []
    other = _create(stranger, make_workflow())
    assert other.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_passes_start_one_run_per_slot(api, make_workflow):
    schedule_id = _create(api, make_workflow(), inputs={"n": 7}).json()["id"]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    slot = now - timedelta(minutes=now.minute % 5)
    _due(schedule_id, slot)
    barrier = threading.Barrier(4)
    results = []

    def fire():
        barrier.wait()
        try:
            results.append(fire_due_schedules(slot + timedelta(seconds=1)))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=fire) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["started"] for r in results) == 1
    firing = ScheduleFiring.objects.get(schedule_id=schedule_id)
    assert firing.slot == slot
    assert firing.outcome == FiringOutcome.STARTED
    run = Run.objects.get(pk=firing.run_id)
    assert run.trigger == Trigger.SCHEDULE
    assert run.inputs == {"n": 7}
    assert Schedule.objects.get(pk=schedule_id).next_fire_at == slot + timedelta(minutes=5)
    # A pass later on finds nothing more to do for that slot.
    assert fire_due_schedules(slot + timedelta(seconds=2))["started"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("catch_up", "fires"), [("none", False), ("latest", True)])
def test_a_beat_that_was_down_fires_the_latest_missed_slot_only_with_catch_up(
    api, make_workflow, catch_up, fires
):
    schedule_id = _create(api, make_workflow(), cron="0 * * * *", catch_up=catch_up).json()["id"]
    latest = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    at = latest + timedelta(minutes=30)
    _due(schedule_id, latest - timedelta(hours=5))  # no beat for five hours
    counts = fire_due_schedules(at)
    firings = list(ScheduleFiring.objects.filter(schedule_id=schedule_id))
    assert counts["started"] == int(fires)
    assert [f.slot for f in firings] == ([latest] if fires else [])
    assert Schedule.objects.get(pk=schedule_id).next_fire_at == latest + timedelta(hours=1)


@pytest.mark.django_db
def test_a_slot_late_by_seconds_still_fires_without_catch_up(api, make_workflow):
    schedule_id = _create(api, make_workflow(), cron="* * * * *").json()["id"]
    slot = datetime.now(UTC).replace(second=0, microsecond=0)
    _due(schedule_id, slot)
    assert fire_due_schedules(slot + timedelta(seconds=20))["started"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overlap", "second"),
    [("skip", FiringOutcome.SKIPPED), ("queue", FiringOutcome.WAITING), ("allow", "started")],
)
def test_overlap_policies(api, make_workflow, overlap, second):
    schedule_id = _create(api, make_workflow(), cron="* * * * *", overlap=overlap).json()["id"]
    slot = datetime.now(UTC).replace(second=0, microsecond=0)
    _due(schedule_id, slot)
    fire_due_schedules(slot + timedelta(seconds=1))
    first = ScheduleFiring.objects.get(schedule_id=schedule_id, slot=slot)
    # No worker runs here: the first run stays queued or running.
    assert Run.objects.get(pk=first.run_id).state in (RunState.QUEUED, RunState.RUNNING)
    _due(schedule_id, slot + timedelta(minutes=1))
    fire_due_schedules(slot + timedelta(minutes=1, seconds=1))
    later = ScheduleFiring.objects.get(schedule_id=schedule_id, slot=slot + timedelta(minutes=1))
    assert later.outcome == second
    if overlap == "queue":
        Run.objects.filter(pk=first.run_id).update(state=RunState.SUCCEEDED)
        assert fire_due_schedules(slot + timedelta(minutes=1, seconds=2))["dequeued"] == 1
        later.refresh_from_db()
        assert later.outcome == FiringOutcome.STARTED
        assert later.run_id is not None


@pytest.mark.django_db
def test_a_run_that_cannot_start_is_recorded_not_retried(api, make_workflow):
    workflow = make_workflow(n={"type": "number", "required": True})
    schedule_id = _create(api, workflow, cron="* * * * *").json()["id"]
    slot = datetime.now(UTC).replace(second=0, microsecond=0)
    _due(schedule_id, slot)
    assert fire_due_schedules(slot + timedelta(seconds=1))["failed"] == 1
    firing = ScheduleFiring.objects.get(schedule_id=schedule_id)
    assert firing.error["code"] == "invalid_inputs"
    assert firing.run_id is None
    assert not Run.objects.exists()
