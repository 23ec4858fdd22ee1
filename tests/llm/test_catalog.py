"""The model catalog: what a deployment offers, at which price, read without litellm."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from workers.llm.catalog import (
    CURATED_MODELS,
    OPENAI_BASE_ENV,
    OPENAI_MODELS_ENV,
    PRICE_FILE,
    is_known_model,
    model_catalog,
    model_price,
)
from workers.llm.mock import MOCK_COST_PER_TOKEN, MOCK_MODELS

REPO_ROOT = Path(__file__).resolve().parents[2]


def _bundled_prices() -> dict[str, Any]:
    spec = importlib.util.find_spec("litellm")
    assert spec is not None
    assert spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations)))
    prices: dict[str, Any] = json.loads((folder / PRICE_FILE).read_text())
    return prices


def test_mocks_come_first_simulated_nominally_priced_and_always_available() -> None:
    catalog = model_catalog({})

    mocks = catalog[: len(MOCK_MODELS)]
    assert [m.id for m in mocks] == list(MOCK_MODELS)
    for mock in mocks:
        assert (mock.simulated, mock.available, mock.provider) == (True, True, "mock")
        assert (mock.input_cost_per_token, mock.output_cost_per_token) == MOCK_COST_PER_TOKEN
        assert (mock.source, mock.reason) == ("builtin", None)
        assert "simulated" in mock.label


def test_every_curated_model_is_listed_with_the_bundled_price() -> None:
    prices = _bundled_prices()
    catalog = {m.id: m for m in model_catalog({})}

    for model_id, label in CURATED_MODELS:
        info = catalog[model_id]
        entry = prices.get(model_id) or prices[model_id.partition("/")[2]]
        assert info.label == label
        assert not info.simulated
        assert info.input_cost_per_token == entry["input_cost_per_token"]
        assert info.output_cost_per_token == entry["output_cost_per_token"]
        assert info.max_tokens == entry["max_output_tokens"]
    assert len(CURATED_MODELS) >= 12


def test_the_price_of_gpt_4o_mini_is_the_listed_one() -> None:
    entry = _bundled_prices()["gpt-4o-mini"]

    assert model_price("openai/gpt-4o-mini") == (
        entry["input_cost_per_token"],
        entry["output_cost_per_token"],
    )
    assert model_price("gpt-4o-mini") == model_price("openai/gpt-4o-mini")


@pytest.mark.parametrize("model_id", ["mock/nope", "openai/no-such-model", ""])
def test_unknown_models_cost_nothing(model_id: str) -> None:
    assert model_price(model_id) == (0.0, 0.0)


def test_mocks_cost_a_nominal_price() -> None:
    assert model_price("mock/echo") == MOCK_COST_PER_TOKEN
    assert MOCK_COST_PER_TOKEN[0] > 0


def test_availability_follows_the_provider_keys() -> None:
    def available(env: dict[str, str]) -> set[str]:
        return {m.provider for m in model_catalog(env) if m.available}

    assert available({}) == {"mock"}
    assert available({"OPENAI_API_KEY": "sk-x"}) == {"mock", "openai"}
    assert available({"ANTHROPIC_API_KEY": "x", "GEMINI_API_KEY": "y", "OPENAI_API_KEY": ""}) == {
        "mock",
        "anthropic",
        "gemini",
    }
    assert available({"OLLAMA_API_BASE": "http://127.0.0.1:11434"}) == {"mock", "ollama"}


def test_a_self_hosted_server_offers_its_models_and_any_openai_name() -> None:
    env = {
        OPENAI_BASE_ENV: "http://127.0.0.1:8911/v1",
        OPENAI_MODELS_ENV: "llama-local, openai/qwen,,",
    }

    catalog = model_catalog(env)

    self_hosted = [m for m in catalog if m.provider == "openai-compatible"]
    assert [m.id for m in self_hosted] == ["openai/llama-local", "openai/qwen"]
    assert all(m.available and not m.simulated for m in self_hosted)
    assert all(m.available for m in catalog if m.provider == "openai")
    assert is_known_model("openai/anything-it-serves", env)
    assert not is_known_model("openai/anything-it-serves", {})


def test_a_self_hosted_name_that_is_also_curated_is_listed_once() -> None:
    env = {OPENAI_BASE_ENV: "http://127.0.0.1:8911/v1", OPENAI_MODELS_ENV: "gpt-4o-mini"}

    ids = [m.id for m in model_catalog(env)]

    assert ids.count("openai/gpt-4o-mini") == 1


def test_self_hosted_names_need_the_base() -> None:
    assert not [
        m
        for m in model_catalog({OPENAI_MODELS_ENV: "llama-local"})
        if m.provider == "openai-compatible"
    ]


@pytest.mark.parametrize(
    ("model_id", "known"),
    [
        ("mock/echo", True),
        ("mock/json", True),
        ("mock/oracle", False),
        ("openai/gpt-4o", True),
        ("gpt-4o", True),
        ("anthropic/claude-haiku-4-5", True),
        ("gemini/gemini-2.5-flash", True),
        ("groq/openai/gpt-oss-120b", True),
        ("anthropic/gpt-4o", False),  # listed, but under another provider
        ("nonsense/model", False),
        ("sample_spec", False),  # the price file's documentation entry
        ("", False),
    ],
)
def test_known_models(model_id: str, known: bool) -> None:
    assert is_known_model(model_id, {}) is known


def test_the_catalog_never_imports_litellm() -> None:
    """The API server lists models and validates documents without litellm's 7 s import."""
    script = """
import sys
from workers.llm.calls import call_model
from workers.llm.catalog import is_known_model, model_catalog, model_price
from workers.llm.types import ModelRequest

model_catalog({})
assert is_known_model("openai/gpt-4o", {}) and model_price("openai/gpt-4o")[0] > 0
request = ModelRequest(
    model="mock/json", system_prompt="", user_prompt="hi", temperature=0.0, max_tokens=10,
    timeout_s=5.0, stream=True, response_format="json",
)
assert call_model(request, on_delta=lambda _: None, should_stop=lambda: False).json
print(sorted(name for name in sys.modules if name.split(".")[0] in ("litellm", "openai")))
"""
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
