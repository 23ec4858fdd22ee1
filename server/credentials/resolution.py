"""Which key and endpoint one model call uses (docs/credentials.md).

In order: the credential the node names (only if it belongs to the run's
workspace), else the workspace's default credential for the model's provider,
else the operator's environment keys. The result is passed to the model call
as arguments, never through the process environment, so two workspaces' calls
in one worker process each use their own key.

Addresses a user gave (``api_base`` of ``openai_compatible`` and ``azure``
credentials) are checked by the outbound guard here, before the call, and the
call itself then connects through the guard's transport.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from server.credentials.crypto import SecretUnreadable, decrypt_secret
from server.credentials.models import PROVIDERS_WITH_BASE, Credential, Provider
from server.credentials.selectors import credential_in_workspace, default_credential
from server.credentials.services import credentials_version, mark_used
from server.egress import (
    EgressRefused,
    EgressTimeout,
    EgressUnreachable,
    check_destination,
    shared_transport,
)
from workers.engine.validation.models import served_name
from workers.llm.catalog import OPENAI_BASE_ENV, PROVIDER_ENV
from workers.llm.types import ModelCallError

# Model providers a workspace credential can serve, by the model name's prefix.
_MODEL_PROVIDERS = frozenset(Provider.values) - {Provider.HTTP}
# How often a worker records that a credential was used (per credential).
_MARK_EVERY_S = 60.0


@dataclass(frozen=True)
class ModelAccess:
    """How one call reaches its model: the arguments litellm gets, and where they came from."""

    model: str
    api_key: str | None
    api_base: str | None
    api_version: str | None
    source: str  # "mock", "credential", "workspace_default" or "environment"
    credential_id: uuid.UUID | None = None
    # The outbound guard's transport, for calls to a user-given address.
    transport: Any = None


@dataclass(frozen=True)
class _Snapshot:
    """What a call needs of a credential, decrypted once and kept in this process."""

    credential_id: uuid.UUID
    name: str
    provider: str
    api_key: str
    api_base: str | None
    api_version: str | None


class _Memo:
    """Credentials looked up by this process, valid while their workspace's version holds.

    Every change to a workspace's credentials sets a new version in the shared
    cache (services.py), so a key replaced or deleted is not used again by any
    process; the age limit covers a cache that lost its versions. A call thus
    costs one cache read instead of a database read and a decryption.
    """

    MAX_AGE_S = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[str, float, _Snapshot | None]] = {}
        self._marked: dict[uuid.UUID, float] = {}

    def get(self, key: tuple[str, str], version: str) -> tuple[bool, _Snapshot | None]:
        entry = self._entries.get(key)
        if entry is None or entry[0] != version or time.monotonic() - entry[1] > self.MAX_AGE_S:
            return False, None
        return True, entry[2]

    def put(self, key: tuple[str, str], version: str, snapshot: _Snapshot | None) -> None:
        with self._lock:
            self._entries[key] = (version, time.monotonic(), snapshot)

    def use_due(self, credential_id: uuid.UUID) -> bool:
        """Whether to record a use now: once a minute per credential and process."""
        now = time.monotonic()
        with self._lock:
            if now - self._marked.get(credential_id, -_MARK_EVERY_S) < _MARK_EVERY_S:
                return False
            self._marked[credential_id] = now
            return True


_memo = _Memo()


def model_access(
    workspace_id: uuid.UUID | str, model: str, credential_id: str | None
) -> ModelAccess:
    """The key and endpoint for calling ``model`` in this workspace; ``ModelCallError`` if none."""
    provider = model.partition("/")[0]
    if provider == "mock":
        return ModelAccess(model, None, None, None, source="mock")
    if not credential_id and provider not in _MODEL_PROVIDERS:
        return _from_environment(model, provider)
    key = (str(workspace_id), f"id:{credential_id}" if credential_id else f"default:{provider}")
    version = credentials_version(workspace_id)
    found, snapshot = _memo.get(key, version)
    if not found:
        credential = (
            credential_in_workspace(workspace_id, credential_id)
            if credential_id
            else default_credential(workspace_id, provider)
        )
        snapshot = _snapshot(credential) if credential is not None else None
        _memo.put(key, version, snapshot)
    if snapshot is None:
        if credential_id:
            raise ModelCallError(
                "credential_not_found",
                f"credential {credential_id} does not exist in this workspace",
                retryable=False,
            )
        return _from_environment(model, provider)
    if _memo.use_due(snapshot.credential_id):
        mark_used(snapshot.credential_id)
    return _access(snapshot, model, "credential" if credential_id else "workspace_default")


def _snapshot(credential: Credential) -> _Snapshot:
    try:
        secret = decrypt_secret(credential.secret_token)
    except SecretUnreadable as exc:
        raise ModelCallError("credential_unreadable", exc.message, retryable=False) from None
    config = credential.config
    api_base = config.get("api_base") if credential.provider in PROVIDERS_WITH_BASE else None
    if api_base:
        # Checked when first read, for a clear error; every connection is checked again.
        _check_base(api_base, credential.workspace.allowed_domains)
    return _Snapshot(
        credential_id=credential.pk,
        name=credential.name,
        provider=credential.provider,
        api_key=secret["api_key"],
        api_base=api_base,
        api_version=config.get("api_version"),
    )


def _access(snapshot: _Snapshot, model: str, source: str) -> ModelAccess:
    provider = snapshot.provider
    if provider == Provider.OPENAI_COMPATIBLE:
        # Any name: the server at api_base decides what it serves.
        model = f"openai/{served_name(model)}"
    elif provider == Provider.AZURE:
        model = f"azure/{served_name(model)}"
    elif model.partition("/")[0] != provider:
        raise ModelCallError(
            "credential_mismatch",
            f"credential {snapshot.name!r} is for {provider}, not for model {model!r}",
            retryable=False,
        )
    return ModelAccess(
        model=model,
        api_key=snapshot.api_key,
        api_base=snapshot.api_base,
        api_version=snapshot.api_version,
        source=source,
        credential_id=snapshot.credential_id,
        transport=shared_transport() if snapshot.api_base else None,
    )


def _check_base(api_base: str, allowed_domains: list[str]) -> None:
    try:
        check_destination(api_base, allowed_domains)
    except EgressRefused as exc:
        raise ModelCallError("egress_refused", f"api_base: {exc.reason}") from None
    except EgressTimeout as exc:
        raise ModelCallError("timeout", f"api_base: {exc.reason}") from None
    except EgressUnreachable as exc:
        raise ModelCallError("connection", f"api_base: {exc.reason}") from None


def _from_environment(model: str, provider: str) -> ModelAccess:
    """The operator's keys (settings), for providers it configured; nothing ambient."""
    env = settings.AGENTLOOM_MODEL_PROVIDERS
    if provider == "openai" and env.get(OPENAI_BASE_ENV):
        return ModelAccess(
            model,
            api_key=settings.AGENTLOOM_OPENAI_API_KEY or None,
            api_base=env[OPENAI_BASE_ENV],
            api_version=None,
            source="environment",
        )
    variable = PROVIDER_ENV.get(provider)
    value = env.get(variable, "") if variable else ""
    if not value:
        raise ModelCallError(
            "model_unavailable",
            f"no credential in this workspace and no operator key for provider {provider!r}",
            retryable=False,
        )
    if provider == "ollama":  # a local server: its variable is the base, not a key
        return ModelAccess(model, None, value, None, source="environment")
    return ModelAccess(model, value, None, None, source="environment")
