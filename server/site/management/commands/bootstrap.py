"""Prepare a database to serve: migrations, built-in templates, the demo account."""

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from server.accounts.services import ensure_demo_user
from server.workflow_templates.services import load_builtin_templates


class Command(BaseCommand):
    help = "Migrate, load the built-in templates and, when embedded or DEBUG, the demo user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--demo-user",
            action="store_true",
            help="Create the demo / demo account even in the distributed topology (tests, demos).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        templates = load_builtin_templates()
        self.stdout.write(f"Database ready; {len(templates)} built-in templates loaded.")
        if settings.EMBEDDED or settings.DEBUG or options["demo_user"]:
            ensure_demo_user()
            self.stdout.write("Demo account: demo / demo")
