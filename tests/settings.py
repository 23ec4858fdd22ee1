"""Settings for the test suite: the product's settings against the machine's Postgres and Redis.

Tests talk to real services. These defaults match the machine (and CI);
DATABASE_URL / REDIS_URL in the environment win.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/agentloom")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("SECRET_KEY", "agentloom-tests")
# A fixed Fernet key: credentials encrypted by one test process decrypt in its workers.
os.environ.setdefault("AGENTLOOM_ENCRYPTION_KEYS", "YWdlbnRsb29tLXRlc3RzLWVuY3J5cHRpb24ta2V5ISE=")
os.environ.setdefault("AGENTLOOM_VAR_DIR", "/tmp/agentloom-tests")
# Most test workers only run mock models: no litellm import in each (a test may turn it on).
os.environ.setdefault("AGENTLOOM_WARM_MODEL_LAYER", "false")

from server.settings import *  # noqa: F403

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The test suite's flush (tests/support/postgres/base.py); the rest is Django's.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["ENGINE"] = "tests.support.postgres"  # noqa: F405
