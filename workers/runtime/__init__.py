"""The Celery side: the tasks, the node runner and the token streams.

It sits on top of the server: it calls the runs services, the engine and the
model layer, and nothing in ``server`` imports it (the server publishes tasks
by name through ``server.runs.dispatch``). See docs/architecture.md.
"""

# Connects the worker signals that warm the model layer at start.
from workers.runtime import warmup  # noqa: F401
