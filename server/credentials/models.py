"""A workspace's keys for model providers and HTTP services (docs/credentials.md).

The secret is stored only as a Fernet token (crypto.py); what may be shown of
it is the ``hint``, at most its last four characters.
"""

import uuid

from django.conf import settings
from django.db import models

from server.accounts.models import Workspace


class Provider(models.TextChoices):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"
    MISTRAL = "mistral"
    GROQ = "groq"
    AZURE = "azure"
    OPENAI_COMPATIBLE = "openai_compatible"
    HTTP = "http"


# Providers whose calls go to an address the user gives (``config.api_base``),
# so through the outbound guard.
PROVIDERS_WITH_BASE = frozenset({Provider.AZURE, Provider.OPENAI_COMPATIBLE})


class Credential(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="credentials")
    name = models.CharField(max_length=200)
    provider = models.CharField(max_length=32, choices=Provider.choices)
    config = models.JSONField(default=dict, blank=True)
    secret_token = models.BinaryField(editable=False)
    hint = models.CharField(max_length=4, blank=True)
    # The one a model call of this provider uses when the node names none; with
    # no default, the oldest credential of the provider (resolution.py).
    is_default = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="unique_credential_name"),
            models.UniqueConstraint(
                fields=["workspace", "provider"],
                condition=models.Q(is_default=True),
                name="one_default_credential_per_provider",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "provider", "created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider})"
