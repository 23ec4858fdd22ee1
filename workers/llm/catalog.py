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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workers.llm.mock import MOCK_COST_PER_TOKEN, MOCK_MODELS, MOCK_TOOLS_MODEL, is_mock_model

PRICE_FILE = "model_prices_and_context_window_backup.json"

# Where a self-hosted OpenAI-compatible server (vLLM, LM Studio, the test server…)
# is configured: with the base set, any ``openai/<name>`` is served from it.
OPENAI_BASE_ENV = "AGENTLOOM_OPENAI_API_BASE"
OPENAI_MODELS_ENV = "AGENTLOOM_OPENAI_MODELS"  # comma list of names to offer from it

# The variable that makes a provider usable (litellm reads the same names).
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

# Every variable the catalog looks at. settings.py reads them from the environment
# and the callers pass them in: this layer reads no environment of its own.
PROVIDER_SETTINGS = (OPENAI_BASE_ENV, OPENAI_MODELS_ENV, *PROVIDER_ENV.values())

SELF_HOSTED_PROVIDER = "openai-compatible"

# Where the key of a usable model comes from (the ``source`` of the models/ API).
BUILTIN = "builtin"
CREDENTIAL = "credential"
ENVIRONMENT = "environment"


@dataclass(frozen=True)
class ModelInfo:
    id: str
    provider: str
    label: str
    simulated: bool  # a built-in mock: the UI says so
    input_cost_per_token: float
    output_cost_per_token: float
    max_tokens: int | None  # most output tokens per call; None when nobody says
    available: bool  # usable right now in the workspace (or with the operator's keys)
    source: str | None  # BUILTIN, CREDENTIAL or ENVIRONMENT when available
    reason: str | None  # why not, when unavailable


def environment_providers(env: Mapping[str, str]) -> frozenset[str]:
    """The providers the operator configured: a key (ollama: its base), or the self-hosted base."""
    providers = {provider for provider, variable in PROVIDER_ENV.items() if env.get(variable)}
    if env.get(OPENAI_BASE_ENV):
        providers.add("openai")
    return frozenset(providers)


def model_catalog(
    env: Mapping[str, str], sources: Mapping[str, str] | None = None
) -> list[ModelInfo]:
    """Mocks first, then self-hosted models, then the curated list.

    ``env`` holds the ``PROVIDER_SETTINGS`` values in force (settings'
    ``AGENTLOOM_MODEL_PROVIDERS``). ``sources`` maps every provider usable in a
    workspace to where its key comes from (``CREDENTIAL`` or ``ENVIRONMENT``);
    without it, the operator's keys alone. A model of another provider is
    listed as unavailable, with the reason.
    """
    if sources is None:
        sources = dict.fromkeys(environment_providers(env), ENVIRONMENT)
    input_cost, output_cost = MOCK_COST_PER_TOKEN
    entries = [
        ModelInfo(
            id=mock.id,
            provider="mock",
            label=f"{mock.label} (simulated)",
            simulated=True,
            input_cost_per_token=input_cost,
            output_cost_per_token=output_cost,
            max_tokens=None,
            available=True,
            source=BUILTIN,
            reason=None,
        )
        for mock in MOCK_MODELS.values()
    ]
    # Called as openai/<name>: a workspace's own OpenAI credential takes precedence.
    self_hosted_source = sources.get("openai", ENVIRONMENT)
    entries += [
        _priced(f"openai/{name}", SELF_HOSTED_PROVIDER, f"{name} (self-hosted)", self_hosted_source)
        for name in _self_hosted_names(env)
    ]
    listed = {entry.id for entry in entries}
    for model_id, label in CURATED_MODELS:
        provider = model_id.partition("/")[0]
        if model_id not in listed:
            entries.append(_priced(model_id, provider, label, sources.get(provider)))
    return entries


def is_known_model(model_id: str, env: Mapping[str, str]) -> bool:
    """Whether a node may name ``model_id`` (validation's "unknown model").

    This covers the whole catalog: curated models are all in the price list, and
    self-hosted ones are ``openai/*`` with the base set.
    """
    if model_id in MOCK_MODELS or _price_entry(model_id) is not None:
        return True
    provider, _, name = model_id.partition("/")
    return provider == "openai" and bool(name) and bool(env.get(OPENAI_BASE_ENV))


def supports_tools(model_id: str, env: Mapping[str, str]) -> bool:
    """Whether ``model_id`` can be offered tools (validation's ``tools_unsupported``).

    Of the mocks, ``mock/tools`` alone; a listed model as the price list says (the
    ``supports_function_calling`` flag that ``litellm.supports_function_calling``
    reads, here without litellm's import); a self-hosted OpenAI-compatible model
    is assumed to, as the test server, vLLM and Ollama do.
    """
    if is_mock_model(model_id):
        return model_id == MOCK_TOOLS_MODEL
    entry = _price_entry(model_id)
    if entry is not None:
        return entry.get("supports_function_calling") is True
    return is_known_model(model_id, env)


def model_price(model_id: str) -> tuple[float, float]:
    """(input, output) USD per token; the nominal price for mocks, 0 for models with no price."""
    if model_id in MOCK_MODELS:
        return MOCK_COST_PER_TOKEN
    entry = _price_entry(model_id) or {}
    return (_cost(entry, "input_cost_per_token"), _cost(entry, "output_cost_per_token"))


def _priced(model_id: str, provider: str, label: str, source: str | None) -> ModelInfo:
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
        available=source is not None,
        source=source,
        reason=None
        if source is not None
        else f"no {provider} credential in this workspace, and the operator set no key for it",
    )


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
