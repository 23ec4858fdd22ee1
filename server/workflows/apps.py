from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "server.workflows"
    label = "workflows"

    def ready(self) -> None:
        from server.credentials.usage import credential_users
        from server.workflows.selectors import credential_users as answer

        credential_users.connect(answer, dispatch_uid="workflows.credential_users")
