from django.contrib import admin

from server.workflows.models import Workflow, WorkflowTag, WorkflowVersion


class WorkflowTagInline(admin.TabularInline):
    model = WorkflowTag
    extra = 0


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "version", "node_count", "updated_at", "updated_by"]
    search_fields = ["name", "description"]
    list_filter = ["workspace"]
    readonly_fields = ["version", "node_count", "problems", "created_at", "updated_at"]
    inlines = [WorkflowTagInline]


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(admin.ModelAdmin):
    """Snapshots are immutable: the admin shows them and never edits them."""

    list_display = ["workflow", "number", "author", "created_at", "message"]
    search_fields = ["workflow__name", "message"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: object) -> bool:
        return False
