"""The model catalog with this deployment's provider settings.

``workers.llm.catalog`` reads no environment; settings does, and these pass
the values in force (``AGENTLOOM_MODEL_PROVIDERS``) on every call, so a test's
``override_settings`` is seen.
"""

from collections.abc import Mapping

from django.conf import settings

from workers.llm import catalog


def model_catalog(sources: Mapping[str, str] | None = None) -> list[catalog.ModelInfo]:
    """The catalog for a workspace whose usable providers are ``sources`` (see
    ``server.credentials.availability``); ``None``: the operator's keys alone."""
    return catalog.model_catalog(settings.AGENTLOOM_MODEL_PROVIDERS, sources)


def is_known_model(model_id: str) -> bool:
    return catalog.is_known_model(model_id, settings.AGENTLOOM_MODEL_PROVIDERS)


def supports_tools(model_id: str) -> bool:
    return catalog.supports_tools(model_id, settings.AGENTLOOM_MODEL_PROVIDERS)
