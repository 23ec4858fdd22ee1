from django.apps import AppConfig


class TriggersConfig(AppConfig):
    name = "server.triggers"
    label = "triggers"
    verbose_name = "Schedules and webhook triggers"

    def ready(self) -> None:
        from server.runs.publisher import run_events_committed
        from server.triggers.notifications import on_run_events

        run_events_committed.connect(on_run_events, dispatch_uid="triggers.notifications")
