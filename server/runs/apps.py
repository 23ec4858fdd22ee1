from django.apps import AppConfig
from django.db.models.signals import pre_delete


class RunsConfig(AppConfig):
    name = "server.runs"
    label = "runs"

    def ready(self) -> None:
        from server.runs.publisher import run_events_committed
        from server.runs.services.flow_nodes import on_run_events
        from server.runs.services.retention import delete_files_of_deleted_workflow
        from server.workflows.models import Workflow

        pre_delete.connect(
            delete_files_of_deleted_workflow,
            sender=Workflow,
            dispatch_uid="runs.delete_files_of_deleted_workflow",
        )
        # `workflow` and `map` nodes start their child runs, and count their ends, after commits.
        run_events_committed.connect(on_run_events, dispatch_uid="runs.flow_nodes")
