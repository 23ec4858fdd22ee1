"""Validation per workspace, through the API: on save, on the validate endpoint, at run start.

A model is an error (`model_unavailable`) when its provider has no credential in
the workflow's workspace and no operator key, `unknown_model` when litellm does
not know the name; a node naming an `openai_compatible` credential may name any
model. A credential of another workspace in a node is `credential_not_found`.
"""

import pytest

from server.runs.models import Run
from server.workflows.models import Workflow
from tests.credentials.conftest import SECRET
from tests.support.documents import agent, document, edge, node

pytestmark = pytest.mark.django_db
WORKFLOWS = "/api/v1/workflows/"
MODEL_FIELD = "nodes[1].data.config.model"
CREDENTIAL_FIELD = "nodes[1].data.config.credential"


def one_agent(**config) -> dict:
    return document(
        [node("in", "input"), agent("ask", **config), node("out", "output")],
        [edge("in", "ask"), edge("ask", "out")],
    )


def model_problems(problems: list[dict]) -> list[tuple[str, str | None]]:
    codes = {"model_unavailable", "unknown_model", "credential_not_found", "credential_mismatch"}
    return [(p["code"], p.get("field")) for p in problems if p["code"] in codes]


@pytest.fixture
def save(team):
    def make(doc: dict, client=None, workspace=None) -> dict:
        answer = (client or team["owner"]).post(
            WORKFLOWS,
            {"workspace": str((workspace or team["workspace"]).pk), "document": doc},
            format="json",
        )
        assert answer.status_code == 201, answer.json()
        return answer.json()

    return make


def run(client, workflow: dict):
    return client.post(f"{WORKFLOWS}{workflow['id']}/runs/", {"inputs": {}}, format="json")


def validate(client, workflow: dict, doc: dict | None = None) -> list[dict]:
    body = {"document": doc} if doc is not None else {}
    answer = client.post(f"{WORKFLOWS}{workflow['id']}/validate/", body, format="json")
    assert answer.status_code == 200, answer.json()
    return answer.json()["problems"]


def test_a_provider_with_no_key_is_unavailable_until_a_credential_is_added(
    create, team, save, no_operator_keys
):
    saved = save(one_agent(model="openai/gpt-4o-mini"))
    assert model_problems(saved["problems"]) == [("model_unavailable", MODEL_FIELD)]
    problem = next(p for p in saved["problems"] if p["code"] == "model_unavailable")
    assert (problem["severity"], problem["node_id"]) == ("error", "ask")
    refused = run(team["owner"], saved)
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_workflow"
    assert model_problems(refused.json()["problems"]) == [("model_unavailable", MODEL_FIELD)]
    assert not Run.objects.exists()

    created = create(provider="openai")
    assert created.status_code == 201
    assert model_problems(validate(team["editor"], saved)) == []
    # The version was saved with the problem; a run checks the workspace as it is now.
    started = run(team["owner"], saved)
    assert started.status_code == 202, started.json()

    assert team["owner"].delete(f"/api/v1/credentials/{created.json()['id']}/").status_code == 204
    again = run(team["owner"], saved)
    assert again.status_code == 400
    assert model_problems(again.json()["problems"]) == [("model_unavailable", MODEL_FIELD)]
    assert Run.objects.count() == 1


def test_an_operator_key_makes_the_provider_available(team, save, settings, no_operator_keys):
    settings.AGENTLOOM_MODEL_PROVIDERS = {
        **settings.AGENTLOOM_MODEL_PROVIDERS,
        "ANTHROPIC_API_KEY": "operator-key",
    }
    saved = save(one_agent(model="anthropic/claude-haiku-4-5"))
    assert model_problems(saved["problems"]) == []


def test_names_litellm_does_not_know_are_unknown(create, team, save, no_operator_keys):
    create(provider="openai")
    saved = save(one_agent(model="openai/no-such-model-anywhere"))
    assert model_problems(saved["problems"]) == [("unknown_model", MODEL_FIELD)]
    # Known to litellm, yet no credential for it and no key: unavailable, not ambient.
    for model in ("bedrock/claude-opus-latest", "ollama/llama3.1", "gpt-4o-mini"):
        problems = validate(team["owner"], saved, one_agent(model=model))
        assert model_problems(problems) == [("model_unavailable", MODEL_FIELD)], model


def test_an_openai_compatible_credential_takes_any_model_name(create, team, save, no_operator_keys):
    local = create(
        name="local",
        provider="openai_compatible",
        config={"api_base": "http://127.0.0.1:9/v1"},
    ).json()
    for model in ("openai/slow-300", "llama3.1:8b", "whatever/it-serves"):
        saved = save(one_agent(model=model, credential=local["id"]))
        assert model_problems(saved["problems"]) == [], model
        assert saved["problems"] == [], model
    # Without naming it, the provider prefix reaches the workspace's credential too.
    assert model_problems(save(one_agent(model="openai_compatible/llama3"))["problems"]) == []
    # Not a name the credential vouches for when the node does not name it.
    assert model_problems(save(one_agent(model="openai/slow-300"))["problems"]) == [
        ("unknown_model", MODEL_FIELD)
    ]


def test_a_typed_name_for_a_server_must_be_one_it_can_be_asked_for(
    create, team, save, no_operator_keys
):
    local = create(
        name="local",
        provider="openai_compatible",
        config={"api_base": "http://127.0.0.1:9/v1"},
    ).json()
    azure = create(
        name="azure",
        provider="azure",
        config={"api_base": "http://127.0.0.1:9", "api_version": "2024-10-21"},
    ).json()
    for config in (
        {"model": "openai_compatible/meta-llama/Llama-3.1-8B-Instruct"},
        {"model": "openai_compatible/qwen2.5-coder:7b", "credential": local["id"]},
        {"model": "azure/gpt-4o-prod"},
        {"model": "azure/gpt-4o-prod", "credential": azure["id"]},
    ):
        assert save(one_agent(**config))["problems"] == [], config
    for config in (
        {"model": "openai_compatible/"},
        {"model": "openai_compatible/llama 3.1"},
        {"model": "azure/prod//eu"},
        {"model": "llama\u0663", "credential": local["id"]},
        {"model": "openai_compatible/" + "x" * 201, "credential": local["id"]},
    ):
        saved = save(one_agent(**config))
        problems = [p for p in saved["problems"] if p["code"] == "invalid_model_name"]
        assert [(p["field"], p["severity"]) for p in problems] == [(MODEL_FIELD, "error")], config
        assert "letters, digits" in problems[0]["message"]
        refused = run(team["owner"], saved)
        assert refused.status_code == 400
        assert refused.json()["code"] == "invalid_workflow"
        assert "invalid_model_name" in {p["code"] for p in refused.json()["problems"]}
    assert not Run.objects.exists()


def test_a_credential_of_another_provider_is_a_mismatch(create, team, save, no_operator_keys):
    claude = create(name="claude", provider="anthropic").json()
    saved = save(one_agent(model="openai/gpt-4o-mini", credential=claude["id"]))
    assert model_problems(saved["problems"]) == [("credential_mismatch", CREDENTIAL_FIELD)]
    saved = save(one_agent(model="anthropic/claude-haiku-4-5", credential=claude["id"]))
    assert model_problems(saved["problems"]) == []


def test_another_workspace_credential_is_not_found_and_cannot_run(
    create, team, save, no_operator_keys
):
    foreign = create(
        client=team["outsider"],
        workspace=str(team["elsewhere"].pk),
        name="theirs",
        provider="openai_compatible",
        config={"api_base": "http://127.0.0.1:9/v1"},
    ).json()
    missing = "00000000-0000-4000-8000-000000000000"
    answers = []
    for credential in (foreign["id"], missing, "not-a-uuid"):
        saved = save(one_agent(model="openai/slow-300", credential=credential))
        assert model_problems(saved["problems"]) == [("credential_not_found", CREDENTIAL_FIELD)]
        refused = run(team["owner"], saved)
        assert refused.status_code == 400
        assert refused.json()["code"] == "invalid_workflow"
        answers.append(next(p for p in saved["problems"] if p["code"] == "credential_not_found"))
    # The same answer whether the id is another workspace's or no one's.
    assert answers[0] == answers[1] == answers[2]
    assert foreign["name"] not in str(answers)
    assert not Run.objects.exists()
    # The owner of the credential is fine with it.
    theirs = save(
        one_agent(model="openai/slow-300", credential=foreign["id"]),
        client=team["outsider"],
        workspace=team["elsewhere"],
    )
    assert model_problems(theirs["problems"]) == []


@pytest.mark.parametrize("credential", [5, True, ["x"], {"id": "x"}])
def test_a_credential_that_is_not_text_is_refused_and_nothing_is_saved(team, credential):
    answer = team["owner"].post(
        WORKFLOWS,
        {"document": one_agent(model="mock/echo", credential=credential)},
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_document"
    assert ("invalid_type", CREDENTIAL_FIELD) in [
        (p["code"], p.get("field")) for p in answer.json()["problems"]
    ]
    assert not Workflow.objects.exists()


def test_the_default_model_is_checked_against_the_workspace(team, save, no_operator_keys):
    doc = one_agent(model=None)
    doc["settings"]["default_model"] = "mistral/mistral-large-latest"
    saved = save(doc)
    assert model_problems(saved["problems"]) == [("model_unavailable", "settings.default_model")]
    refused = run(team["owner"], saved)
    assert model_problems(refused.json()["problems"]) == [
        ("model_unavailable", "settings.default_model")
    ]


def test_no_problem_message_holds_a_secret(create, team, save, no_operator_keys):
    claude = create(name="claude", provider="anthropic").json()
    saved = save(one_agent(model="openai/gpt-4o-mini", credential=claude["id"]))
    assert SECRET not in str(saved)
    assert SECRET[-4:] not in str(saved["problems"])
