"""Django's ASGI handler, with a request's whole middleware chain and view in one call to a thread.

Under ASGI Django runs the middleware on the event loop, and each built-in
middleware (``MiddlewareMixin``) calls its ``process_request``,
``process_view`` and ``process_response`` in a thread, one call each: 19
calls handed to a thread for an API request refused at once, 18 for a
webhook, and the event loop's share of that work was most of an API
process's CPU under load (docs/benchmarks.md). A WSGI server runs the same
middleware and view in one call on one thread; this handler does the same,
with the middleware built for synchronous use. Every view is synchronous.

A view that must wait without holding a thread (a webhook answering with its
run's output) returns a ``SettlesOnTheLoop`` response: what it would answer
now, which the middleware handles as usual, then ``settle`` is awaited on the
event loop and may change its status and content.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase


class SettlesOnTheLoop(HttpResponse):
    """A response final only after ``settle``, awaited on the loop once the middleware is done.

    Under a WSGI server, or Django's test client, nothing awaits it and it is
    answered as it stands: a subclass makes that answer a true one.
    """

    async def settle(self) -> None:
        raise NotImplementedError

    def replace(self, status: int, content: bytes) -> None:
        """The status and content the wait decided, with the length the middleware set kept true."""
        self.status_code = status
        self.content = content
        if self.has_header("Content-Length"):
            self["Content-Length"] = str(len(self.content))


class OneCallASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        # ASGIHandler asks for the async chain; every view here is synchronous.
        super().load_middleware(is_async=False)

    async def run_get_response(self, request: HttpRequest) -> HttpResponseBase:
        response = await sync_to_async(self.get_response)(request)
        if isinstance(response, SettlesOnTheLoop):
            await response.settle()
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        # As Django's: the server chunks a file response, so read it in large blocks.
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response
