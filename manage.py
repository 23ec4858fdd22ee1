#!/usr/bin/env python
"""Django's command-line utility for Agentloom."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reads the settings module now
    except ImproperlyConfigured as error:
        # A newcomer's first `make up` with a variable missing: one line that
        # says which and how to set it, not a traceback (docs/operations.md).
        sys.exit(f"agentloom: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
