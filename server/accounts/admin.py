from django.contrib import admin

from server.accounts.models import ApiToken, Invitation, Membership, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "max_running_runs", "created_by", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "workspace__name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "scopes", "expires_at", "created_at", "last_used_at"]
    search_fields = ["name", "user__username", "prefix"]
    # The hash is useless to a person and must never be edited by hand.
    exclude = ["key_hash"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """For operators to see and revoke; invitations are made in the API, where the link is shown."""

    list_display = ["workspace", "email", "username", "role", "expires_at", "accepted_at"]
    list_filter = ["role"]
    search_fields = ["email", "username", "workspace__name"]
    exclude = ["token_hash"]
    readonly_fields = [
        "workspace",
        "email",
        "username",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
    ]

    def has_add_permission(self, request: object) -> bool:
        return False
