"""Health, readiness and metrics, and the single-page app shell."""

import logging
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST

from server.runs.dispatch import broker_problem
from server.site.metrics import exposition

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up; says nothing about its dependencies (that is /readyz)."""
    return JsonResponse({"status": "ok"})


def _database_problem() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"
    return None


def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database and broker answer; 503 naming which do not.

    Anonymous callers learn only which dependency is down: exception text
    (host names, user names, driver versions) goes to the server log.
    """
    problems = {"database": _database_problem(), "broker": broker_problem()}
    checks = {name: "unavailable" if problem else "ok" for name, problem in problems.items()}
    for name, problem in problems.items():
        if problem:
            logger.warning("not ready: %s: %s", name, problem)
    if any(problems.values()):
        return JsonResponse({"code": "not_ready", "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})


def metrics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


def spa(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """The frontend's index.html for every client-side route."""
    index = settings.FRONTEND_DIST / "index.html"
    if not index.exists():
        return HttpResponse(
            "The frontend is not built yet: run `make up` (or `npm run build` in frontend/).",
            status=503,
            content_type="text/plain",
        )
    # A small file: a plain response, not a FileResponse, whose synchronous
    # stream Django would have to adapt (and warn about) under ASGI.
    return HttpResponse(index.read_bytes(), content_type="text/html; charset=utf-8")
