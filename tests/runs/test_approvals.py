"""Approval nodes (SPEC §12) end to end: API → Postgres → real worker processes.

An approval waits in Postgres with no worker and no slot, survives the
restart of every worker, and moves on by a decision through the API or by its
timeout (the reaper), along the edges labelled for the decision.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from server.accounts.models import Role
from server.runs.models import Approval, NodeRun, Run
from server.runs.services import reaper
from server.triggers.models import NotificationDelivery
from tests.support.documents import document, edge, node
from tests.support.processes import FAST_RECOVERY, start_worker
from tests.support.runs import assert_log_is_sound, events_of, nodes_of, start_run, wait_for_run
from tests.support.services import purge_maintenance_queue

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_reaper_but_ours() -> None:
    """No reap task left by another module's beat may time approvals out behind our back."""
    purge_maintenance_queue()


@pytest.fixture
def own_worker():
    """A worker process of this test's own, without beat: the tests call the reaper."""
    process = start_worker("approvals", concurrency=4, **FAST_RECOVERY)
    yield process
    process.stop()


def gate_workflow(**config) -> dict:
    """input → draft → approval → (approved) publish / (rejected) revise → output."""
    config.setdefault("message", "Publish {{ draft }}?")
    return document(
        [
            node("input", "input"),
            node("draft", expression="'Post about ' & run.topic"),
            node("gate", "approval", **config),
            node("publish", expression="'published: ' & gate.input.draft"),
            node("revise", expression="'revise: ' & gate.comment"),
            node("output", "output"),
        ],
        [
            edge("input", "draft"),
            edge("draft", "gate", target_handle="draft"),
            edge("gate", "publish", label="approved"),
            edge("gate", "revise", label="rejected"),
            edge("publish", "output", target_handle="publish"),
            edge("revise", "output", target_handle="revise"),
        ],
        inputs={"topic": {"type": "string", "required": True}},
    )


def root_gate(**config) -> dict:
    """An approval with nothing before it waits as soon as the run starts: no worker needed."""
    config.setdefault("message", "Go ahead with {{ run.topic }}?")
    return document(
        [node("gate", "approval", **config), node("output", "output")],
        [edge("gate", "output")],
        inputs={"topic": {"type": "string", "required": True}},
    )


def wait_until_waiting(run_id, node_id: str = "gate", timeout: float = 30) -> NodeRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = NodeRun.objects.get(run_id=run_id, node_id=node_id)
        if found.state == "waiting":
            return found
        time.sleep(0.05)
    raise AssertionError(f"{node_id} is {found.state}, not waiting, after {timeout}s")


def decide(client, run_id, decision: str = "approve", **body):
    return client.post(
        f"/api/v1/runs/{run_id}/nodes/gate/decision/",
        {"decision": decision, **body},
        format="json",
    )


def assert_holds_nothing(run_id) -> None:
    """Waiting takes no worker and no slot: nothing queued, running or leased."""
    run = Run.objects.get(pk=run_id)
    assert run.state == "running"
    assert run.active_nodes == 0
    busy = NodeRun.objects.filter(run_id=run_id, state__in=("queued", "running", "retrying"))
    assert not busy.exists()
    assert NodeRun.objects.get(run_id=run_id, node_id="gate").worker == ""


def test_an_approval_waits_through_a_restart_of_every_worker_then_finishes(api, owner):
    first = start_worker("approvals-before", concurrency=4, **FAST_RECOVERY)
    try:
        run_id = start_run(api, gate_workflow(), {"topic": "cats"})["id"]
        wait_until_waiting(run_id)
    finally:
        first.kill()
    assert_holds_nothing(run_id)
    waiting = [e for e in events_of(run_id) if e.type == "node.waiting"]
    assert [e.data["message"] for e in waiting] == ["Publish Post about cats?"]
    assert waiting[0].data["approvers"] == "editors"
    second = start_worker("approvals-after", concurrency=4, **FAST_RECOVERY)
    try:
        time.sleep(1)
        assert_holds_nothing(run_id)
        response = decide(api, run_id, comment="looks good")
        assert response.status_code == 200, response.content
        assert response.json()["decision"] == "approve"
        assert response.json()["decided_by"] == owner[0].username
        run = wait_for_run(run_id)
    finally:
        second.stop()
    assert run.state == "succeeded", run.error
    assert run.output == {"output": {"publish": "published: Post about cats"}}
    nodes = nodes_of(run_id)
    assert nodes["revise"].state == "skipped"
    assert nodes["gate"].output["approved"] is True
    assert nodes["gate"].output["comment"] == "looks good"
    decided = [e for e in events_of(run_id) if e.type == "node.decided"]
    assert [e.data for e in decided] == [
        {
            "decision": "approve",
            "by": owner[0].username,
            "comment": "looks good",
            "timed_out": False,
        }
    ]
    assert_log_is_sound(run_id)


def test_a_rejection_takes_the_rejected_edge(api, own_worker):
    run_id = start_run(api, gate_workflow(), {"topic": "cats"})["id"]
    wait_until_waiting(run_id)
    response = decide(api, run_id, "reject", comment="too short")
    assert response.status_code == 200, response.content
    run = wait_for_run(run_id)
    assert run.state == "succeeded", run.error
    assert run.output == {"output": {"revise": "revise: too short"}}
    assert nodes_of(run_id)["publish"].state == "skipped"
    assert_log_is_sound(run_id)


@pytest.mark.parametrize(
    ("on_timeout", "state", "output"),
    [
        ("reject", "succeeded", {"output": {"revise": "revise: "}}),
        ("approve", "succeeded", {"output": {"publish": "published: Post about cats"}}),
        ("fail", "failed", None),
    ],
)
def test_a_timeout_applies_on_timeout(api, own_worker, on_timeout, state, output):
    run_id = start_run(api, gate_workflow(on_timeout=on_timeout, timeout_s=60), {"topic": "cats"})[
        "id"
    ]
    wait_until_waiting(run_id)
    assert reaper.reap().timed_out_approvals == 0
    # The deadline passed: moved back rather than slept through.
    Approval.objects.filter(run_id=run_id).update(deadline_at=timezone.now() - timedelta(seconds=1))
    assert reaper.reap().timed_out_approvals == 1
    run = wait_for_run(run_id)
    assert run.state == state, run.error
    assert run.output == output
    gate = nodes_of(run_id)["gate"]
    if on_timeout == "fail":
        assert gate.state == "failed"
        assert gate.error["code"] == "approval_timed_out"
        assert run.error["node_id"] == "gate"
    else:
        assert gate.output["timed_out"] is True
        assert gate.output["by"] is None
    assert Approval.objects.get(run_id=run_id).timed_out
    # A decision after the timeout finds nothing to decide.
    assert decide(api, run_id).status_code == 409
    assert_log_is_sound(run_id)


def test_only_approvers_decide_and_only_once(api, owner, make_member, client_for):
    workspace = owner[1]
    viewer, _ = make_member("vera", Role.VIEWER, workspace)
    named, _ = make_member("nina", Role.VIEWER, workspace)
    editor, _ = make_member("eddie", Role.EDITOR, workspace)
    editors_gate = start_run(api, root_gate(), {"topic": "cats"})["id"]
    named_gate = start_run(api, root_gate(approvers=["nina"]), {"topic": "dogs"})["id"]
    wait_until_waiting(editors_gate)
    wait_until_waiting(named_gate)
    as_viewer, as_named, as_editor = map(client_for, (viewer, named, editor))

    assert decide(as_viewer, editors_gate).status_code == 403
    assert decide(api, named_gate).status_code == 403
    assert decide(as_editor, named_gate).status_code == 403

    listed = {
        name: c.get("/api/v1/approvals/").json()
        for name, c in (("owner", api), ("viewer", as_viewer), ("named", as_named))
    }
    assert [a["run"] for a in listed["owner"]] == [editors_gate]
    assert listed["owner"][0]["message"] == "Go ahead with cats?"
    assert listed["owner"][0]["node_label"] == "gate"
    assert listed["viewer"] == []
    assert [(a["run"], a["approvers"]) for a in listed["named"]] == [(named_gate, ["nina"])]

    assert decide(as_named, named_gate, "reject").status_code == 200
    assert decide(as_editor, editors_gate).status_code == 200
    second = decide(api, editors_gate, "reject")
    assert second.status_code == 409
    assert second.json()["code"] == "already_decided"
    assert Approval.objects.get(run_id=editors_gate).decision == "approve"
    assert api.get("/api/v1/approvals/").json() == []
    for run_id in (editors_gate, named_gate):
        assert [e.type for e in events_of(run_id)].count("node.decided") == 1


def test_another_workspace_sees_no_approval(api, make_member, client_for):
    run_id = start_run(api, root_gate(), {"topic": "cats"})["id"]
    wait_until_waiting(run_id)
    stranger, _ = make_member("stranger")
    as_stranger = client_for(stranger)
    assert decide(as_stranger, run_id).status_code == 404
    assert as_stranger.get("/api/v1/approvals/").json() == []
    assert (
        api.post(
            f"/api/v1/runs/{run_id}/nodes/output/decision/", {"decision": "approve"}, format="json"
        ).status_code
        == 404
    )
    assert (
        api.post(
            f"/api/v1/runs/{run_id}/nodes/nope/decision/", {"decision": "approve"}, format="json"
        ).status_code
        == 404
    )
    for hostile in ("%00", "x" * 300, "gate%00"):
        response = api.post(
            f"/api/v1/runs/{run_id}/nodes/{hostile}/decision/",
            {"decision": "approve"},
            format="json",
        )
        assert response.status_code == 404, response.content
    assert NodeRun.objects.get(run_id=run_id, node_id="gate").state == "waiting"


def test_a_node_not_reached_yet_is_not_decided(api):
    run_id = start_run(api, gate_workflow(), {"topic": "cats"})["id"]
    response = decide(api, run_id)
    assert response.status_code == 409
    assert response.json()["code"] == "not_waiting"


@pytest.mark.parametrize(
    "body",
    [
        [],
        "approve",
        {},
        {"decision": "yes"},
        {"decision": None},
        {"decision": ["approve"]},
        {"decision": "approve", "comment": 5},
        {"decision": "approve", "comment": None},
        {"decision": "approve", "comment": "x" * 4001},
        {"decision": "approve", "comment": "nul \x00 byte"},
        {"decision": "approve", "by": "someone-else"},
    ],
)
def test_hostile_bodies_are_refused_and_change_nothing(api, body):
    run_id = start_run(api, root_gate(), {"topic": "cats"})["id"]
    wait_until_waiting(run_id)
    response = api.post(f"/api/v1/runs/{run_id}/nodes/gate/decision/", body, format="json")
    assert response.status_code == 400, response.content
    assert "code" in response.json()
    assert NodeRun.objects.get(run_id=run_id, node_id="gate").state == "waiting"
    assert Approval.objects.get(run_id=run_id).decision == ""


def test_a_cancelled_run_leaves_nothing_waiting(api):
    run_id = start_run(api, root_gate(), {"topic": "cats"})["id"]
    wait_until_waiting(run_id)
    assert api.post(f"/api/v1/runs/{run_id}/cancel/").status_code == 202
    assert NodeRun.objects.get(run_id=run_id, node_id="gate").state == "cancelled"
    assert api.get("/api/v1/approvals/").json() == []
    assert decide(api, run_id).status_code == 409


def test_a_waiting_approval_is_notified_once(api):
    doc = root_gate()
    doc["settings"]["notifications"] = [
        {"on": ["waiting"], "kind": "email", "to": ["ops@example.com"]},
        {"on": ["failed"], "kind": "email", "to": ["oncall@example.com"]},
    ]
    run_id = start_run(api, doc, {"topic": "cats"})["id"]
    wait_until_waiting(run_id)
    deliveries = NotificationDelivery.objects.filter(run_id=run_id)
    assert [(d.target, d.event) for d in deliveries] == [(0, "waiting")]
