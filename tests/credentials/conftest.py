import pytest

from server.accounts.models import Role
from server.credentials.services import create_credential

SECRET = "sk-test-Zq9rT4vW7xY2aB5cD8eF"


@pytest.fixture
def team(make_member, client_for):
    """A workspace with an owner, an editor and a viewer; an outsider with a workspace of his own
    (the outsider)."""
    owner, workspace = make_member("owner")
    editor, _ = make_member("editor", Role.EDITOR, workspace)
    viewer, _ = make_member("viewer", Role.VIEWER, workspace)
    outsider, elsewhere = make_member("outsider")
    return {
        "workspace": workspace,
        "elsewhere": elsewhere,
        "owner": client_for(owner),
        "editor": client_for(editor),
        "viewer": client_for(viewer),
        "outsider": client_for(outsider),
        "owner_user": owner,
    }


@pytest.fixture
def create(team):
    def make(client=None, **fields):
        body = {
            "workspace": str(team["workspace"].pk),
            "name": "OpenAI prod",
            "provider": "openai",
            "secret": {"api_key": SECRET},
            **fields,
        }
        return (client or team["owner"]).post("/api/v1/credentials/", body, format="json")

    return make


@pytest.fixture
def add(team):
    """A credential made by the service (the API's own tests are in test_api.py)."""

    def make(name, provider="openai", api_key="sk-key-0000-aaaa-bbbb", workspace=None, **config):
        return create_credential(
            user=team["owner_user"],
            workspace_id=(workspace or team["workspace"]).pk,
            name=name,
            provider=provider,
            secret={"api_key": api_key},
            config=config,
        )

    return make


@pytest.fixture
def no_operator_keys(settings):
    settings.AGENTLOOM_MODEL_PROVIDERS = dict.fromkeys(settings.AGENTLOOM_MODEL_PROVIDERS, "")
