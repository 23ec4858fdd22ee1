"""What a workspace can call: providers with a credential of its own or an operator key.

The ``models/`` API, validation (the validate endpoint, saves, run starts) and
resolution.py agree on it: a workspace credential comes before the operator's
key, and a provider with neither cannot be called.
"""

import uuid

from django.conf import settings
from django.db import connection

from server.core.model_catalog import supports_tools
from server.core.rows import as_uuid
from server.credentials.models import PROVIDERS_WITH_BASE, Credential, Provider
from workers.engine.validation import WorkspaceModels
from workers.llm.catalog import CREDENTIAL, ENVIRONMENT, environment_providers


def _credentials(workspace_id: uuid.UUID | str | None) -> dict[str, str]:
    """The workspace's credentials by id: their provider (one query; no secret is read).

    A plain statement (``server.core.rows``): every run's start asks.
    """
    if workspace_id is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, provider FROM {Credential._meta.db_table} WHERE workspace_id = %s",
            [Credential._meta.get_field("workspace").get_db_prep_value(workspace_id, connection)],
        )
        rows = cursor.fetchall()
    return {str(as_uuid(pk)): provider for pk, provider in rows}


def _sources(credentials: dict[str, str]) -> dict[str, str]:
    sources = dict.fromkeys(environment_providers(settings.AGENTLOOM_MODEL_PROVIDERS), ENVIRONMENT)
    for provider in credentials.values():
        if provider != Provider.HTTP:
            sources[provider] = CREDENTIAL
    return sources


def provider_sources(workspace_id: uuid.UUID | str | None) -> dict[str, str]:
    """Each provider usable in the workspace: where its key comes from (``CREDENTIAL`` first).

    ``None``: no workspace, the operator's keys alone.
    """
    return _sources(_credentials(workspace_id))


def workspace_models(workspace_id: uuid.UUID | str) -> WorkspaceModels:
    """What validation needs to know of the workspace, as data for the engine."""
    credentials = _credentials(workspace_id)
    return WorkspaceModels(
        providers=frozenset({"mock", *_sources(credentials)}),
        credentials=credentials,
        any_name=frozenset(provider.value for provider in PROVIDERS_WITH_BASE),
        supports_tools=supports_tools,
    )
