from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "server.workflows"
    label = "workflows"
