"""Which key a model call gets: node credential → workspace default → operator environment."""

import pytest

from server.credentials.models import Credential
from server.credentials.resolution import model_access
from server.credentials.services import delete_credential, update_credential
from server.egress import GuardedTransport
from workers.llm.types import ModelCallError

pytestmark = pytest.mark.django_db


def test_mock_models_need_nothing(team):
    access = model_access(team["workspace"].pk, "mock/echo", None)
    assert (access.source, access.api_key, access.api_base) == ("mock", None, None)


def test_the_named_credential_wins(team, add, no_operator_keys):
    add("default", api_key="sk-default-0000-1111")
    named = add("named", api_key="sk-named-2222-3333")
    access = model_access(team["workspace"].pk, "openai/gpt-4o-mini", str(named.pk))
    assert (access.source, access.api_key, access.credential_id) == (
        "credential",
        "sk-named-2222-3333",
        named.pk,
    )
    assert Credential.objects.get(pk=named.pk).last_used_at is not None


def test_the_oldest_credential_of_the_provider_is_the_default(team, add, no_operator_keys):
    first = add("first", api_key="sk-first-0000-1111")
    add("second", api_key="sk-second-2222-3333")
    add("other provider", provider="anthropic")
    access = model_access(team["workspace"].pk, "openai/gpt-4o-mini", None)
    assert (access.source, access.api_key, access.credential_id) == (
        "workspace_default",
        "sk-first-0000-1111",
        first.pk,
    )


def test_another_workspace_credential_is_not_found(team, add):
    foreign = add("theirs", workspace=team["elsewhere"])
    with pytest.raises(ModelCallError) as failed:
        model_access(team["workspace"].pk, "openai/gpt-4o-mini", str(foreign.pk))
    assert failed.value.code == "credential_not_found"
    assert not failed.value.retryable
    with pytest.raises(ModelCallError, match="does not exist"):
        model_access(team["workspace"].pk, "openai/gpt-4o-mini", "not-a-uuid")


def test_operator_keys_come_from_settings_not_the_process_environment(team, settings):
    settings.AGENTLOOM_MODEL_PROVIDERS = {
        **dict.fromkeys(settings.AGENTLOOM_MODEL_PROVIDERS, ""),
        "ANTHROPIC_API_KEY": "sk-operator-anthropic",
    }
    access = model_access(team["workspace"].pk, "anthropic/claude-haiku-4-5", None)
    assert (access.source, access.api_key) == ("environment", "sk-operator-anthropic")
    for model in ("openai/gpt-4o-mini", "bedrock/anthropic.claude-v2", "ollama/llama3.1"):
        with pytest.raises(ModelCallError) as failed:
            model_access(team["workspace"].pk, model, None)
        assert failed.value.code == "model_unavailable"


def test_a_credential_for_another_provider_is_refused(team, add):
    anthropic = add("claude", provider="anthropic")
    with pytest.raises(ModelCallError) as failed:
        model_access(team["workspace"].pk, "openai/gpt-4o-mini", str(anthropic.pk))
    assert failed.value.code == "credential_mismatch"


def test_openai_compatible_serves_any_name_through_the_guard(team, add, settings):
    settings.AGENTLOOM_EGRESS = {**settings.AGENTLOOM_EGRESS, "allow": ["127.0.0.1:8911"]}
    local = add("vllm", provider="openai_compatible", api_base="http://127.0.0.1:8911/v1")
    access = model_access(team["workspace"].pk, "my-llama", str(local.pk))
    assert access.model == "openai/my-llama"
    assert access.api_base == "http://127.0.0.1:8911/v1"
    assert isinstance(access.transport, GuardedTransport)


@pytest.mark.parametrize(
    "api_base",
    # A loopback port not allowed (the trap's), the metadata address, a mapped private address.
    ["http://127.0.0.1:{trap}/v1", "http://169.254.169.254/v1", "http://[::ffff:10.0.0.1]/v1"],
)
def test_a_refused_api_base_fails_before_any_call(team, add, api_base, trap):
    api_base = api_base.format(trap=trap.port)
    local = add("internal", provider="openai_compatible", api_base=api_base)
    with pytest.raises(ModelCallError) as failed:
        model_access(team["workspace"].pk, "my-llama", str(local.pk))
    assert failed.value.code == "egress_refused"
    assert not failed.value.retryable


def test_changes_are_seen_at_once(team, add, no_operator_keys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        credential = add("key", api_key="sk-before-0000-1111")
    workspace = team["workspace"].pk
    assert model_access(workspace, "openai/gpt-4o", None).api_key == "sk-before-0000-1111"
    with django_capture_on_commit_callbacks(execute=True):
        update_credential(credential, secret={"api_key": "sk-after-2222-3333"})
    assert model_access(workspace, "openai/gpt-4o", None).api_key == "sk-after-2222-3333"
    credential_id = str(credential.pk)
    assert model_access(workspace, "openai/gpt-4o", credential_id).api_key == "sk-after-2222-3333"
    with django_capture_on_commit_callbacks(execute=True):
        delete_credential(credential)
    with pytest.raises(ModelCallError, match="no credential"):
        model_access(workspace, "openai/gpt-4o", None)
    with pytest.raises(ModelCallError, match="does not exist"):
        model_access(workspace, "openai/gpt-4o", credential_id)


def test_the_workspace_allowed_domains_narrow_the_base(team, add, settings):
    settings.AGENTLOOM_EGRESS = {**settings.AGENTLOOM_EGRESS, "allow": ["127.0.0.1:8911"]}
    workspace = team["workspace"]
    workspace.allowed_domains = ["example.com"]
    workspace.save()
    local = add("vllm", provider="openai_compatible", api_base="http://127.0.0.1:8911/v1")
    with pytest.raises(ModelCallError, match="allowed domains") as failed:
        model_access(workspace.pk, "my-llama", str(local.pk))
    assert failed.value.code == "egress_refused"
