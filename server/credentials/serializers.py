"""What a credential looks like over the API, and what a valid one is.

Validation messages never repeat the submitted value: the secret must not come
back in an error body either.
"""

import re
from typing import Any
from urllib.parse import urlsplit

from rest_framework import serializers

from server.credentials.models import PROVIDERS_WITH_BASE, Credential, Provider

MAX_SECRET_CHARS = 8192
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
_CONFIG_KEYS = {
    Provider.AZURE: {"api_base", "api_version"},
    Provider.OPENAI_COMPATIBLE: {"api_base"},
    Provider.HTTP: {"header"},
}


def _is_text(value: Any, limit: int = MAX_SECRET_CHARS) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit and value.isprintable()


def check_secret(provider: str, secret: Any) -> dict[str, Any]:
    if not isinstance(secret, dict):
        raise serializers.ValidationError({"secret": "Must be a JSON object."})
    if provider != Provider.HTTP:
        if set(secret) != {"api_key"} or not _is_text(secret["api_key"]):
            raise serializers.ValidationError(
                {"secret": 'Must be {"api_key": "…"}: one non-empty line of text.'}
            )
        return secret
    headers = secret.get("headers", {})
    valid = (
        set(secret) <= {"token", "headers"}
        and secret
        and ("token" not in secret or _is_text(secret["token"]))
        and isinstance(headers, dict)
        and len(headers) <= 20
        and all(_HEADER_NAME.fullmatch(str(k)) and _is_text(v) for k, v in headers.items())
    )
    if not valid:
        raise serializers.ValidationError(
            {"secret": 'Must be {"token": "…"} and/or {"headers": {"Name": "value"}}.'}
        )
    return secret


def check_config(provider: str, config: Any) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise serializers.ValidationError({"config": "Must be a JSON object."})
    allowed = _CONFIG_KEYS.get(Provider(provider), set())
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise serializers.ValidationError(
            {"config": f"Unknown field {unknown[0]!r} for {provider} (allowed: {sorted(allowed)})."}
        )
    if any(not _is_text(value, 2000) for value in config.values()):
        raise serializers.ValidationError({"config": "Values must be non-empty text."})
    if provider in PROVIDERS_WITH_BASE:
        base = urlsplit(config.get("api_base", ""))
        if base.scheme not in ("http", "https") or not base.hostname:
            raise serializers.ValidationError(
                {"config": f"{provider} needs an http(s) URL in api_base."}
            )
    if "header" in config and not _HEADER_NAME.fullmatch(config["header"]):
        raise serializers.ValidationError({"config": "header must be an HTTP header name."})
    return config


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: not "yes", 1 or "on", which DRF's field also takes."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def hint_of(secret: dict[str, Any]) -> str:
    """The last four characters of a long enough key or token; nothing for shorter ones."""
    value = secret.get("api_key") or secret.get("token") or ""
    return value[-4:] if len(value) >= 12 else ""


class CredentialSerializer(serializers.ModelSerializer):
    class Meta:
        model = Credential
        fields = [
            "id",
            "workspace",
            "name",
            "provider",
            "config",
            "hint",
            "is_default",
            "created_at",
            "last_used_at",
        ]
        read_only_fields = fields


class CredentialNameSerializer(serializers.ModelSerializer):
    """What a viewer sees: that a credential exists, not how it is set up."""

    class Meta:
        model = Credential
        fields = ["id", "workspace", "name", "provider"]
        read_only_fields = fields


class CredentialCreateSerializer(serializers.Serializer):
    workspace = serializers.UUIDField(required=False)
    name = serializers.CharField(max_length=200)
    provider = serializers.ChoiceField(choices=Provider.choices)
    secret = serializers.JSONField(write_only=True)
    config = serializers.JSONField(required=False, default=dict)
    is_default = StrictBooleanField(
        required=False,
        default=False,
        help_text="Used for its provider's models when a node names no credential "
        "(instead of the oldest); another default of the provider stops being one.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_secret(attrs["provider"], attrs["secret"])
        check_config(attrs["provider"], attrs["config"])
        return attrs


class CredentialPatchSerializer(serializers.Serializer):
    """``provider`` comes from the credential being changed (``context``); it cannot change."""

    name = serializers.CharField(max_length=200, required=False)
    secret = serializers.JSONField(write_only=True, required=False)
    config = serializers.JSONField(required=False)
    is_default = StrictBooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        provider = self.context["provider"]
        if self.initial_data.get("provider", provider) != provider:
            raise serializers.ValidationError(
                {"provider": "A credential's provider cannot change; add a new credential."}
            )
        if "secret" in attrs:
            check_secret(provider, attrs["secret"])
        if "config" in attrs:
            check_config(provider, attrs["config"])
        return attrs
