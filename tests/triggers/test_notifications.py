"""Notifications of a run's end: signed webhooks through the guard, retried; email."""

import json
import socketserver
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from server.credentials.services import create_credential
from server.runs.models import Run, RunEvent, RunState
from server.runs.publisher import publish_run_events
from server.runs.services import start
from server.triggers.models import DeliveryState, NotificationDelivery
from server.triggers.notifications import send_due_notifications
from server.triggers.webhooks import signature_of
from server.workflows.models import Workflow
from tests.support.documents import document, node
from tests.support.http_servers import LocalServer

pytestmark = pytest.mark.django_db


class FlakyReceiver(LocalServer):
    """Answers 500 to the first ``failures`` requests, then 204."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def answer(self, handler, query):
        handler.reply(500 if len(self.requests) <= self.failures else 204, b"")


@pytest.fixture
def receiver(settings):
    with FlakyReceiver(failures=2) as server:
        settings.AGENTLOOM_EGRESS = {
            **settings.AGENTLOOM_EGRESS,
            "allow": [f"127.0.0.1:{server.port}"],
        }
        yield server


def _ended_run(api, owner, notifications, state=RunState.FAILED) -> Run:
    doc = document([node("echo")], notifications=notifications)
    response = api.post("/api/v1/workflows/", {"document": doc}, format="json")
    assert response.status_code == 201, response.content
    workflow = Workflow.objects.get(pk=response.json()["id"])
    run = start.create_run(workflow=workflow, user=owner[0], inputs={})
    # The run's end as the runs service commits and publishes it.
    Run.objects.filter(pk=run.pk).update(state=state, finished_at=timezone.now())
    run.refresh_from_db()
    event = RunEvent(run=run, seq=99, ts=timezone.now(), type=f"run.{state}", data={})
    publish_run_events(run, [event])
    publish_run_events(run, [event])  # published twice: still notified once
    return run


def _drain(times: int = 6) -> None:
    later = timezone.now()
    for _ in range(times):
        later += timedelta(minutes=10)
        send_due_notifications(later)


def test_a_signed_webhook_is_delivered_once_after_two_failures(api, owner, receiver):
    credential = create_credential(
        user=owner[0],
        workspace_id=owner[1].pk,
        name="hook signing",
        provider="http",
        secret={"token": "notify-signing-key-0123456789"},
        config={},
    )
    target = {"on": ["failed"], "kind": "webhook", "url": receiver.url + "/in"}
    run = _ended_run(api, owner, [{**target, "credential": str(credential.pk)}])
    _drain()
    assert len(receiver.requests) == 3  # 500, 500, then 204
    delivery = NotificationDelivery.objects.get(run=run)
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.attempts == 3
    assert delivery.last_status == 204
    last = receiver.requests[-1]
    body = json.loads(last["body"])
    assert body["event"] == "run.failed"
    assert body["run"]["id"] == str(run.pk)
    headers = {name.lower(): value for name, value in last["headers"].items()}
    stamp = headers["x-agentloom-timestamp"]
    expected = signature_of("notify-signing-key-0123456789", stamp, last["body"])
    assert headers["x-agentloom-signature"] == expected
    assert b"notify-signing-key" not in last["body"]
    log = api.get(f"/api/v1/runs/{run.pk}/notifications/").json()
    assert [(d["event"], d["state"], d["attempts"]) for d in log] == [("failed", "delivered", 3)]


def test_events_not_listed_send_nothing(api, owner, receiver):
    target = {"on": ["failed"], "kind": "webhook", "url": receiver.url + "/in"}
    _ended_run(api, owner, [target], state=RunState.SUCCEEDED)
    _drain()
    assert receiver.requests == []
    assert not NotificationDelivery.objects.exists()


def test_a_refused_address_fails_at_once(api, owner, settings):
    target = {"on": ["failed"], "kind": "webhook", "url": "http://169.254.169.254/latest"}
    run = _ended_run(api, owner, [target])
    _drain()
    delivery = NotificationDelivery.objects.get(run=run)
    assert delivery.state == DeliveryState.FAILED
    assert delivery.attempts == 1


def test_email_goes_through_django_s_backend(api, owner, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    target = {"on": ["failed", "succeeded"], "kind": "email", "to": ["ops@example.com"]}
    run = _ended_run(api, owner, [target])
    _drain()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.com"]
    assert str(run.pk) in mail.outbox[0].body


def test_another_workspace_cannot_read_the_log(api, owner, receiver, make_member, client_for):
    target = {"on": ["failed"], "kind": "webhook", "url": receiver.url + "/in"}
    run = _ended_run(api, owner, [target])
    stranger = client_for(make_member("stranger")[0])
    assert stranger.get(f"/api/v1/runs/{run.pk}/notifications/").status_code == 404


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend to hand over one message."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                self.wfile.write(b"250 test\r\n")
            elif command == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data)
                self.server.messages.append(b"".join(lines))
                self.wfile.write(b"250 queued\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_email_through_a_real_smtp_exchange(api, owner, settings):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.server_address[1]
        run = _ended_run(api, owner, [{"on": ["failed"], "kind": "email", "to": ["a@b.test"]}])
        _drain()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert len(server.messages) == 1
    assert str(run.pk).encode() in server.messages[0]
    assert NotificationDelivery.objects.get(run=run).state == DeliveryState.DELIVERED
