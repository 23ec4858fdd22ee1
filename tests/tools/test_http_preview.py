"""``POST workflows/<id>/http-preview/``: the editor's "Send test request" (SPEC §11)."""

import json

import pytest

from server.accounts.models import Role
from server.credentials.services import create_credential
from server.workflows.services import create_workflow
from tests.support.http_servers import TrapServer
from tests.tools.servers import ApiServer

pytestmark = pytest.mark.django_db

TOKEN = "tok-Preview-Secret-5Kd8Wq1Zp3"


@pytest.fixture
def receiver():
    with ApiServer() as server:
        yield server


@pytest.fixture
def allowed(settings, receiver):
    settings.AGENTLOOM_EGRESS = {
        **settings.AGENTLOOM_EGRESS,
        "allow": [f"127.0.0.1:{receiver.port}"],
        "rate_per_workspace": "1000/min",
    }
    return settings.AGENTLOOM_EGRESS


@pytest.fixture
def workflow(owner):
    return create_workflow(user=owner[0], workspace_id=owner[1].pk)


def url_of(workflow) -> str:
    return f"/api/v1/workflows/{workflow.pk}/http-preview/"


def config(url: str, **extra):
    return {"method": "GET", "url": url, **extra}


def preview(api, workflow, cfg, sample=None):
    body = {"config": cfg} if sample is None else {"config": cfg, "input": sample}
    return api.post(url_of(workflow), body, format="json")


def test_renders_the_templates_and_shows_the_answer(api, workflow, receiver, allowed):
    cfg = config(
        f"{receiver.url}/json",
        query={"q": "{{ $.topic }}"},
        headers={"X-Topic": "about {{ $.topic }}"},
        idempotency_key="order-{{ $.topic }}",
        side_effect="irreversible",
    )
    response = preview(api, workflow, cfg, {"topic": "rivers"})
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["status"] == 200
    assert json.loads(answer["body"]) == {"hello": "world", "q": "rivers"}
    assert answer["headers"]["content-type"] == "application/json"
    assert answer["truncated"] is False
    assert answer["request"]["url"] == f"{receiver.url}/json?q=rivers"
    (sent,) = receiver.seen("GET", "/json")
    assert sent["headers"]["X-Topic"] == "about rivers"
    # The run's real request must not be taken for a repeat of the test.
    assert "Idempotency-Key" not in sent["headers"]


def test_an_error_status_is_shown_with_the_credential_redacted(
    api, owner, workflow, receiver, allowed
):
    credential = create_credential(
        user=owner[0],
        workspace_id=owner[1].pk,
        name="svc",
        provider="http",
        secret={"token": TOKEN, "headers": {"X-Api-Key": TOKEN + "-h"}},
        config={},
    )
    cfg = config(
        f"{receiver.url}/fail",
        credential=str(credential.pk),
        headers={"Authorization": "Bearer typed-by-hand"},
    )
    response = preview(api, workflow, cfg)
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == 500
    (sent,) = receiver.seen("GET", "/fail")
    assert sent["headers"]["Authorization"] == f"Bearer {TOKEN}"
    # The receiver echoed the credential into its body: the answer shows it redacted.
    assert answer["body"] == "boom [redacted]"
    assert answer["request"]["headers"]["Authorization"] == "[hidden]"
    assert TOKEN not in response.content.decode()
    assert "typed-by-hand" not in response.content.decode()


def test_a_large_body_is_truncated_and_an_oversized_one_refused(api, workflow, receiver, allowed):
    answer = preview(api, workflow, config(f"{receiver.url}/big?bytes=50000")).json()
    assert answer["truncated"] is True
    assert len(answer["body"]) == 16_384
    assert answer["bytes"] == 50_000
    response = preview(api, workflow, config(f"{receiver.url}/big?bytes=2000000"))
    assert response.status_code == 422
    assert response.json()["code"] == "egress_too_large"


def test_private_addresses_are_refused_before_connecting(api, workflow, allowed):
    with TrapServer() as trap:
        for url in (
            f"{trap.url}/x",
            "http://169.254.169.254/latest/meta-data/",
            "file:///etc/passwd",
        ):
            response = preview(api, workflow, config(url))
            assert response.status_code == 400, (url, response.json())
            assert response.json()["code"] in ("egress_refused", "invalid_config"), url
        assert trap.requests == []
    response = preview(api, workflow, config("http://10.1.2.3/"))
    assert response.json()["code"] == "egress_refused"


def test_the_workspace_rate_applies(api, workflow, receiver, settings, allowed):
    settings.AGENTLOOM_EGRESS = {**allowed, "rate_per_workspace": "2/hour"}
    cfg = config(f"{receiver.url}/json")
    responses = [preview(api, workflow, cfg) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[2].json()["code"] == "egress_rate_limited"
    assert int(responses[2]["Retry-After"]) > 0


def test_roles_and_workspaces(api, owner, make_member, client_for, workflow, receiver, allowed):
    viewer, _ = make_member("viewer", Role.VIEWER, owner[1])
    response = preview(client_for(viewer), workflow, config(f"{receiver.url}/json"))
    assert response.status_code == 403
    stranger, elsewhere = make_member("stranger")
    response = preview(client_for(stranger), workflow, config(f"{receiver.url}/json"))
    assert response.status_code == 404
    theirs = create_credential(
        user=stranger,
        workspace_id=elsewhere.pk,
        name="theirs",
        provider="http",
        secret={"token": TOKEN},
        config={},
    )
    response = preview(api, workflow, config(f"{receiver.url}/json", credential=str(theirs.pk)))
    assert response.status_code == 400
    assert response.json()["code"] == "credential_not_found"
    assert receiver.seen() == []


@pytest.mark.parametrize(
    ("cfg", "code"),
    [
        ("not an object", "invalid"),
        ({"method": "GET"}, "invalid_config"),
        ({"method": "BREW", "url": "http://x/"}, "invalid_config"),
        ({"method": "GET", "url": "http://x/\x00"}, "unsupported_character"),
        ({"method": "GET", "url": "http://x/" + "a" * 1_000_000}, "invalid_config"),
        ({"method": "GET", "url": "http://x/{{ $.a"}, "invalid_config"),
        ({"method": "GET", "url": "http://x/", "timeout_s": "\u0661\u0660"}, "invalid_config"),
        ({"method": "GET", "url": "http://x/", "timeout_s": 10**400}, "invalid_config"),
        ({"method": "GET", "url": "http://x/", "headers": {"X\nY": "v"}}, "invalid_config"),
    ],
)
def test_hostile_configs_are_refused(api, workflow, receiver, allowed, cfg, code):
    response = api.post(url_of(workflow), {"config": cfg}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == code
    assert receiver.seen() == []


def test_hostile_inputs_are_refused(api, workflow, receiver, allowed):
    cfg = config(f"{receiver.url}/json", headers={"X-V": "{{ $.v }}"})
    # A rendered value may not split the request.
    response = preview(api, workflow, cfg, {"v": "a\r\nInjected: yes"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    deep = current = {}
    for _ in range(5000):
        current["v"] = {}
        current = current["v"]
    raw = json.dumps({"config": cfg, "input": deep})
    response = api.post(url_of(workflow), raw, content_type="application/json")
    assert response.status_code == 400
    raw = '{"config": {"method": "GET", "url": "http://x/"}, "input": {"v": NaN}}'
    response = api.post(url_of(workflow), raw, content_type="application/json")
    assert response.status_code == 400
    # The expression budget bounds what a template may cost the API process.
    costly = config(f"{receiver.url}/json?q={{{{ $count([1..9999999].($string($))) }}}}")
    response = preview(api, workflow, costly)
    assert response.status_code == 400
    assert response.json()["code"] == "expression_error"
    assert receiver.seen() == []
