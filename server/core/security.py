"""Headers Django's SecurityMiddleware does not send."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """``Content-Security-Policy`` on every response that has not set its own.

    One policy serves the canvas and the API alike: JSON answers load nothing,
    so the policy costs them nothing and protects any a browser ends up rendering.
    (MiddlewareMixin keeps it usable on the async path of the ASGI server.)
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        policy = settings.CONTENT_SECURITY_POLICY
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy)
        return response
