from django.contrib import admin

from server.runs.models import Artifact, NodeRun, Run, RunEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Run records change only through the runs service; the admin shows them."""

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["id", "workflow", "state", "trigger", "created_at", "finished_at", "cost_usd"]
    list_filter = ["state", "trigger"]
    search_fields = ["id", "workflow__name"]


@admin.register(NodeRun)
class NodeRunAdmin(ReadOnlyAdmin):
    list_display = ["node_id", "run", "state", "attempt", "worker", "started_at", "finished_at"]
    list_filter = ["state", "node_type"]
    search_fields = ["node_id", "run__id"]


@admin.register(RunEvent)
class RunEventAdmin(ReadOnlyAdmin):
    list_display = ["run", "seq", "type", "node_id", "ts"]
    list_filter = ["type"]
    search_fields = ["run__id", "node_id"]


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyAdmin):
    list_display = ["storage_key", "run", "node_id", "size", "compressed_size", "created_at"]
    search_fields = ["storage_key", "run__id", "node_id"]
