"""A workspace's default credential per provider: set through the API, used by resolution."""

import pytest

from server.credentials.models import Credential
from server.credentials.resolution import model_access

pytestmark = pytest.mark.django_db
URL = "/api/v1/credentials/"


def defaults() -> dict[str, bool]:
    return dict(Credential.objects.values_list("name", "is_default"))


def test_a_marked_default_comes_before_the_oldest(create, team, no_operator_keys):
    create(name="oldest", secret={"api_key": "sk-oldest-0000-1111"})
    marked = create(name="marked", secret={"api_key": "sk-marked-2222-3333"}, is_default=True)
    assert marked.status_code == 201, marked.json()
    assert marked.json()["is_default"] is True
    access = model_access(team["workspace"].pk, "openai/gpt-4o-mini", None)
    assert (access.source, access.api_key) == ("workspace_default", "sk-marked-2222-3333")


def test_one_default_per_provider(create, team, no_operator_keys):
    first = create(name="first", is_default=True).json()
    second = create(name="second", is_default=True).json()
    other = create(name="claude", provider="anthropic", is_default=True).json()
    assert defaults() == {"first": False, "second": True, "claude": True}
    back = team["editor"].patch(f"{URL}{first['id']}/", {"is_default": True}, format="json")
    assert back.status_code == 200, back.json()
    assert back.json()["is_default"] is True
    assert defaults() == {"first": True, "second": False, "claude": True}
    assert team["owner"].get(f"{URL}{second['id']}/").json()["is_default"] is False
    unset = team["owner"].patch(f"{URL}{first['id']}/", {"is_default": False}, format="json")
    assert unset.json()["is_default"] is False
    # No default left: the oldest again.
    access = model_access(team["workspace"].pk, "openai/gpt-4o-mini", None)
    assert str(access.credential_id) == first["id"]
    assert Credential.objects.get(pk=other["id"]).is_default


def test_a_default_elsewhere_is_not_this_workspace_default(create, team, no_operator_keys):
    mine = create(name="mine").json()
    theirs = create(
        client=team["outsider"],
        workspace=str(team["elsewhere"].pk),
        name="theirs",
        is_default=True,
    )
    assert theirs.status_code == 201
    assert Credential.objects.get(pk=mine["id"]).is_default is False
    access = model_access(team["workspace"].pk, "openai/gpt-4o-mini", None)
    assert str(access.credential_id) == mine["id"]
    # Nor can the outsider make a credential of this workspace its default.
    refused = team["outsider"].patch(f"{URL}{mine['id']}/", {"is_default": True}, format="json")
    assert refused.status_code == 404


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, None, [], {}])
def test_is_default_takes_true_or_false_only(create, team, value):
    assert create(is_default=value).status_code == 400
    assert not Credential.objects.exists()
    created = create().json()
    answer = team["owner"].patch(f"{URL}{created['id']}/", {"is_default": value}, format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert "is_default" in answer.json()["fields"]
    assert defaults() == {"OpenAI prod": False}


def test_viewers_cannot_set_a_default(create, team):
    created = create().json()
    answer = team["viewer"].patch(f"{URL}{created['id']}/", {"is_default": True}, format="json")
    assert answer.status_code == 403
    assert defaults() == {"OpenAI prod": False}
