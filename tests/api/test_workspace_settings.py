"""Workspace settings the settings page edits: allowed domains, and the retention it shows."""

import pytest

from server.accounts.models import Role, Workspace

pytestmark = pytest.mark.django_db


def test_owners_set_allowed_domains_normalised(api, owner):
    url = f"/api/v1/workspaces/{owner[1].pk}/"
    response = api.patch(
        url, {"allowed_domains": ["API.OpenAI.com.", "bücher.de", "api.openai.com"]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["allowed_domains"] == ["api.openai.com", "xn--bcher-kva.de"]
    assert Workspace.objects.get(pk=owner[1].pk).allowed_domains == [
        "api.openai.com",
        "xn--bcher-kva.de",
    ]
    assert api.patch(url, {"allowed_domains": []}, format="json").json()["allowed_domains"] == []


@pytest.mark.parametrize(
    "domains",
    [
        ["https://example.com"],
        ["exa mple.com"],
        ["-bad.com"],
        [""],
        ["a" * 64 + ".com"],
        ["example.com/path"],
        ["*.example.com"],
        ["x.com"] * 101,
        "example.com",
    ],
)
def test_bad_domains_are_400_and_change_nothing(api, owner, domains):
    response = api.patch(
        f"/api/v1/workspaces/{owner[1].pk}/", {"allowed_domains": domains}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert Workspace.objects.get(pk=owner[1].pk).allowed_domains == []


def test_editors_cannot_change_allowed_domains(make_member, client_for, owner):
    editor, _ = make_member("editor", Role.EDITOR, owner[1])
    response = client_for(editor).patch(
        f"/api/v1/workspaces/{owner[1].pk}/", {"allowed_domains": ["x.com"]}, format="json"
    )
    assert response.status_code == 403


def test_the_retention_defaults_are_shown(api, owner, settings):
    body = api.get(f"/api/v1/workspaces/{owner[1].pk}/").json()
    assert body["retention_default_days"] == settings.AGENTLOOM_RETENTION["default_days"]
    assert body["retention_max_days"] == settings.AGENTLOOM_RETENTION["max_days"]


def test_creating_a_workspace_makes_its_creator_owner(api):
    response = api.post("/api/v1/workspaces/", {"name": "Second"}, format="json")
    assert response.status_code == 201
    assert response.json()["role"] == "owner"
    names = [w["name"] for w in api.get("/api/v1/workspaces/").json()]
    assert names == ["owner's workspace", "Second"]
