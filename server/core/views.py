"""Health, readiness and metrics, and the single-page app shell."""

from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from workers.app import app as celery_app


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up; says nothing about its dependencies (that is /readyz)."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"database: {exc.__class__.__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"broker: {exc.__class__.__name__}: {exc}"
    return None


def readyz(request: HttpRequest) -> JsonResponse:
    problems = [p for p in (_check_database(), _check_broker()) if p]
    if problems:
        return JsonResponse({"status": "unavailable", "problems": problems}, status=503)
    return JsonResponse({"status": "ok"})


def metrics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)


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
