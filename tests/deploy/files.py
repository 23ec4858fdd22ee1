"""What the deployment-file tests check against: the files' paths, and what the code reads.

No Docker engine or helm binary is needed: the files are parsed (PyYAML, a few
regular expressions) and cross-checked against the code they deploy: the
environment variables settings.py reads, the entrypoint's subcommands, the
Celery queues in server/celery.py.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from workers.llm import catalog

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
CHART = ROOT / "helm" / "agentloom"
TEMPLATES = CHART / "templates"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"

APP_SUBCOMMANDS = {"api", "worker-agents", "worker-control", "beat", "migrate"}
# What the distributed topology must configure (docs/operations.md).
DISTRIBUTED_ENV = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_S3_REGION_NAME",
}


# --- what the code reads ----------------------------------------------------------


@cache
def settings_env_names() -> frozenset[str]:
    """Every environment variable server/settings.py reads."""
    source = (ROOT / "server" / "settings.py").read_text()
    pattern = re.compile(
        r"""(?:env\.(?:str|int|bool|float|list|db_url)|os\.environ\.get)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    )
    return frozenset(pattern.findall(source))


@cache
def entrypoint_env_names() -> frozenset[str]:
    """Variables the entrypoint itself reads (${NAME...})."""
    return frozenset(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", ENTRYPOINT.read_text()))


@cache
def entrypoint_subcommands() -> frozenset[str]:
    """The labels of the entrypoint's `case "$command" in` (the `*)` fallback excluded)."""
    text = ENTRYPOINT.read_text()
    body = text[text.index('case "$command" in') : text.rindex("esac")]
    return frozenset(re.findall(r"^  ([a-z][a-z-]*)\)\s*$", body, re.MULTILINE))


def provider_env_names() -> set[str]:
    """The provider variables the model catalog (and litellm) read."""
    return {*catalog.PROVIDER_ENV.values(), catalog.OPENAI_BASE_ENV, catalog.OPENAI_MODELS_ENV}


def allowed_env_names() -> set[str]:
    return set(settings_env_names()) | set(entrypoint_env_names()) | provider_env_names()
