from django.apps import AppConfig


class SiteConfig(AppConfig):
    """What binds the apps into one product: its health and page views, and the
    commands that bootstrap and serve it.

    It sits on top of every other app (it reads the run queues, the broker, the
    demo user and the templates), so that ``core`` stays a library the others
    build on and imports none of them.
    """

    name = "server.site"
    label = "site"
    verbose_name = "Agentloom site"
