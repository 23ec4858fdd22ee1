from django.contrib import admin

from server.triggers.models import Schedule, ScheduleFiring, WebhookTrigger


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["id", "workflow", "cron", "timezone", "enabled", "next_fire_at"]
    list_filter = ["enabled", "overlap", "catch_up"]


@admin.register(ScheduleFiring)
class ScheduleFiringAdmin(admin.ModelAdmin):
    list_display = ["schedule", "slot", "outcome", "run", "created_at"]
    list_filter = ["outcome"]


@admin.register(WebhookTrigger)
class WebhookTriggerAdmin(admin.ModelAdmin):
    # Neither the token (it is the URL's credential) nor the secret is shown.
    list_display = ["id", "name", "workflow", "enabled", "require_signature", "respond"]
    list_filter = ["enabled", "respond"]
    exclude = ["token", "secret_token"]
