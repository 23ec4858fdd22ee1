"""WhiteNoise's middleware, usable on the async path of the ASGI server.

WhiteNoise's own middleware is synchronous only. One synchronous middleware
in the stack makes Django run everything inside it in a thread, and an async
view (``/hooks/``) then hops back to the event loop and out to a thread again:
three thread hops a request where one does. This one looks the path up on the
event loop (a dict read, unless files are looked for on disk as they change)
and serves a file from a thread; every other request goes straight on.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware


class AsyncWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        super().__init__(get_response)
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._is_async:
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        response: Awaitable[HttpResponseBase] = self.get_response(request)
        return await response
