from typing import Any

from django.contrib import admin

from server.credentials.models import Credential


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    """Read-only but for the name: the secret is neither shown nor set here (use the API)."""

    list_display = [
        "name",
        "workspace",
        "provider",
        "is_default",
        "hint",
        "created_at",
        "last_used_at",
    ]
    list_filter = ["provider"]
    search_fields = ["name", "workspace__name"]
    exclude = ["secret_token"]
    readonly_fields = [
        "workspace",
        "provider",
        "config",
        "hint",
        "is_default",
        "created_by",
        "created_at",
        "updated_at",
        "last_used_at",
    ]

    def has_add_permission(self, request: Any) -> bool:
        return False
