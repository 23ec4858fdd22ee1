"""Django's ASGI handler, with a synchronous view's whole request in one call to a thread.

Under ASGI Django runs the middleware on the event loop, and each built-in
middleware (``MiddlewareMixin``) calls its ``process_request``,
``process_view`` and ``process_response`` in a thread, one call each: 19
calls handed to a thread for an API request refused at once, and the event
loop's share of that work was most of an API process's CPU under load
(docs/benchmarks.md). A WSGI server runs the same middleware and view in one
call on one thread; this handler does the same for every synchronous view
(the REST API, the admin, the pages), with a second chain of the same
middleware built for synchronous use. Async views (``/hooks/``, which waits
for its run on the loop) keep Django's async chain.
"""

from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve


class OneCallASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self._sync_handler = BaseHandler()
        self._sync_handler.load_middleware(is_async=False)

    async def run_get_response(self, request: HttpRequest) -> HttpResponseBase:
        if _is_async_view(request.path_info):
            response: HttpResponseBase = await super().run_get_response(request)
            return response
        response = await sync_to_async(self._sync_handler.get_response)(request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        # As Django's: the server chunks a file response, so read it in large blocks.
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response


def _is_async_view(path: str) -> bool:
    """Whether the path's view is a coroutine function (a path of no view: no)."""
    try:
        view: Any = resolve(path).func
    except Resolver404:
        return False
    return iscoroutinefunction(view)
