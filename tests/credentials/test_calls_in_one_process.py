"""Two workspaces' model calls at once in one process, each with its own key.

The model layer end to end without the scheduler: resolution (this process's
database), then litellm over HTTP through the outbound guard's transport to the
local model server, which accepts only the two keys.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from server.credentials.resolution import model_access
from server.credentials.services import create_credential
from tests.support.openai_server import OpenAICompatibleServer
from workers.llm.calls import call_model
from workers.llm.types import ModelCallError, ModelRequest

pytestmark = pytest.mark.django_db

KEYS = {"alpha": "sk-alpha-0123456789abcd", "beta": "sk-beta-9876543210wxyz"}
WRONG_KEY = "sk-wrong-5555666677778888"


@pytest.fixture
def model_server(settings):
    with OpenAICompatibleServer(api_keys=set(KEYS.values())) as server:
        settings.AGENTLOOM_EGRESS = {
            **settings.AGENTLOOM_EGRESS,
            "allow": [f"127.0.0.1:{server.port}"],
        }
        yield server


def access_for(make_member, name: str, api_key: str, base: str, model: str = "slow-300"):
    owner, workspace = make_member(name)
    credential = create_credential(
        user=owner,
        workspace_id=workspace.pk,
        name="local",
        provider="openai_compatible",
        secret={"api_key": api_key},
        config={"api_base": base},
    )
    return model_access(workspace.pk, model, str(credential.pk))


def call(access, prompt: str):
    request = ModelRequest(
        model=access.model,
        system_prompt="",
        user_prompt=prompt,
        temperature=0.0,
        max_tokens=50,
        timeout_s=30,
        stream=False,
        response_format="text",
        api_base=access.api_base,
        api_key=access.api_key,
        transport=access.transport,
    )
    return call_model(request, on_delta=lambda _: None, should_stop=lambda: False)


def test_two_workspaces_at_once_each_with_its_own_key(make_member, model_server):
    accesses = {
        label: access_for(make_member, label, key, model_server.base_url)
        for label, key in KEYS.items()
    }
    jobs = [(label, f"from {label} {n}") for n in range(3) for label in KEYS]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda job: call(accesses[job[0]], job[1]), jobs))
    assert [r.text for r in results] == [f"You said: {prompt}" for _, prompt in jobs]
    assert results[0].model == "openai/slow-300"
    assert len(model_server.requests) == 6
    for request in model_server.requests:
        label = request.body["messages"][-1]["content"].split()[1]
        assert request.headers["authorization"] == f"Bearer {KEYS[label]}"
    # Each answer takes 300 ms: calls of both workspaces were in flight at once.
    starts = {
        label: [r.at for r in model_server.requests if f"from {label}" in str(r.body)]
        for label in KEYS
    }
    assert any(abs(a - b) < 0.3 for a in starts["alpha"] for b in starts["beta"])


def test_a_wrong_key_fails_with_the_key_scrubbed(make_member, model_server):
    access = access_for(make_member, "wrong", WRONG_KEY, model_server.base_url, "echo")
    with pytest.raises(ModelCallError) as failed:
        call(access, "hi")
    assert failed.value.code == "auth"
    assert not failed.value.retryable
    for text in (failed.value.message, str(failed.value), repr(failed.value)):
        assert WRONG_KEY not in text
        assert "****" not in text
        assert WRONG_KEY[-4:] not in text
    assert model_server.requests[-1].headers["authorization"] == f"Bearer {WRONG_KEY}"


def test_the_connection_itself_goes_through_the_guard(make_member, model_server, settings):
    access = access_for(make_member, "late", KEYS["alpha"], model_server.base_url, "echo")
    # The address was allowed when the credential was read, not when the call connects.
    settings.AGENTLOOM_EGRESS = {**settings.AGENTLOOM_EGRESS, "allow": []}
    with pytest.raises(ModelCallError) as failed:
        call(access, "hi")
    assert failed.value.code == "egress_refused"
    assert not failed.value.retryable
    assert model_server.requests == []
