"""API tokens: scopes, expiry, and who may make which token."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from server.accounts.models import ApiToken
from server.accounts.services import create_token
from tests.support.documents import chain

pytestmark = pytest.mark.django_db


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def workflow_id(api, owner):
    response = api.post("/api/v1/workflows/", {"name": "w", "document": chain(1)}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_new_tokens_have_scopes_and_the_default_expiry(owner, settings):
    response = session_client(owner[0]).post("/api/v1/tokens/", {"name": "ci"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["scopes"] == ["read", "run", "write", "admin"]
    token = ApiToken.objects.get(pk=body["id"])
    expected = timezone.now() + timedelta(days=settings.AGENTLOOM_TOKENS["default_ttl_days"])
    assert abs((token.expires_at - expected).total_seconds()) < 60


def test_each_scope_allows_only_its_requests(owner, workflow_id):
    user, workspace = owner
    read = client_with(create_token(user=user, name="r", scopes=["read"])[1])
    run = client_with(create_token(user=user, name="x", scopes=["run"])[1])
    write = client_with(create_token(user=user, name="w", scopes=["write"])[1])

    assert read.get("/api/v1/workflows/").status_code == 200
    denied = read.post("/api/v1/workflows/", {"name": "n"}, format="json")
    assert denied.status_code == 403
    assert denied.json()["code"] == "insufficient_scope"
    assert read.post(f"/api/v1/workflows/{workflow_id}/runs/", {}, format="json").status_code == 403

    assert run.get("/api/v1/workflows/").status_code == 403
    started = run.post(f"/api/v1/workflows/{workflow_id}/runs/", {}, format="json")
    assert started.status_code == 202, started.json()
    assert run.post("/api/v1/workflows/", {"name": "n"}, format="json").status_code == 403

    assert write.post("/api/v1/workflows/", {"name": "n"}, format="json").status_code == 201
    runs_url = f"/api/v1/workflows/{workflow_id}/runs/"
    assert write.post(runs_url, {}, format="json").status_code == 403
    # Tokens, members and workspace settings need admin.
    assert write.post("/api/v1/tokens/", {"name": "t"}, format="json").status_code == 403
    assert (
        write.post(
            f"/api/v1/workspaces/{workspace.pk}/invitations/",
            {"username": "owner", "role": "viewer"},
            format="json",
        ).status_code
        == 403
    )
    assert (
        write.patch(
            f"/api/v1/workspaces/{workspace.pk}/", {"max_running_runs": 3}, format="json"
        ).status_code
        == 403
    )


def test_expired_token_is_401_token_expired(owner):
    token, key = create_token(user=owner[0], name="old")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client_with(key).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_cannot_mint_a_stronger_or_longer_lived_token(owner):
    user = owner[0]
    parent, key = create_token(
        user=user,
        name="parent",
        scopes=["read", "admin"],
        expires_at=timezone.now() + timedelta(days=5),
    )
    client = client_with(key)

    broader = client.post("/api/v1/tokens/", {"name": "c", "scopes": ["write"]}, format="json")
    assert broader.status_code == 400
    assert broader.json()["code"] == "token_scopes_exceed_caller"

    later = (timezone.now() + timedelta(days=6)).isoformat()
    longer = client.post("/api/v1/tokens/", {"name": "c", "expires_at": later}, format="json")
    assert longer.status_code == 400
    assert longer.json()["code"] == "token_expiry_too_late"

    child = client.post("/api/v1/tokens/", {"name": "c"}, format="json")
    assert child.status_code == 201
    assert child.json()["scopes"] == ["read", "admin"]
    child_token = ApiToken.objects.get(pk=child.json()["id"])
    assert child_token.expires_at <= parent.expires_at
    assert ApiToken.objects.filter(user=user).count() == 2


def test_expiry_is_capped_by_the_operator_and_must_be_in_the_future(owner, settings):
    client = session_client(owner[0])
    too_late = timezone.now() + timedelta(days=settings.AGENTLOOM_TOKENS["max_ttl_days"] + 1)
    response = client.post(
        "/api/v1/tokens/", {"name": "t", "expires_at": too_late.isoformat()}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "token_expiry_too_late"
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = client.post("/api/v1/tokens/", {"name": "t", "expires_at": past}, format="json")
    assert response.json()["code"] == "token_expiry_in_past"
    for bad in ([], ["root"], "read", ["read"] * 5):
        response = client.post("/api/v1/tokens/", {"name": "t", "scopes": bad}, format="json")
        assert response.status_code == 400, bad
        assert response.json()["code"] == "invalid"
    assert not ApiToken.objects.exists()


def test_a_deactivated_users_token_stops_working(owner):
    user = owner[0]
    key = create_token(user=user, name="t")[1]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client_with(key).get("/api/v1/me/").status_code == 401
