from typing import Any

from django.core.management.base import BaseCommand

from server.workflow_templates.services import load_builtin_templates


class Command(BaseCommand):
    help = "Create or update the built-in workflow templates."

    def handle(self, *args: Any, **options: Any) -> None:
        templates = load_builtin_templates()
        self.stdout.write(f"Loaded {len(templates)} built-in templates.")
