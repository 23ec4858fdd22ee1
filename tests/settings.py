"""Settings for the test suite: the product's settings against the machine's Postgres and Redis.

Tests talk to real services. These defaults match the machine (and CI);
DATABASE_URL / REDIS_URL in the environment win.
"""

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/agentloom")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("SECRET_KEY", "agentloom-tests")
# A fixed Fernet key: credentials encrypted by one test process decrypt in its workers.
os.environ.setdefault("AGENTLOOM_ENCRYPTION_KEYS", "YWdlbnRsb29tLXRlc3RzLWVuY3J5cHRpb24ta2V5ISE=")
os.environ.setdefault("AGENTLOOM_VAR_DIR", "/tmp/agentloom-tests")


def _separate_parallel_workers() -> None:
    """Give each of pytest-xdist's processes its own Redis database and var directory.

    pytest-django already gives each its own test database. The rest would be
    shared: one process's Celery workers would take the other's tasks from the
    same queues, and its flush of Redis would empty the other's. The processes
    a test starts inherit the environment already separated (the marker keeps
    them from separating it again).
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker or os.environ.get("AGENTLOOM_TESTS_SEPARATED") == worker:
        return
    redis_url = urlsplit(os.environ["REDIS_URL"])
    database = int(redis_url.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    os.environ["REDIS_URL"] = urlunsplit(redis_url._replace(path=f"/{database % 16}"))
    os.environ["AGENTLOOM_VAR_DIR"] = os.path.join(os.environ["AGENTLOOM_VAR_DIR"], worker)
    os.environ["AGENTLOOM_TESTS_SEPARATED"] = worker


_separate_parallel_workers()
# Most test workers only run mock models: no litellm import in each (a test may turn it on).
os.environ.setdefault("AGENTLOOM_WARM_MODEL_LAYER", "false")

from server.settings import *  # noqa: E402, F403 - after the environment is set

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The test suite's flush (tests/support/postgres/base.py); the rest is Django's.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["ENGINE"] = "tests.support.postgres"  # noqa: F405
