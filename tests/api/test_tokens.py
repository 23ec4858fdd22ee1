"""API tokens: scopes, expiry, and who may make which token."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from server.accounts.authentication import token_for_key
from server.accounts.models import ApiToken, Membership, Role, Workspace
from server.accounts.selectors import roles_by_workspace
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


def test_the_token_lookup_reads_the_callers_roles_in_the_same_statement(make_member):
    """A script's request reads its token, user and roles in one round trip, roles oldest first."""
    user, first = make_member("roles", Role.VIEWER)
    second = Workspace.objects.create(name="second")
    joined = Membership.objects.create(workspace=second, user=user, role=Role.EDITOR)
    # Joined earlier than it was written: the order is the memberships' age, not the rows'.
    Membership.objects.filter(pk=joined.pk).update(created_at=timezone.now() - timedelta(days=1))
    _, key = create_token(user=user, name="t")
    with CaptureQueriesContext(connection) as queries:
        token = token_for_key(key)
        assert token is not None
        roles = roles_by_workspace(token.user)
    assert len(queries.captured_queries) == 1, [q["sql"] for q in queries.captured_queries]
    assert list(roles.items()) == [(second.pk, Role.EDITOR), (first.pk, Role.VIEWER)]
    # Through a request: the view's role check asks the database nothing more.
    with CaptureQueriesContext(connection) as queries:
        assert client_with(key).get(f"/api/v1/workspaces/{second.pk}/").status_code == 200
    memberships = [q["sql"] for q in queries.captured_queries if "accounts_membership" in q["sql"]]
    assert ["accounts_apitoken" in sql for sql in memberships] == [True], memberships


def test_a_token_of_a_user_in_no_workspace_has_no_roles(db):
    user = get_user_model().objects.create_user(username="alone", password="pw-alone-1234")
    _, key = create_token(user=user, name="t")
    token = token_for_key(key)
    assert token is not None
    assert token.user == user
    assert roles_by_workspace(token.user) == {}
    assert client_with(key).get("/api/v1/workflows/").json()["results"] == []
