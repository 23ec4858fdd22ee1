"""GET models/?workspace=: what each workspace can call, where the key comes from, or why not."""

import pytest

from tests.credentials.conftest import SECRET
from workers.llm.catalog import CURATED_MODELS, OPENAI_BASE_ENV, OPENAI_MODELS_ENV
from workers.llm.mock import MOCK_MODELS

pytestmark = pytest.mark.django_db
URL = "/api/v1/models/"
FIELDS = {
    "id",
    "provider",
    "label",
    "simulated",
    "available",
    "input_cost_per_token",
    "output_cost_per_token",
    "max_tokens",
    "source",
    "reason",
}


def models(client, workspace) -> dict[str, dict]:
    answer = client.get(URL, {"workspace": str(workspace.pk)})
    assert answer.status_code == 200, answer.json()
    return {model["id"]: model for model in answer.json()}


def test_with_no_key_anywhere_only_the_mocks_are_available(team, no_operator_keys):
    listed = models(team["viewer"], team["workspace"])
    assert all(set(model) == FIELDS for model in listed.values())
    available = {model_id for model_id, model in listed.items() if model["available"]}
    assert available == set(MOCK_MODELS)
    assert {listed[m]["source"] for m in MOCK_MODELS} == {"builtin"}
    for model_id, _ in CURATED_MODELS:
        model = listed[model_id]
        assert (model["available"], model["source"]) == (False, None)
        assert model["provider"] in model["reason"]
    # Bounded: the mocks and the curated list, not litellm's thousands of names.
    assert len(listed) == len(MOCK_MODELS) + len(CURATED_MODELS)


def test_a_credential_makes_its_provider_available_in_its_workspace_only(
    create, team, no_operator_keys
):
    assert create(provider="anthropic").status_code == 201
    mine = models(team["owner"], team["workspace"])
    theirs = models(team["outsider"], team["elsewhere"])
    for model_id, model in mine.items():
        if model["provider"] == "anthropic":
            assert (model["available"], model["source"], model["reason"]) == (
                True,
                "credential",
                None,
            )
            assert not theirs[model_id]["available"]
        elif model["provider"] != "mock":
            assert not model["available"]


def test_operator_keys_are_the_environment_source_and_credentials_come_first(
    create, team, settings, no_operator_keys
):
    settings.AGENTLOOM_MODEL_PROVIDERS = {
        **settings.AGENTLOOM_MODEL_PROVIDERS,
        "GEMINI_API_KEY": "operator-gemini",
        "OPENAI_API_KEY": "operator-openai",
        OPENAI_BASE_ENV: "http://127.0.0.1:9/v1",
        OPENAI_MODELS_ENV: "llama-local",
    }
    assert create(provider="openai").status_code == 201
    listed = models(team["owner"], team["workspace"])
    assert listed["gemini/gemini-2.5-pro"]["source"] == "environment"
    assert listed["openai/gpt-4o"]["source"] == "credential"
    # The self-hosted name is called as openai/…, with the workspace's OpenAI key first.
    assert listed["openai/llama-local"]["source"] == "credential"
    assert models(team["outsider"], team["elsewhere"])["openai/gpt-4o"]["source"] == "environment"


def test_http_credentials_make_no_model_available(create, team, no_operator_keys):
    assert create(provider="http", secret={"token": SECRET}).status_code == 201
    listed = models(team["owner"], team["workspace"])
    assert {m for m, model in listed.items() if model["available"]} == set(MOCK_MODELS)


def test_another_workspace_is_a_404_and_a_bad_id_a_400(team):
    foreign = team["owner"].get(URL, {"workspace": str(team["elsewhere"].pk)})
    assert foreign.status_code == 404
    assert foreign.json()["code"] == "not_found"
    bad = team["owner"].get(URL, {"workspace": "\uff11\uff12\uff13"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"


def test_without_a_workspace_the_first_one_joined(create, team, no_operator_keys):
    create(provider="groq")
    listed = {m["id"]: m for m in team["editor"].get(URL).json()}
    assert listed["groq/openai/gpt-oss-120b"]["source"] == "credential"


def test_no_secret_in_the_answer(create, team):
    create(provider="openai")
    create(
        name="local",
        provider="openai_compatible",
        config={"api_base": "http://127.0.0.1:9/v1"},
    )
    answer = team["owner"].get(URL, {"workspace": str(team["workspace"].pk)})
    assert SECRET not in answer.content.decode()
    assert SECRET[-4:] not in answer.content.decode()


def test_anonymous_callers_are_refused(client, team):
    assert client.get(URL, {"workspace": str(team["workspace"].pk)}).status_code == 401
