"""Which models a deployment offers, with prices (the ``models/`` API, validation, estimates).

Prices come from the price list bundled with litellm, read as plain JSON: the API
server and validation need them but must not pay litellm's ~7 s import. The list is
the one litellm itself uses for ``cost_per_token``, so estimates and billed costs
agree.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workers.llm.mock import MOCK_MODELS

PRICE_FILE = "model_prices_and_context_window_backup.json"

# Where a self-hosted OpenAI-compatible server (vLLM, LM Studio, the test server…)
# is configured: with the base set, any ``openai/<name>`` is served from it.
OPENAI_BASE_ENV = "AGENTLOOM_OPENAI_API_BASE"
OPENAI_MODELS_ENV = "AGENTLOOM_OPENAI_MODELS"  # comma list of names to offer from it

# The env var that makes a provider usable (litellm reads the same names).
PROVIDER_ENV = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "ollama": "OLLAMA_API_BASE",  # a local server: no key, but it must be somewhere
}

# A short list of popular models, as (litellm model id, label). Every id must be in
# the bundled price list (a test checks it on each litellm upgrade).
CURATED_MODELS: tuple[tuple[str, str], ...] = (
    ("openai/gpt-4o", "GPT-4o"),
    ("openai/gpt-4o-mini", "GPT-4o mini"),
    ("openai/gpt-4.1", "GPT-4.1"),
    ("openai/gpt-4.1-mini", "GPT-4.1 mini"),
    ("openai/o3-mini", "o3-mini"),
    ("openai/o4-mini", "o4-mini"),
    ("anthropic/claude-sonnet-4-5", "Claude Sonnet 4.5"),
    ("anthropic/claude-haiku-4-5", "Claude Haiku 4.5"),
    ("gemini/gemini-2.5-pro", "Gemini 2.5 Pro"),
    ("gemini/gemini-2.5-flash", "Gemini 2.5 Flash"),
    ("mistral/mistral-large-latest", "Mistral Large"),
    ("mistral/mistral-small-latest", "Mistral Small"),
    ("groq/openai/gpt-oss-120b", "GPT-OSS 120B on Groq"),
    ("ollama/llama3.1", "Llama 3.1 on Ollama"),
)

SELF_HOSTED_PROVIDER = "openai-compatible"


@dataclass(frozen=True)
class ModelInfo:
    id: str
    provider: str
    label: str
    simulated: bool  # a built-in mock: the UI says so
    input_cost_per_token: float
    output_cost_per_token: float
    max_tokens: int | None  # most output tokens per call; None when nobody says
    available: bool  # usable right now with this deployment's configuration


def model_catalog(env: Mapping[str, str] = os.environ) -> list[ModelInfo]:
    """Mocks first, then self-hosted models, then the curated list."""
    entries = [
        ModelInfo(
            id=mock.id,
            provider="mock",
            label=f"{mock.label} (simulated)",
            simulated=True,
            input_cost_per_token=0.0,
            output_cost_per_token=0.0,
            max_tokens=None,
            available=True,
        )
        for mock in MOCK_MODELS.values()
    ]
    entries += [
        _priced(f"openai/{name}", SELF_HOSTED_PROVIDER, f"{name} (self-hosted)", available=True)
        for name in _self_hosted_names(env)
    ]
    listed = {entry.id for entry in entries}
    for model_id, label in CURATED_MODELS:
        provider = model_id.partition("/")[0]
        if model_id not in listed:
            available = _provider_configured(provider, env)
            entries.append(_priced(model_id, provider, label, available=available))
    return entries


def is_known_model(model_id: str, env: Mapping[str, str] = os.environ) -> bool:
    """Whether a node may name ``model_id`` (validation's "unknown model").

    This covers the whole catalog: curated models are all in the price list, and
    self-hosted ones are ``openai/*`` with the base set.
    """
    if model_id in MOCK_MODELS or _price_entry(model_id) is not None:
        return True
    provider, _, name = model_id.partition("/")
    return provider == "openai" and bool(name) and bool(env.get(OPENAI_BASE_ENV))


def model_price(model_id: str) -> tuple[float, float]:
    """(input, output) USD per token; 0 for mocks and for models with no known price."""
    entry = _price_entry(model_id) or {}
    return (_cost(entry, "input_cost_per_token"), _cost(entry, "output_cost_per_token"))


def _priced(model_id: str, provider: str, label: str, *, available: bool) -> ModelInfo:
    entry = _price_entry(model_id) or {}
    max_tokens = entry.get("max_output_tokens", entry.get("max_tokens"))
    input_cost, output_cost = model_price(model_id)
    return ModelInfo(
        id=model_id,
        provider=provider,
        label=label,
        simulated=False,
        input_cost_per_token=input_cost,
        output_cost_per_token=output_cost,
        max_tokens=max_tokens if isinstance(max_tokens, int) else None,
        available=available,
    )


def _provider_configured(provider: str, env: Mapping[str, str]) -> bool:
    if provider == "openai" and env.get(OPENAI_BASE_ENV):
        return True
    return bool(env.get(PROVIDER_ENV.get(provider, "")))


def _self_hosted_names(env: Mapping[str, str]) -> list[str]:
    if not env.get(OPENAI_BASE_ENV):
        return []
    names = (
        name.strip().removeprefix("openai/") for name in env.get(OPENAI_MODELS_ENV, "").split(",")
    )
    return list(dict.fromkeys(name for name in names if name))


def _price_entry(model_id: str) -> dict[str, Any] | None:
    """The price list's entry for a litellm model id.

    The list keys some models with their provider prefix (``gemini/…``) and others
    without (``gpt-4o``, with ``litellm_provider: openai``); accept both spellings.
    """
    table = _price_table()
    if model_id in table:
        return table[model_id]
    provider, _, name = model_id.partition("/")
    entry = table.get(name)
    if entry is not None and entry.get("litellm_provider") == provider:
        return entry
    return None


def _cost(entry: Mapping[str, Any], key: str) -> float:
    value = entry.get(key)
    return float(value) if isinstance(value, int | float) else 0.0


@functools.cache
def _price_table() -> dict[str, dict[str, Any]]:
    """litellm's bundled price list, found without importing litellm."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / PRICE_FILE
    table = json.loads(path.read_text(encoding="utf-8"))
    # "sample_spec" documents the fields; it is not a model.
    return {
        key: entry
        for key, entry in table.items()
        if key != "sample_spec" and isinstance(entry, dict)
    }
