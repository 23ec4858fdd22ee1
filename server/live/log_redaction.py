"""Keeps API keys given as ``?token=`` out of the ASGI server's logs.

Scripts that cannot set headers on a websocket pass their key in the query
string, and uvicorn logs every request and handshake with its query string
(its access log, and "WebSocket /ws/…?token=…" lines at info level). The
filter rewrites those records before any handler sees them.
"""

import logging
import re

_TOKEN_IN_QUERY = re.compile(r"([?&](?:token|access_token)=)[^&\s\"']*", re.IGNORECASE)
REDACTED = "[redacted]"
# The loggers uvicorn writes request lines to.
_LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    return _TOKEN_IN_QUERY.sub(rf"\g<1>{REDACTED}", text)


class RedactTokenFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    """Idempotent: called once per process when the app registry is ready."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokenFilter) for f in logger.filters):
            logger.addFilter(RedactTokenFilter())
