"""The workflow engine's pure core: validation, expressions and scheduling decisions.

Nothing here imports Django, Celery or a model client, so the server (on save,
import and run) and the workers (while running) share one definition of what a
workflow document means, and every rule is unit-tested without a database.
"""
