from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "server.live"
    label = "live"
    verbose_name = "Live run events"

    def ready(self) -> None:
        from server.live import log_redaction

        log_redaction.install()
