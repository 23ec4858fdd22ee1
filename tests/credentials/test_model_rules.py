"""The engine's model rules, given a workspace as data (no database, no settings)."""

import pytest

from tests.support.documents import agent, document, edge, node
from workers.engine.validation import (
    MODEL_CODES,
    WorkspaceModels,
    model_problems,
    provider_of,
    validate_document,
)
from workers.engine.validation.models import served_name

KNOWN = {"openai/gpt-4o", "anthropic/claude-haiku-4-5", "mock/echo", "gpt-4o"}
WORKSPACE = WorkspaceModels(
    providers=frozenset({"mock", "openai", "openai_compatible"}),
    credentials={"c-openai": "openai", "c-local": "openai_compatible", "c-http": "http"},
    any_name=frozenset({"openai_compatible", "azure"}),
)


def is_known(model: str) -> bool:
    return model in KNOWN


def one_agent(**config) -> dict:
    return document(
        [node("in", "input"), agent("a", **config), node("out", "output")],
        [edge("in", "a"), edge("a", "out")],
    )


def found(doc: dict, workspace: WorkspaceModels | None = WORKSPACE) -> list[tuple[str, str]]:
    problems = validate_document(doc, is_known_model=is_known, workspace=workspace)
    return [(p.code, p.field or "") for p in problems if p.severity == "error"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"model": "openai/gpt-4o"}, []),
        ({"model": "anthropic/claude-haiku-4-5"}, [("model_unavailable", "model")]),
        ({"model": "openai/unheard-of"}, [("unknown_model", "model")]),
        ({"model": "gpt-4o"}, [("model_unavailable", "model")]),
        ({"model": "openai_compatible/anything"}, []),
        ({"model": "azure/my-deployment"}, [("model_unavailable", "model")]),
        ({"model": "anything", "credential": "c-local"}, []),
        ({"model": "openai/gpt-4o", "credential": "c-openai"}, []),
        ({"model": "openai/unheard-of", "credential": "c-openai"}, [("unknown_model", "model")]),
        (
            {"model": "openai/gpt-4o", "credential": "c-http"},
            [("credential_mismatch", "credential")],
        ),
        (
            {"model": "openai/gpt-4o", "credential": "c-theirs"},
            [("credential_not_found", "credential")],
        ),
        ({"model": "openai/gpt-4o", "credential": ""}, []),
        ({"model": "openai/gpt-4o", "credential": None}, []),
        ({"model": "mock/echo", "credential": 7}, [("invalid_type", "credential")]),
        # Typed names for a credential that serves any name: what vLLM and Ollama serve…
        ({"model": "openai_compatible/meta-llama/Llama-3.1-8B-Instruct"}, []),
        ({"model": "openai_compatible/qwen2.5-coder:7b-instruct-q4_K_M"}, []),
        ({"model": "llama3.1:8b", "credential": "c-local"}, []),
        ({"model": "openai_compatible/" + "m" * 200}, []),
        # …and nothing a server could not be asked for.
        ({"model": "openai_compatible/"}, [("invalid_model_name", "model")]),
        ({"model": "openai_compatible/llama 3"}, [("invalid_model_name", "model")]),
        ({"model": "openai_compatible/a//b"}, [("invalid_model_name", "model")]),
        ({"model": "openai_compatible/llama3/"}, [("invalid_model_name", "model")]),
        ({"model": "openai_compatible/-rf"}, [("invalid_model_name", "model")]),
        ({"model": "openai_compatible/llama\u0663"}, [("invalid_model_name", "model")]),
        ({"model": "openai_compatible/llama3\n"}, [("invalid_model_name", "model")]),
        ({"model": "openai_compatible/" + "m" * 201}, [("invalid_model_name", "model")]),
        (
            {"model": "openai_compatible/", "credential": "c-local"},
            [("invalid_model_name", "model")],
        ),
        ({"model": "llama\x003", "credential": "c-local"}, [("invalid_model_name", "model")]),
    ],
)
def test_one_agent(config: dict, expected: list[tuple[str, str]]) -> None:
    prefix = "nodes[1].data.config."
    assert found(one_agent(**config)) == [(code, prefix + field) for code, field in expected]


def test_without_a_workspace_only_names_are_checked() -> None:
    assert found(one_agent(model="anthropic/claude-haiku-4-5"), None) == []
    assert found(one_agent(model="anything", credential="c-local"), None) == [
        ("unknown_model", "nodes[1].data.config.model")
    ]
    assert found(one_agent(model="mock/echo", credential=[]), None) == [
        ("invalid_type", "nodes[1].data.config.credential")
    ]


def test_a_credential_is_checked_against_the_default_model() -> None:
    doc = one_agent(model=None, credential="c-http")
    assert found(doc) == [("credential_mismatch", "nodes[1].data.config.credential")]
    doc["settings"]["default_model"] = "anthropic/claude-haiku-4-5"
    doc["nodes"][1]["data"]["config"]["credential"] = "c-local"
    assert found(doc) == [("model_unavailable", "settings.default_model")]


def test_model_problems_re_checks_only_the_model_rules() -> None:
    doc = one_agent(model="anthropic/claude-haiku-4-5", temperature=9)
    whole = {p.code for p in validate_document(doc, is_known_model=is_known, workspace=WORKSPACE)}
    assert whole >= {"model_unavailable", "out_of_range"}
    again = model_problems(doc, is_known_model=is_known, workspace=WORKSPACE)
    assert [(p.code, p.node_id) for p in again] == [("model_unavailable", "a")]
    assert {p.code for p in again} <= MODEL_CODES
    richer = WorkspaceModels(providers=frozenset({"mock", "anthropic"}))
    assert model_problems(doc, is_known_model=is_known, workspace=richer) == []


@pytest.mark.parametrize("doc", [{}, {"nodes": "x"}, {"nodes": [1, {"type": "coder"}]}])
def test_model_problems_never_raises(doc: dict) -> None:
    assert model_problems(doc, is_known_model=is_known, workspace=WORKSPACE) == []


def test_each_name_is_asked_once() -> None:
    asked: list[str] = []

    def known(model: str) -> bool:
        asked.append(model)
        return True

    nodes = [agent(f"a{i}", model="openai/gpt-4o") for i in range(5)]
    validate_document(document(nodes), is_known_model=known, workspace=WORKSPACE)
    assert asked == ["mock/echo", "openai/gpt-4o"]


def test_served_name_is_what_resolution_sends() -> None:
    assert served_name("openai_compatible/meta-llama/Llama-3.1-8B") == "meta-llama/Llama-3.1-8B"
    assert served_name("llama3.1:8b") == "llama3.1:8b"
    assert served_name("azure/") == ""


def test_provider_of() -> None:
    assert provider_of("groq/openai/gpt-oss-120b") == "groq"
    assert provider_of("gpt-4o") == ""
