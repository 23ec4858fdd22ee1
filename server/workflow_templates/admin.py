from django.contrib import admin

from server.workflow_templates.models import Template


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "workspace", "key", "created_at"]
    list_filter = ["category"]
    search_fields = ["name", "description", "key"]
