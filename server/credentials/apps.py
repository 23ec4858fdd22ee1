from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "server.credentials"
    label = "credentials"
