"""Agentloom settings, read from the environment (see docs/operations.md).

With no DATABASE_URL, REDIS_URL or S3 bucket set, Agentloom runs in its embedded
default: SQLite under var/, an in-process broker and channel layer, and
artifacts on the local filesystem. The same code paths run; only transports differ.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("AGENTLOOM_VAR_DIR", BASE_DIR / "var"))

# litellm would otherwise download a price list when it is first imported.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

env = environ.Env()

REDIS_URL = env.str("REDIS_URL", default="")
_has_database = bool(env.str("DATABASE_URL", default=""))
if _has_database != bool(REDIS_URL):
    # Postgres with the in-process broker (or Redis with SQLite) would start,
    # then never run a task: the web and worker processes could not meet.
    raise ImproperlyConfigured(
        "Set both DATABASE_URL and REDIS_URL (distributed), or neither (embedded default)."
    )
EMBEDDED = not _has_database
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="agentloom-embedded-insecure-key" if (EMBEDDED or DEBUG) else environ.Env.NOTSET,
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "django_celery_beat",
    "server.core",
    "server.accounts",
    "server.workflows",
    "server.workflow_templates",
    "server.runs",
    "server.live",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "server.urls"
ASGI_APPLICATION = "server.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'agentloom.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Worker threads share the file with the web server: WAL lets readers go on
    # while one writer commits, and IMMEDIATE transactions take the write lock up
    # front so two writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # A connection pool per process (psycopg_pool, through Django): requests
    # and tasks borrow a connection and give it back when they end. Persistent
    # per-thread connections would leak under ASGI, where each request runs
    # its synchronous code on a thread of its own.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
            "timeout": env.float("DB_POOL_TIMEOUT_S", default=30.0),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker, channel layer, cache -----------------------------------------
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
if CELERY_BROKER_URL.startswith("memory://"):
    # The in-process broker is polled; its default 1 s interval would add a
    # second to every hop between nodes.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.005}

# An OpenAI-compatible server (self-hosted, or the tests' local one) for `openai/*` models.
AGENTLOOM_OPENAI_API_BASE = env.str("AGENTLOOM_OPENAI_API_BASE", default="")
AGENTLOOM_OPENAI_API_KEY = env.str("AGENTLOOM_OPENAI_API_KEY", default="") or env.str(
    "OPENAI_API_KEY", default=""
)

# --- Object storage for artifacts -----------------------------------------------
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "artifacts")},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "file_overwrite": False,
            "default_acl": None,
        },
    }

# --- Auth -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
SESSION_COOKIE_HTTPONLY = True
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto and mark cookies Secure.
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Static files (the built frontend is served from frontend/dist) ---------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
# The built single-page app is served from the site root (/assets/…, /favicon…);
# routes it handles itself fall through to server.core.views.spa. WhiteNoise
# reads the folder once, at start, so it is only set when a build exists.
WHITENOISE_ROOT = FRONTEND_DIST if FRONTEND_DIST.is_dir() else None
WHITENOISE_INDEX_FILE = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- REST framework -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "server.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["server.core.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "server.core.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "server.core.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # `?format=` belongs to our own endpoints (export), not to content negotiation.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_THROTTLE_RATES": {"login": "30/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Agentloom API",
    "DESCRIPTION": "Build, version and run AI-agent workflows.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RunStateEnum": "server.runs.models.RunState",
        "NodeStateEnum": "server.runs.models.NodeState",
    },
}

# Bodies are capped a little above the document limit so an oversized document
# gets our own 413 with a code rather than a bare Django error.
AGENTLOOM_LIMITS = {
    "max_nodes": env.int("AGENTLOOM_MAX_NODES", default=5000),
    "max_edges": env.int("AGENTLOOM_MAX_EDGES", default=20000),
    "max_document_bytes": env.int("AGENTLOOM_MAX_DOCUMENT_BYTES", default=5 * 1024 * 1024),
    "max_prompt_chars": env.int("AGENTLOOM_MAX_PROMPT_CHARS", default=200_000),
    "max_expression_chars": env.int("AGENTLOOM_MAX_EXPRESSION_CHARS", default=10_000),
    "expression_timeout_ms": env.int("AGENTLOOM_EXPRESSION_TIMEOUT_MS", default=1000),
    "max_inline_output_bytes": env.int("AGENTLOOM_MAX_INLINE_OUTPUT_BYTES", default=64 * 1024),
}
# How runs are kept alive and repaired (see docs/operations.md).
AGENTLOOM_RUNS = {
    "heartbeat_interval_s": env.float("AGENTLOOM_HEARTBEAT_INTERVAL_S", default=5.0),
    "heartbeat_timeout_s": env.float("AGENTLOOM_HEARTBEAT_TIMEOUT_S", default=30.0),
    "reaper_interval_s": env.float("AGENTLOOM_REAPER_INTERVAL_S", default=5.0),
    "redispatch_after_s": env.float("AGENTLOOM_REDISPATCH_AFTER_S", default=60.0),
    "max_lost_workers": env.int("AGENTLOOM_MAX_LOST_WORKERS", default=3),
    "max_duration_s": env.float("AGENTLOOM_MAX_RUN_DURATION_S", default=24 * 3600.0),
    "token_flush_interval_s": env.float("AGENTLOOM_TOKEN_FLUSH_INTERVAL_S", default=0.1),
}
AGENTLOOM_LIVE = {
    # How often a run socket reads the database for events the pub/sub lost.
    "catch_up_interval_s": env.float("AGENTLOOM_CATCH_UP_INTERVAL_S", default=2.0),
    "ping_interval_s": env.float("AGENTLOOM_PING_INTERVAL_S", default=20.0),
}
DATA_UPLOAD_MAX_MEMORY_SIZE = AGENTLOOM_LIMITS["max_document_bytes"] + 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
