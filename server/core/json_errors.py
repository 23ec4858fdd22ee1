"""JSON error pages for API paths outside DRF views: refused bodies, unknown URLs, crashes."""

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django refuses some bodies before DRF sees them (over DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    if not request.path.startswith(("/api/", "/hooks/")):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(
            {"code": "payload_too_large", "message": "The request body is too large."}, status=413
        )
    return JsonResponse({"code": "bad_request", "message": "The request is malformed."}, status=400)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(("/api/", "/hooks/")):
        return JsonResponse({"code": "not_found", "message": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if request.path.startswith(("/api/", "/hooks/")):
        return JsonResponse(
            {"code": "server_error", "message": "Something went wrong on our side."}, status=500
        )
    return defaults.server_error(request)
