"""The credentials API: shape, validation, roles, tenancy, in-use refusal."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from server.credentials.crypto import decrypt_secret
from server.credentials.models import Credential
from server.workflows.models import Workflow
from tests.credentials.conftest import SECRET
from tests.support.documents import agent, document

pytestmark = pytest.mark.django_db
URL = "/api/v1/credentials/"


def test_create_returns_everything_but_the_secret(create, team):
    answer = create(config={})
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert set(body) == {
        "id",
        "workspace",
        "name",
        "provider",
        "config",
        "hint",
        "is_default",
        "created_at",
        "last_used_at",
    }
    assert body["hint"] == SECRET[-4:]
    assert body["is_default"] is False
    assert body["last_used_at"] is None
    assert SECRET not in answer.content.decode()
    stored = Credential.objects.get(pk=body["id"])
    assert decrypt_secret(stored.secret_token) == {"api_key": SECRET}
    fetched = team["owner"].get(f"{URL}{body['id']}/")
    assert fetched.json() == body


def test_short_secrets_get_no_hint(create):
    assert create(secret={"api_key": "short-key"}).json()["hint"] == ""


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"secret": "sk-just-a-string"}, "secret"),
        ({"secret": {"api_key": ""}}, "secret"),
        ({"secret": {"api_key": SECRET, "extra": SECRET}}, "secret"),
        ({"secret": {"key": SECRET}}, "secret"),
        ({"secret": {"api_key": SECRET + "\n"}}, "secret"),
        ({"provider": "ollama"}, "provider"),
        ({"provider": "openai_compatible"}, "config"),
        ({"provider": "openai_compatible", "config": {"api_base": "ftp://x"}}, "config"),
        ({"provider": "azure", "config": {"api_base": "https://a.example", "x": 1}}, "config"),
        ({"config": {"api_base": "https://x.example"}}, "config"),
        ({"config": []}, "config"),
        ({"provider": "http", "secret": {"headers": {"bad name": SECRET}}}, "secret"),
        ({"provider": "http", "secret": {}}, "secret"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_a_400_that_does_not_echo_the_secret(create, fields, field):
    answer = create(**fields)
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid"
    assert field in body["fields"]
    assert SECRET not in answer.content.decode()
    assert Credential.objects.count() == 0


def test_every_provider_shape(create):
    shapes = [
        ("openai_compatible", {"api_key": SECRET}, {"api_base": "http://127.0.0.1:9/v1"}),
        ("azure", {"api_key": SECRET}, {"api_base": "https://a.example", "api_version": "v1"}),
        ("http", {"token": SECRET}, {"header": "X-Api-Key"}),
        ("http", {"headers": {"X-One": SECRET}}, {}),
        ("anthropic", {"api_key": SECRET}, {}),
    ]
    for number, (provider, secret, config) in enumerate(shapes):
        answer = create(name=f"c{number}", provider=provider, secret=secret, config=config)
        assert answer.status_code == 201, answer.json()
        assert answer.json()["config"] == config


def test_names_are_unique_per_workspace(create, team):
    assert create().status_code == 201
    again = create()
    assert again.status_code == 409
    assert again.json()["code"] == "name_taken"
    elsewhere = create(client=team["outsider"], workspace=str(team["elsewhere"].pk))
    assert elsewhere.status_code == 201


def test_patch_replaces_the_secret_and_keeps_the_rest(create, team):
    created = create().json()
    new_secret = "sk-rotated-Hh3Jk6Lm9Np2Qr"
    answer = team["editor"].patch(
        f"{URL}{created['id']}/", {"secret": {"api_key": new_secret}}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["hint"] == new_secret[-4:]
    assert answer.json()["name"] == created["name"]
    stored = Credential.objects.get(pk=created["id"])
    assert decrypt_secret(stored.secret_token) == {"api_key": new_secret}
    renamed = team["owner"].patch(f"{URL}{created['id']}/", {"name": "Renamed"}, format="json")
    assert renamed.json()["name"] == "Renamed"
    assert decrypt_secret(Credential.objects.get(pk=created["id"]).secret_token) == {
        "api_key": new_secret
    }


def test_patch_cannot_change_the_provider(create, team):
    created = create().json()
    answer = team["owner"].patch(f"{URL}{created['id']}/", {"provider": "groq"}, format="json")
    assert answer.status_code == 400
    assert "provider" in answer.json()["fields"]
    put = team["owner"].put(f"{URL}{created['id']}/", {"name": "x"}, format="json")
    assert put.status_code == 405


def test_viewers_see_names_only_and_change_nothing(create, team):
    created = create(provider="openai_compatible", config={"api_base": "https://a.example/v1"})
    credential_id = created.json()["id"]
    listed = team["viewer"].get(URL).json()["results"]
    assert listed == [
        {
            "id": credential_id,
            "workspace": str(team["workspace"].pk),
            "name": "OpenAI prod",
            "provider": "openai_compatible",
        }
    ]
    one = team["viewer"].get(f"{URL}{credential_id}/").json()
    assert set(one) == {"id", "workspace", "name", "provider"}
    assert create(client=team["viewer"], name="mine").status_code == 403
    detail = f"{URL}{credential_id}/"
    assert team["viewer"].patch(detail, {"name": "x"}, format="json").status_code == 403
    assert team["viewer"].delete(detail).status_code == 403
    assert Credential.objects.get().name == "OpenAI prod"


def test_editors_manage_credentials(create, team):
    created = create(client=team["editor"])
    assert created.status_code == 201
    assert team["editor"].delete(f"{URL}{created.json()['id']}/").status_code == 204


def test_another_workspace_credential_does_not_exist(create, team):
    credential_id = create().json()["id"]
    outsider = team["outsider"]
    detail = f"{URL}{credential_id}/"
    assert outsider.get(detail).status_code == 404
    assert outsider.patch(detail, {"name": "x"}, format="json").status_code == 404
    assert outsider.delete(detail).status_code == 404
    assert outsider.get(f"{detail}usage/").status_code == 404
    assert outsider.get(URL).json()["results"] == []
    foreign = create(client=outsider, workspace=str(team["workspace"].pk), name="x")
    assert foreign.status_code == 404
    assert Credential.objects.count() == 1


def test_list_filters_by_workspace(create, team):
    create()
    other = team["owner"].get(URL, {"workspace": str(team["elsewhere"].pk)}).json()
    assert other["results"] == []
    assert team["owner"].get(URL, {"workspace": "nope"}).status_code == 400


def test_delete_is_refused_while_a_current_version_uses_it(create, team):
    credential_id = create().json()["id"]
    # Rows written directly: what counts is the stored current document, not how it got there.
    workflow = Workflow.objects.create(
        workspace=team["workspace"],
        name="Uses it",
        document=document([agent("a"), agent("b", credential=credential_id)]),
    )
    Workflow.objects.create(
        workspace=team["workspace"], name="Does not", document=document([agent("a")])
    )
    detail = f"{URL}{credential_id}/"
    refused = team["owner"].delete(detail)
    assert refused.status_code == 409
    assert refused.json()["code"] == "in_use"
    assert refused.json()["workflows"] == [{"id": str(workflow.pk), "name": workflow.name}]
    assert team["viewer"].get(f"{detail}usage/").json() == [
        {"id": str(workflow.pk), "name": workflow.name}
    ]
    workflow.document = document([agent("a"), agent("b")])
    workflow.save()
    assert team["owner"].delete(detail).status_code == 204
    assert not Credential.objects.exists()


def test_usage_is_one_unpaged_list_and_documented_so(create, team):
    credential_id = create().json()["id"]
    for number in range(3):
        Workflow.objects.create(
            workspace=team["workspace"],
            name=f"user {number}",
            document=document([agent("a", credential=credential_id)]),
        )
    usage = f"{URL}{credential_id}/usage/"
    # No page size is read: a client's one gets the whole list, never a silent page of it.
    for query in (
        "",
        "?page_size=1",
        "?page_size=-1",
        "?page_size=\u0661",
        f"?page_size={10**400}",
    ):
        answer = team["owner"].get(usage + query)
        assert answer.status_code == 200, query
        assert sorted(user["name"] for user in answer.json()) == ["user 0", "user 1", "user 2"]
    operation = SchemaGenerator().get_schema(request=None, public=True)["paths"][
        "/api/v1/credentials/{id}/usage/"
    ]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"id"}
    answer_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer_schema["type"] == "array"


def test_anonymous_callers_are_refused(client):
    assert client.get(URL).status_code == 401
