from django.apps import AppConfig


class WorkflowTemplatesConfig(AppConfig):
    name = "server.workflow_templates"
    label = "workflow_templates"
    verbose_name = "Workflow templates"
