"""Webhook triggers: the secret, the signature, idempotency, the rate and hostile bodies."""

import json
import logging
import threading
import time

import pytest
from django.db import close_old_connections
from django.test import Client

from server.runs.models import Run, RunEvent, Trigger
from server.triggers.models import WebhookTrigger
from server.triggers.webhooks import Call, receive
from tests.support.processes import free_port
from tests.triggers.signing import as_django_headers, signed_headers

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(api, make_workflow):
    """A new trigger's answer (with its one-time secret) and a function posting to it."""
    workflow = make_workflow()
    created = api.post(
        "/api/v1/triggers/",
        {"workflow": str(workflow.pk), "name": "orders", "inputs": "{'n': body.count}"},
        format="json",
    )
    assert created.status_code == 201, created.content
    trigger = created.json()
    client = Client()

    def post(body: bytes, *, secret=None, timestamp=None, headers=None):
        signing = signed_headers(secret or trigger["secret"], body, timestamp)
        return client.post(
            trigger["url"],
            body,
            content_type="application/json",
            **as_django_headers({**signing, **(headers or {})}),
        )

    return trigger, post


def test_a_signed_call_starts_a_run_with_the_mapped_inputs(hook):
    _trigger, post = hook
    response = post(b'{"count": 4}')
    assert response.status_code == 202, response.content
    run = Run.objects.get(pk=response.json()["run"])
    assert run.trigger == Trigger.WEBHOOK
    assert run.inputs == {"n": 4}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"secret": "whsec_wrong"}, "signature_invalid"),
        # Seconds from the moment of sending, not of collecting the tests.
        ({"timestamp_from_now": -301}, "signature_stale"),
        ({"timestamp_from_now": 400}, "signature_stale"),
        ({"headers": {"X-Agentloom-Timestamp": "\u0661\u0662"}}, "signature_required"),
    ],
)
def test_wrong_or_stale_signatures_are_refused_and_start_nothing(hook, change, code):
    _trigger, post = hook
    if "timestamp_from_now" in change:
        change = {"timestamp": int(time.time()) + change["timestamp_from_now"]}
    response = post(b'{"count": 1}', **change)
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert not Run.objects.exists()


def test_a_missing_signature_is_refused(hook):
    trigger, _ = hook
    response = Client().post(trigger["url"], b"{}", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "signature_required"


def test_a_trigger_may_take_unsigned_calls(api, hook):
    trigger, _ = hook
    api.patch(f"/api/v1/triggers/{trigger['id']}/", {"require_signature": False}, format="json")
    response = Client().post(trigger["url"], b'{"count": 2}', content_type="application/json")
    assert response.status_code == 202


def test_a_replayed_idempotency_key_returns_the_same_run(hook):
    _, post = hook
    first = post(b'{"count": 1}', headers={"Idempotency-Key": "order-17"})
    again = post(b'{"count": 1}', headers={"Idempotency-Key": "order-17"})
    other = post(b'{"count": 1}', headers={"Idempotency-Key": "order-18"})
    assert first.status_code == again.status_code == 202
    assert first.json()["run"] == again.json()["run"] != other.json()["run"]
    assert Run.objects.count() == 2


def test_a_burst_over_the_rate_gets_429(api, hook):
    trigger, post = hook
    api.patch(f"/api/v1/triggers/{trigger['id']}/", {"rate_per_minute": 3}, format="json")
    answers = [post(b'{"count": 1}').status_code for _ in range(5)]
    assert answers[:3] == [202, 202, 202]
    assert answers[3:] == [429, 429]
    limited = post(b'{"count": 1}')
    assert int(limited["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"x" * (1024 * 1024 + 1), 413, "payload_too_large"),
        (b'{"count": NaN}', 400, "malformed_json"),
        (b'{"count": 1e400}', 400, "malformed_json"),
        (b'{"count": "\\u0000"}', 400, "unsupported_character"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "malformed_json"),
        (b"\xff\xfe", 400, "malformed_body"),
        (b'{"count": ' + b'"' + b"y" * 900_000 + b'"}', 400, "invalid_inputs"),
    ],
)
def test_hostile_bodies_are_refused_with_a_clear_answer(hook, body, status, code):
    _, post = hook
    response = post(body)
    assert response.status_code == status, response.content[:300]
    assert response.json()["code"] == code
    assert not Run.objects.exists()


def test_unknown_disabled_and_malformed_tokens_all_answer_the_same_404(api, hook):
    trigger, post = hook
    api.patch(f"/api/v1/triggers/{trigger['id']}/", {"enabled": False}, format="json")
    disabled = post(b'{"count": 1}')
    unknown = Client().post("/hooks/" + "A" * 43, b"{}", content_type="application/json")
    odd = Client().post("/hooks/%00..%2F", b"{}", content_type="application/json")
    assert disabled.status_code == unknown.status_code == odd.status_code == 404
    assert disabled.json() == unknown.json() == odd.json()


def test_the_secret_is_shown_once_and_rotates(api, hook, caplog):
    trigger, post = hook
    secret = trigger["secret"]
    assert secret.startswith("whsec_")
    shown = [
        api.get(f"/api/v1/triggers/{trigger['id']}/").content,
        api.get("/api/v1/triggers/").content,
        api.patch(f"/api/v1/triggers/{trigger['id']}/", {"name": "n2"}, format="json").content,
    ]
    assert all(secret.encode() not in body for body in shown)
    assert "secret" not in json.loads(shown[0])
    with caplog.at_level(logging.DEBUG):
        rotated = api.post(f"/api/v1/triggers/{trigger['id']}/rotate-secret/").json()["secret"]
        assert rotated != secret
        assert post(b'{"count": 1}').status_code == 401  # the old secret
        run_id = post(b'{"count": 1}', secret=rotated).json()["run"]
    assert secret not in caplog.text
    assert rotated not in caplog.text
    assert trigger["url"] not in caplog.text  # the token is a credential too
    events = json.dumps([e.data for e in RunEvent.objects.filter(run_id=run_id)])
    assert secret not in events
    assert rotated not in events
    stored = WebhookTrigger.objects.get(pk=trigger["id"])
    assert rotated.encode() not in bytes(stored.secret_token)


def test_another_workspace_cannot_see_or_rotate(hook, make_member, client_for):
    trigger, _ = hook
    stranger = client_for(make_member("stranger")[0])
    assert stranger.get(f"/api/v1/triggers/{trigger['id']}/").status_code == 404
    assert stranger.post(f"/api/v1/triggers/{trigger['id']}/rotate-secret/").status_code == 404
    assert stranger.get("/api/v1/triggers/").json()["results"] == []


def test_a_viewer_cannot_rotate(hook, owner, make_member, client_for):
    trigger, _ = hook
    viewer = client_for(make_member("viewer", "viewer", owner[1])[0])
    assert viewer.get(f"/api/v1/triggers/{trigger['id']}/").status_code == 200
    assert viewer.post(f"/api/v1/triggers/{trigger['id']}/rotate-secret/").status_code == 403


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"inputs": "{'a': "}, "inputs"),
        ({"wait_s": 10**400}, "wait_s"),
        ({"respond": "later"}, "respond"),
        ({"rate_per_minute": 0}, "rate_per_minute"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_triggers_are_refused(api, make_workflow, fields, field):
    body = {"workflow": str(make_workflow().pk), "name": "t", **fields}
    response = api.post("/api/v1/triggers/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not WebhookTrigger.objects.exists()


def test_get_on_a_hook_is_not_allowed():
    assert Client().get("/hooks/" + "A" * 43).status_code == 405


def test_a_malformed_idempotency_key_is_refused(hook):
    _, post = hook
    for key in ["k" * 201, "caf\u00e9", "a b"]:
        response = post(b'{"count": 1}', headers={"Idempotency-Key": key})
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_idempotency_key"
    assert not Run.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_with_one_key_start_one_run(api, make_workflow):
    workflow = make_workflow()
    created = api.post(
        "/api/v1/triggers/",
        {"workflow": str(workflow.pk), "name": "t", "require_signature": False},
        format="json",
    ).json()
    token = created["url"].rsplit("/", 1)[1]
    call = Call(b"{}", "application/json", {"idempotency-key": "same"}, {})
    barrier, answers = threading.Barrier(6), []

    def send():
        barrier.wait()
        try:
            answers.append(receive(token, call).run_id)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 6
    assert len(set(answers)) == 1
    assert Run.objects.count() == 1


def test_the_runs_list_filters_by_trigger(api, hook, make_workflow):
    _, post = hook
    webhook_run = post(b'{"count": 1}').json()["run"]
    other = make_workflow().pk
    manual = api.post(f"/api/v1/workflows/{other}/runs/", {"inputs": {}}, format="json")
    assert manual.status_code == 202
    listed = api.get("/api/v1/runs/", {"trigger": "webhook"}).json()["results"]
    assert [r["id"] for r in listed] == [webhook_run]
    assert api.get("/api/v1/runs/", {"trigger": "nope"}).status_code == 400


@pytest.mark.parametrize(
    ("mapping", "code"),
    [
        ("{'n': $decodeUrl('%00')}", "unsupported_character"),
        ("{'n': 1/0}", "inputs_expression"),
        ("[1, 2]", "invalid_inputs"),
        ("$count([1..100000000])", "inputs_expression"),
    ],
)
def test_a_hostile_mapping_is_refused_not_stored(api, hook, mapping, code):
    trigger, post = hook
    changed = api.patch(f"/api/v1/triggers/{trigger['id']}/", {"inputs": mapping}, format="json")
    assert changed.status_code == 200, changed.content
    response = post(b'{"count": 1}')
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert not Run.objects.exists()


def test_redis_down_answers_503_not_500(hook, settings):
    _, post = hook
    # The rate limit's cache on a loopback port nothing listens on: Redis restarting.
    settings.CACHES = {
        "default": {
            "BACKEND": "server.core.cache.SharedRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    response = post(b'{"count": 1}')
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    assert response["Retry-After"]
