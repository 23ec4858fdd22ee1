"""Agentloom settings, read from the environment (see docs/operations.md).

With no DATABASE_URL, REDIS_URL or S3 bucket set, Agentloom runs in its embedded
default: SQLite under var/, an in-process broker and channel layer, and
artifacts on the local filesystem. The same code paths run; only transports differ.
"""

import base64
import hashlib
import os
import re
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from server.ops import multiproc
from workers.engine.limits import DEFAULT_LIMITS
from workers.llm.catalog import PROVIDER_SETTINGS
from workers.llm.provider import LITELLM_OFFLINE_ENV

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("AGENTLOOM_VAR_DIR", BASE_DIR / "var"))
# Before prometheus_client is imported: it picks multiprocess mode from the environment.
METRICS_DIR = multiproc.prepare(VAR_DIR)

# Before litellm is imported (it reads its own variables from the environment),
# unless the deployment chose otherwise: the bundled price list, nothing online.
for _name, _value in LITELLM_OFFLINE_ENV.items():
    os.environ.setdefault(_name, _value)


class _Env(environ.Env):
    """django-environ, with errors that name the variable and say how to fix it.

    A missing variable otherwise surfaces as a KeyError traceback, and a bad
    number as ``invalid literal for int()`` with no name at all; manage.py
    prints these errors as one line.
    """

    def get_value(self, var: str, *args: object, **kwargs: object) -> object:
        raw = self.ENVIRON.get(var)
        if kwargs.get("cast") is int and raw is not None and not _WHOLE_NUMBER.fullmatch(raw):
            # int() also takes other scripts' digits: Arabic-Indic one, zero is 10.
            raise ImproperlyConfigured(f"{var}={raw!r} is not a whole number in digits 0-9.")
        try:
            return super().get_value(var, *args, **kwargs)
        except ImproperlyConfigured:
            raise ImproperlyConfigured(
                f"{var} is not set. {_HOW_TO_SET.get(var, 'Set it in the environment.')}"
            ) from None
        except ValueError as error:
            raise ImproperlyConfigured(
                f"{var}={os.environ.get(var, '')!r} is not valid ({error})."
            ) from None


_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
_HOW_TO_SET = {
    "SECRET_KEY": "The distributed mode (DATABASE_URL and REDIS_URL set) needs its own: "
    "export SECRET_KEY=\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')\"",
}

env = _Env()

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
    "server.credentials",
    "server.triggers",
    "server.site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "server.core.security.ContentSecurityPolicyMiddleware",
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
    # Parameters go apart from the statement, and a statement a connection
    # has run five times is prepared: psycopg's default, client-side binding,
    # quotes each parameter into the SQL in Python, and PostgreSQL parsed and
    # planned every statement anew (a third of its CPU per run, docs/benchmarks.md).
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": True,
        "prepare_threshold": 5,
        "pool": {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
            "timeout": env.float("DB_POOL_TIMEOUT_S", default=30.0),
        },
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
            "BACKEND": "server.core.cache.SharedRedisCache",
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

# The worker pools `manage.py serve` starts when distributed (the container
# entrypoint reads the same variables).
AGENTLOOM_SERVE = {
    "agents_concurrency": env.int("AGENTS_CONCURRENCY", default=32),
    "control_concurrency": env.int("CONTROL_CONCURRENCY", default=2),
}
# Agents workers import and warm the model layer as they start rather than on
# their first real call (workers/runtime/warmup.py). Not in the embedded mode,
# whose one process also serves the API and may only ever run mock models.
AGENTLOOM_WARM_MODEL_LAYER = env.bool("AGENTLOOM_WARM_MODEL_LAYER", default=not EMBEDDED)

# An OpenAI-compatible server (self-hosted, or the tests' local one) for `openai/*` models.
AGENTLOOM_OPENAI_API_BASE = env.str("AGENTLOOM_OPENAI_API_BASE", default="")
AGENTLOOM_OPENAI_API_KEY = env.str("AGENTLOOM_OPENAI_API_KEY", default="") or env.str(
    "OPENAI_API_KEY", default=""
)
# What the model catalog needs to tell which providers are configured (the
# variables litellm reads too): each name in PROVIDER_SETTINGS, "" when unset.
AGENTLOOM_MODEL_PROVIDERS = {name: env.str(name, default="") for name in PROVIDER_SETTINGS}

# --- Outbound requests to user-given addresses (docs/egress.md) -------------------
# The demo MCP server (server/site/mcp_demo.py) that `serve` starts for the built-in
# tool templates, on this loopback port; 0: none. Its one address is allowed below.
AGENTLOOM_DEMO_MCP_PORT = env.int(
    "AGENTLOOM_DEMO_MCP_PORT", default=8931 if (EMBEDDED or DEBUG) else 0
)
AGENTLOOM_EGRESS = {
    # Hosts, host:port pairs or CIDRs the operator exempts from the address check.
    "allow": env.list("AGENTLOOM_EGRESS_ALLOW", default=[])
    + ([f"127.0.0.1:{AGENTLOOM_DEMO_MCP_PORT}"] if AGENTLOOM_DEMO_MCP_PORT else []),
    "connect_timeout_s": env.float("AGENTLOOM_EGRESS_CONNECT_TIMEOUT_S", default=5.0),
    "total_timeout_s": env.float("AGENTLOOM_EGRESS_TOTAL_TIMEOUT_S", default=30.0),
    "max_response_bytes": env.int("AGENTLOOM_EGRESS_MAX_RESPONSE_BYTES", default=10 * 1024 * 1024),
    "max_redirects": 5,
    "rate_per_workspace": env.str("AGENTLOOM_EGRESS_RATE_PER_WORKSPACE", default="600/min"),
}

# --- Credentials at rest (docs/credentials.md) ------------------------------------
# Fernet keys, comma-separated: the first encrypts, every one decrypts (rotation).
AGENTLOOM_ENCRYPTION_KEYS = env.list("AGENTLOOM_ENCRYPTION_KEYS", default=[])
if not AGENTLOOM_ENCRYPTION_KEYS:
    if not (EMBEDDED or DEBUG):
        raise ImproperlyConfigured(
            "Set AGENTLOOM_ENCRYPTION_KEYS to a Fernet key (openssl rand -base64 32 | tr +/ -_)."
        )
    # Local use: a key derived from SECRET_KEY, stable as long as it is.
    _derived = hashlib.sha256(b"agentloom-credentials:" + SECRET_KEY.encode()).digest()
    AGENTLOOM_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(_derived).decode()]
for _key in AGENTLOOM_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "AGENTLOOM_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from None

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

# --- Auth and security (see docs/operations.md) ------------------------------------
# Django's backend behind the failed sign-in throttle (server/accounts/throttling.py).
AUTHENTICATION_BACKENDS = ["server.accounts.backends.ThrottledModelBackend"]
_VALIDATORS = "django.contrib.auth.password_validation."
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": _VALIDATORS + "UserAttributeSimilarityValidator"},
    {"NAME": _VALIDATORS + "MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": _VALIDATORS + "CommonPasswordValidator"},
    {"NAME": _VALIDATORS + "NumericPasswordValidator"},
]
# Failed sign-ins accepted per user (from any address) and per address, per window.
AGENTLOOM_LOGIN_THROTTLE = {
    "per_user": env.str("AGENTLOOM_LOGIN_RATE_PER_USER", default="10/min"),
    "per_address": env.str("AGENTLOOM_LOGIN_RATE_PER_ADDRESS", default="30/min"),
}
# API tokens: the lifetime a new token gets when none is asked for, and the longest allowed.
AGENTLOOM_TOKENS = {
    "default_ttl_days": env.int("AGENTLOOM_TOKEN_DEFAULT_TTL_DAYS", default=90),
    "max_ttl_days": env.int("AGENTLOOM_TOKEN_MAX_TTL_DAYS", default=365),
}
AGENTLOOM_WORKSPACES = {
    "max_per_user": env.int("AGENTLOOM_MAX_WORKSPACES_PER_USER", default=10),
    "max_running_runs_limit": env.int("AGENTLOOM_MAX_RUNNING_RUNS_LIMIT", default=50),
}
# Invitations to a workspace: how long a link is valid, and whether it is also emailed
# (when the operator configured email: EMAIL_HOST or EMAIL_BACKEND set).
AGENTLOOM_INVITATIONS = {
    "ttl_days": env.int("AGENTLOOM_INVITATION_TTL_DAYS", default=7),
    "send_email": "EMAIL_HOST" in os.environ or "EMAIL_BACKEND" in os.environ,
}
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="agentloom@localhost")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto.
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Secure cookies and HSTS unless the site is served over plain http: the
# embedded default and DEBUG are local by design; a local distributed setup
# without TLS sets AGENTLOOM_PLAIN_HTTP.
PLAIN_HTTP = env.bool("AGENTLOOM_PLAIN_HTTP", default=DEBUG or EMBEDDED)
SESSION_COOKIE_SECURE = not PLAIN_HTTP
CSRF_COOKIE_SECURE = not PLAIN_HTTP
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if PLAIN_HTTP else 31_536_000)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The built canvas loads its scripts, styles and layout worker from /assets/
# and talks to the API and websockets of its own origin. Styles allow inline
# style attributes (the admin's templates use them); scripts allow nothing inline.
CONTENT_SECURITY_POLICY = env.str(
    "AGENTLOOM_CONTENT_SECURITY_POLICY",
    default="; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self' ws: wss:",
            "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    ),
)

# --- Static files (the built frontend is served from frontend/dist) ---------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
# The built single-page app is served from the site root (/assets/…, /favicon…);
# routes it handles itself fall through to server.site.views.spa. WhiteNoise
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

# The engine's limits; the defaults live once, in workers.engine.limits.
# Bodies are capped a little above the document limit so an oversized document
# gets our own 413 with a code rather than a bare Django error.
AGENTLOOM_LIMITS = {
    "max_nodes": env.int("AGENTLOOM_MAX_NODES", default=DEFAULT_LIMITS.max_nodes),
    "max_edges": env.int("AGENTLOOM_MAX_EDGES", default=DEFAULT_LIMITS.max_edges),
    "max_document_bytes": env.int(
        "AGENTLOOM_MAX_DOCUMENT_BYTES", default=DEFAULT_LIMITS.max_document_bytes
    ),
    "max_prompt_chars": env.int(
        "AGENTLOOM_MAX_PROMPT_CHARS", default=DEFAULT_LIMITS.max_prompt_chars
    ),
    "max_expression_chars": env.int(
        "AGENTLOOM_MAX_EXPRESSION_CHARS", default=DEFAULT_LIMITS.max_expression_chars
    ),
    "expression_timeout_ms": env.int(
        "AGENTLOOM_EXPRESSION_TIMEOUT_MS", default=DEFAULT_LIMITS.expression_timeout_ms
    ),
    "max_inline_output_bytes": env.int(
        "AGENTLOOM_MAX_INLINE_OUTPUT_BYTES", default=DEFAULT_LIMITS.max_inline_output_bytes
    ),
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
    # Redis lists per worker pool, so one workspace's backlog cannot hold
    # another's nodes (server/queues.py). Every process must agree on it.
    "queue_shards": env.int("AGENTLOOM_QUEUE_SHARDS", default=8),
    # The leases of beat's leader and of a reaper pass (server/runs/leadership.py):
    # a dead holder is replaced after this long, and a live one renews every third.
    "leader_lease_ttl_s": env.float("AGENTLOOM_LEADER_LEASE_TTL_S", default=30.0),
    # Eager continuation (docs/architecture.md): a node task also runs the
    # control nodes its success made ready, up to this many nodes and for this
    # long, so one run holds a worker slot no longer than that. 0 nodes: off.
    "continuation_max_nodes": env.int("AGENTLOOM_CONTINUATION_MAX_NODES", default=100),
    "continuation_slice_s": env.float("AGENTLOOM_CONTINUATION_SLICE_S", default=0.1),
    # How deep child runs nest (a run started by a workflow tool is one deeper than its parent).
    "max_child_depth": env.int("AGENTLOOM_MAX_CHILD_DEPTH", default=5),
}
if AGENTLOOM_RUNS["queue_shards"] < 1:
    raise ImproperlyConfigured("AGENTLOOM_QUEUE_SHARDS must be at least 1.")
for _name in ("continuation_max_nodes", "continuation_slice_s"):
    if AGENTLOOM_RUNS[_name] < 0:
        raise ImproperlyConfigured(
            f"AGENTLOOM_{_name.upper()} cannot be negative (0 turns eager continuation off)."
        )
if not 0 < AGENTLOOM_RUNS["leader_lease_ttl_s"] <= 45:
    # Longer, and a dead leader would not be replaced within a minute.
    raise ImproperlyConfigured("AGENTLOOM_LEADER_LEASE_TTL_S must be above 0 and at most 45.")
# How long finished runs are kept, and how the beat job deletes them
# (server/runs/services/retention.py).
AGENTLOOM_RETENTION = {
    # The operator's ceiling: no workflow keeps its runs longer.
    "max_days": env.int("AGENTLOOM_RETENTION_MAX_DAYS", default=3650),
    # A workflow that sets no retention_days keeps its runs this long (0: the ceiling).
    "default_days": env.int("AGENTLOOM_RETENTION_DEFAULT_DAYS", default=0),
    "interval_s": env.float("AGENTLOOM_RETENTION_INTERVAL_S", default=600.0),
    # Runs deleted per transaction, so each batch holds its locks briefly.
    "batch_runs": env.int("AGENTLOOM_RETENTION_BATCH_RUNS", default=100),
}
AGENTLOOM_RETENTION["default_days"] = (
    AGENTLOOM_RETENTION["default_days"] or AGENTLOOM_RETENTION["max_days"]
)
if not 1 <= AGENTLOOM_RETENTION["default_days"] <= AGENTLOOM_RETENTION["max_days"] <= 100_000:
    raise ImproperlyConfigured(
        "AGENTLOOM_RETENTION_DEFAULT_DAYS must be from 1 to AGENTLOOM_RETENTION_MAX_DAYS, "
        "which must be at most 100000."
    )
if not 1 <= AGENTLOOM_RETENTION["batch_runs"] <= 10_000:
    raise ImproperlyConfigured("AGENTLOOM_RETENTION_BATCH_RUNS must be from 1 to 10000.")
AGENTLOOM_LIVE = {
    # How often a run socket reads the database for events the pub/sub lost.
    "catch_up_interval_s": env.float("AGENTLOOM_CATCH_UP_INTERVAL_S", default=2.0),
    "ping_interval_s": env.float("AGENTLOOM_PING_INTERVAL_S", default=20.0),
    # How often a socket checks again that its caller may still watch.
    "reauth_interval_s": env.float("AGENTLOOM_WS_REAUTH_INTERVAL_S", default=30.0),
    # Live events waiting for one socket before it is closed as too slow (4408).
    "send_queue_events": env.int("AGENTLOOM_WS_SEND_QUEUE", default=5000),
    # Seconds one send may wait on a client that stopped reading before the socket
    # is closed as too slow (4408): the bound when no further events arrive to overflow
    # the queue, such as at the end of a run.
    "send_stall_s": env.float("AGENTLOOM_WS_SEND_STALL_S", default=15.0),
    # Messages waiting to be published per process; beyond it they are dropped
    # (sockets read them from the event log).
    "publish_queue_messages": env.int("AGENTLOOM_PUBLISH_QUEUE", default=10_000),
}
# Schedules and webhook triggers (docs/triggers.md).
AGENTLOOM_TRIGGERS = {
    # How often beat's leader fires due schedules, and how late a slot may still fire
    # when `catch_up` is "none" (a slot missed by more, while no beat ran, is skipped).
    "fire_interval_s": env.float("AGENTLOOM_SCHEDULE_FIRE_INTERVAL_S", default=1.0),
    "schedule_grace_s": env.float("AGENTLOOM_SCHEDULE_GRACE_S", default=60.0),
    "fire_batch": env.int("AGENTLOOM_SCHEDULE_FIRE_BATCH", default=500),
    "max_body_bytes": env.int("AGENTLOOM_WEBHOOK_MAX_BODY_BYTES", default=1024 * 1024),
    "signature_window_s": env.int("AGENTLOOM_WEBHOOK_SIGNATURE_WINDOW_S", default=300),
    "max_wait_s": env.int("AGENTLOOM_WEBHOOK_MAX_WAIT_S", default=60),
}
# Each worker serves its process group's metrics here (server/ops/multiproc.py); 0: any free port.
AGENTLOOM_METRICS = {
    "port": env.int("AGENTLOOM_METRICS_PORT", default=0),
    "host": env.str("AGENTLOOM_METRICS_HOST", default="127.0.0.1"),
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
