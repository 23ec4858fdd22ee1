"""The notification settings API: validated targets, editors only, one new version per change."""

import uuid

import pytest
from django.utils import timezone

from server.accounts.models import Role, Workspace
from server.credentials.services import create_credential
from server.runs.models import Run, RunEvent, RunState
from server.runs.publisher import publish_run_events
from server.runs.services import start
from server.triggers.notifications import send_due_notifications
from server.workflows.models import Workflow, WorkflowVersion
from tests.support.http_servers import LocalServer

pytestmark = pytest.mark.django_db


class Receiver(LocalServer):
    def answer(self, handler, query):
        handler.reply(204, b"")


@pytest.fixture
def receiver(settings):
    with Receiver() as server:
        settings.AGENTLOOM_EGRESS = {
            **settings.AGENTLOOM_EGRESS,
            "allow": [f"127.0.0.1:{server.port}"],
        }
        yield server


def _url(workflow: Workflow) -> str:
    return f"/api/v1/workflows/{workflow.pk}/notifications/"


def _http_credential(owner, workspace=None, provider="http", secret=None):
    return create_credential(
        user=owner[0],
        workspace_id=(workspace or owner[1]).pk,
        name=f"signing {uuid.uuid4().hex[:6]}",
        provider=provider,
        secret=secret or {"token": "notify-signing-key-0123456789"},
        config={},
    )


def test_targets_are_saved_as_a_new_version_and_read_back(api, owner, make_workflow, receiver):
    workflow = make_workflow()
    credential = _http_credential(owner)
    assert api.get(_url(workflow)).json() == {"version": 1, "notifications": []}
    targets = [
        {"on": ["failed", "failed"], "kind": "webhook", "url": receiver.url + "/in"},
        {
            "on": ["succeeded", "failed"],
            "kind": "webhook",
            "url": receiver.url + "/signed",
            "credential": str(credential.pk),
        },
        {"on": ["waiting"], "kind": "email", "to": ["ops@example.com", "ops@example.com"]},
    ]
    response = api.put(_url(workflow), {"version": 1, "notifications": targets}, format="json")
    assert response.status_code == 200, response.content
    saved = [
        {"on": ["failed"], "kind": "webhook", "url": receiver.url + "/in"},
        {**targets[1]},
        {"on": ["waiting"], "kind": "email", "to": ["ops@example.com"]},
    ]
    assert response.json() == {"version": 2, "notifications": saved}
    assert api.get(_url(workflow)).json() == {"version": 2, "notifications": saved}
    latest = WorkflowVersion.objects.filter(workflow=workflow).order_by("-number").first()
    assert (latest.number, latest.message) == (2, "Notifications changed")
    assert latest.document["settings"]["notifications"] == saved
    assert latest.document["settings"]["max_concurrency"]  # the other settings stay
    assert latest.document["nodes"] == workflow.document["nodes"]


def test_an_empty_list_turns_notifications_off(api, make_workflow, receiver):
    workflow = make_workflow()
    target = {"on": ["failed"], "kind": "webhook", "url": receiver.url}
    api.put(_url(workflow), {"version": 1, "notifications": [target]}, format="json")
    response = api.put(_url(workflow), {"version": 2, "notifications": []}, format="json")
    assert response.json() == {"version": 3, "notifications": []}


def test_a_stale_version_is_a_conflict(api, make_workflow, receiver):
    workflow = make_workflow()
    target = {"on": ["failed"], "kind": "webhook", "url": receiver.url}
    api.put(_url(workflow), {"version": 1, "notifications": [target]}, format="json")
    response = api.put(_url(workflow), {"version": 1, "notifications": []}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "version_conflict"
    assert api.get(_url(workflow)).json()["notifications"] == [target]


UNKNOWN = str(uuid.uuid4())
HOSTILE_TARGETS = [
    pytest.param({"on": ["failed"], "kind": "sms", "to": ["a@b.test"]}, id="unknown-kind"),
    pytest.param({"on": [], "kind": "email", "to": ["a@b.test"]}, id="no-event"),
    pytest.param({"on": ["started"], "kind": "email", "to": ["a@b.test"]}, id="unknown-event"),
    pytest.param({"on": "failed", "kind": "email", "to": ["a@b.test"]}, id="on-a-string"),
    pytest.param({"on": [["failed"]], "kind": "email", "to": ["a@b.test"]}, id="on-nested"),
    pytest.param({"kind": "email", "to": ["a@b.test"]}, id="on-missing"),
    pytest.param({"on": ["failed"], "kind": "email"}, id="no-recipients"),
    pytest.param({"on": ["failed"], "kind": "email", "to": []}, id="empty-recipients"),
    pytest.param({"on": ["failed"], "kind": "email", "to": "a@b.test"}, id="to-a-string"),
    pytest.param({"on": ["failed"], "kind": "email", "to": ["not-an-address"]}, id="bad-address"),
    pytest.param(
        {"on": ["failed"], "kind": "email", "to": ["a@b.test\r\nBcc: all@b.test"]},
        id="header-injection",
    ),
    pytest.param(
        {"on": ["failed"], "kind": "email", "to": [f"u{i}@b.test" for i in range(21)]},
        id="too-many-recipients",
    ),
    pytest.param(
        {"on": ["failed"], "kind": "email", "to": ["a@b.test"], "url": "https://x.test"},
        id="email-with-url",
    ),
    pytest.param(
        {"on": ["failed"], "kind": "email", "to": ["a@b.test"], "secret": "s"},
        id="unknown-field",
    ),
    pytest.param({"on": ["failed"], "kind": "webhook"}, id="no-url"),
    pytest.param(
        {"on": ["failed"], "kind": "webhook", "url": "https://x.test", "to": ["a@b.test"]},
        id="webhook-with-recipients",
    ),
    pytest.param({"on": ["failed"], "kind": "webhook", "url": "file:///etc/passwd"}, id="file"),
    pytest.param({"on": ["failed"], "kind": "webhook", "url": "ftp://x.test/"}, id="ftp"),
    pytest.param({"on": ["failed"], "kind": "webhook", "url": "javascript:alert(1)"}, id="js"),
    pytest.param({"on": ["failed"], "kind": "webhook", "url": "http://"}, id="no-host"),
    pytest.param({"on": ["failed"], "kind": "webhook", "url": "http://a b.test/"}, id="space"),
    pytest.param({"on": ["failed"], "kind": "webhook", "url": "http://x.test/\x7f"}, id="control"),
    pytest.param(
        {"on": ["failed"], "kind": "webhook", "url": "https://x.test/" + "a" * 2000},
        id="url-too-long",
    ),
    pytest.param({"on": ["failed"], "kind": "webhook", "url": 17}, id="url-a-number"),
    pytest.param(
        {"on": ["failed"], "kind": "webhook", "url": "https://x.test", "credential": "nope"},
        id="credential-not-an-id",
    ),
    pytest.param(
        {"on": ["failed"], "kind": "webhook", "url": "https://x.test", "credential": UNKNOWN},
        id="credential-unknown",
    ),
    pytest.param("webhook", id="target-a-string"),
    pytest.param(None, id="target-null"),
    pytest.param([{"kind": "email"}], id="target-a-list"),
]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_a_bad_target_is_refused_and_nothing_is_written(api, make_workflow, target):
    workflow = make_workflow()
    response = api.put(_url(workflow), {"version": 1, "notifications": [target]}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert response.json()["message"].startswith("notifications")
    assert Workflow.objects.get(pk=workflow.pk).version == 1


PRIVATE_URLS = [
    "http://10.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://127.0.0.1:9/",
    "http://[::1]/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://192.168.1.1:8080/",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_an_address_the_guard_refuses_is_a_validation_error(api, make_workflow, url):
    workflow = make_workflow()
    target = {"on": ["failed"], "kind": "webhook", "url": url}
    response = api.put(_url(workflow), {"version": 1, "notifications": [target]}, format="json")
    assert response.status_code == 400, response.content
    assert "refused" in response.json()["message"]
    assert Workflow.objects.get(pk=workflow.pk).version == 1


def test_a_url_outside_the_workspace_s_domains_is_refused(api, owner, make_workflow, receiver):
    Workspace.objects.filter(pk=owner[1].pk).update(allowed_domains=["example.com"])
    workflow = make_workflow()
    target = {"on": ["failed"], "kind": "webhook", "url": receiver.url}
    response = api.put(_url(workflow), {"version": 1, "notifications": [target]}, format="json")
    assert response.status_code == 400
    assert "allowed domains" in response.json()["message"]


def test_the_credential_must_be_an_http_one_of_this_workspace(
    api, owner, make_workflow, make_member, receiver
):
    workflow = make_workflow()
    theirs = _http_credential(make_member("neighbour"))
    model_key = _http_credential(owner, provider="openai", secret={"api_key": "sk-test-0123456789"})
    for credential in (theirs, model_key):
        target = {
            "on": ["failed"],
            "kind": "webhook",
            "url": receiver.url,
            "credential": str(credential.pk),
        }
        response = api.put(_url(workflow), {"version": 1, "notifications": [target]}, format="json")
        assert response.status_code == 400, response.content
        assert "credential" in response.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"notifications": []}, id="no-version"),
        pytest.param({"version": "one", "notifications": []}, id="version-a-word"),
        pytest.param({"version": 1.5, "notifications": []}, id="version-a-fraction"),
        pytest.param({"version": True, "notifications": []}, id="version-a-boolean"),
        pytest.param({"version": 0, "notifications": []}, id="version-zero"),
        pytest.param({"version": 1}, id="no-list"),
        pytest.param({"version": 1, "notifications": {"kind": "email"}}, id="list-an-object"),
        pytest.param([], id="body-a-list"),
        pytest.param(
            {"version": 1, "notifications": [{"kind": "email", "to": ["a\x00@b.test"]}]},
            id="nul",
        ),
    ],
)
def test_a_malformed_body_is_refused(api, make_workflow, body):
    workflow = make_workflow()
    response = api.put(_url(workflow), body, format="json")
    assert response.status_code == 400, response.content
    assert Workflow.objects.get(pk=workflow.pk).version == 1


def test_at_most_ten_targets(api, make_workflow):
    workflow = make_workflow()
    targets = [{"on": ["failed"], "kind": "email", "to": [f"u{i}@b.test"]} for i in range(11)]
    response = api.put(_url(workflow), {"version": 1, "notifications": targets}, format="json")
    assert response.status_code == 400
    assert Workflow.objects.get(pk=workflow.pk).version == 1


def test_malformed_json_is_a_400(api, make_workflow):
    workflow = make_workflow()
    response = api.put(_url(workflow), b'{"version": 1,', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_viewers_read_but_cannot_change(owner, make_workflow, make_member, client_for):
    workflow = make_workflow()
    viewer = client_for(make_member("viewer", Role.VIEWER, owner[1])[0])
    assert viewer.get(_url(workflow)).status_code == 200
    body = {"version": 1, "notifications": [{"on": ["failed"], "kind": "email", "to": ["a@b.c"]}]}
    assert viewer.put(_url(workflow), body, format="json").status_code == 403
    assert viewer.put(_url(workflow), {"version": "x"}, format="json").status_code == 403
    assert Workflow.objects.get(pk=workflow.pk).version == 1


def test_another_workspace_gets_404(make_workflow, make_member, client_for):
    workflow = make_workflow()
    stranger = client_for(make_member("stranger")[0])
    body = {"version": 1, "notifications": []}
    assert stranger.get(_url(workflow)).status_code == 404
    assert stranger.put(_url(workflow), body, format="json").status_code == 404
    assert stranger.get(_url(workflow) + "deliveries/").status_code == 404
    assert Workflow.objects.get(pk=workflow.pk).version == 1


def test_the_deliveries_of_the_workflow_s_runs(api, owner, make_workflow, receiver):
    workflow = make_workflow()
    target = {"on": ["failed"], "kind": "webhook", "url": receiver.url + "/in"}
    response = api.put(_url(workflow), {"version": 1, "notifications": [target]}, format="json")
    assert response.status_code == 200
    workflow.refresh_from_db()
    run = start.create_run(workflow=workflow, user=owner[0], inputs={})
    Run.objects.filter(pk=run.pk).update(state=RunState.FAILED, finished_at=timezone.now())
    run.refresh_from_db()
    event = RunEvent(run=run, seq=99, ts=timezone.now(), type="run.failed", data={})
    publish_run_events(run, [event])
    send_due_notifications()
    deliveries = api.get(_url(workflow) + "deliveries/").json()
    assert len(deliveries) == 1
    delivery = deliveries[0]
    assert delivery["run"] == str(run.pk)
    assert delivery["destination"] == receiver.url + "/in"
    outcome = (delivery["event"], delivery["state"], delivery["attempts"], delivery["last_status"])
    assert outcome == ("failed", "delivered", 1, 204)
    assert len(receiver.requests) == 1
