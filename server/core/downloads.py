"""Responses the browser saves as a file."""

from django.http import HttpResponse
from django.utils.http import content_disposition_header


def attachment(content: bytes | str, content_type: str, filename: str) -> HttpResponse:
    """A download named ``filename``, whatever characters a user put in it.

    Runs of whitespace (line breaks, which no header may hold, among them) fold
    to one space, and Django encodes the rest for the header (RFC 6266,
    ``filename*=`` for non-ASCII).
    """
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, " ".join(filename.split()))
    return response
