import pytest
from rest_framework.test import APIClient

from server.accounts.models import ApiToken, hash_token_key

pytestmark = pytest.mark.django_db


def test_session_login_me_logout_with_csrf(owner):
    _user, workspace = owner
    client = APIClient(enforce_csrf_checks=True)
    csrf = client.get("/api/v1/auth/csrf/").json()["csrf_token"]
    response = client.post(
        "/api/v1/auth/login/", {"username": "owner", "password": "pw-owner"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["workspaces"] == [
        {"id": str(workspace.pk), "name": workspace.name, "role": "owner"}
    ]
    assert client.get("/api/v1/me/").json()["username"] == "owner"

    # An unsafe request of a session without the CSRF header is refused...
    assert client.post("/api/v1/workflows/", {"name": "x"}, format="json").status_code == 403
    # ...and accepted with it (login rotates the token: read the new cookie).
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/workflows/", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN=csrf
    )
    assert response.status_code == 201

    assert client.post("/api/v1/auth/logout/", HTTP_X_CSRFTOKEN=csrf).status_code == 204
    assert client.get("/api/v1/me/").status_code in (401, 403)


def test_wrong_password_is_a_clear_400(owner):
    response = APIClient().post(
        "/api/v1/auth/login/", {"username": "owner", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"


def test_anonymous_gets_401_with_the_token_scheme():
    response = APIClient().get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_token_is_shown_once_and_stored_hashed(owner, api):
    response = api.post("/api/v1/tokens/", {"name": "ci"}, format="json")
    assert response.status_code == 201
    key = response.json()["key"]
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert token.key_hash == hash_token_key(key)
    assert key not in token.key_hash
    listed = api.get("/api/v1/tokens/").json()
    assert all("key" not in t for t in listed)
    assert {t["name"] for t in listed} == {"tests", "ci"}

    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert script.get("/api/v1/me/").json()["username"] == "owner"
    assert api.delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    assert script.get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token not-a-real-key", "Token \u00e9"])
def test_malformed_or_unknown_tokens_are_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin1"))
    assert client.get("/api/v1/me/").status_code == 401


def test_someone_elses_token_cannot_be_deleted(owner, make_member, client_for):
    other, _ = make_member("other")
    client_for(other)
    other_token = ApiToken.objects.get(user=other)
    response = client_for(owner[0]).delete(f"/api/v1/tokens/{other_token.pk}/")
    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=other_token.pk).exists()
