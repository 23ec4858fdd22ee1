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

Django gives each request a thread of its own (asgiref's
``ThreadSensitiveContext``), started for it and joined after it by a second
thread: two threads started per request. This handler keeps the threads of
finished requests for the next ones (``RequestThreads``).
"""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
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


class RequestThread(ThreadPoolExecutor):
    """The one thread a request's thread-sensitive calls run on, kept for later requests."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="request")
        self._last: Future[Any] | None = None

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self._last = super().submit(fn, *args, **kwargs)
        return self._last

    def idle(self) -> bool:
        # One worker runs calls in order: the last one done, all are.
        return self._last is None or self._last.done()


class RequestThreads:
    """Threads of finished requests, for the next ones; used on the event loop only.

    A thread still busy when its request ends (a call left running by a
    client that went away) is not kept: the next request would wait for it.
    Beyond ``keep`` idle threads (after a burst), the rest end.
    """

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._idle: list[RequestThread] = []

    def take(self) -> RequestThread:
        return self._idle.pop() if self._idle else RequestThread()

    def give_back(self, thread: RequestThread) -> None:
        if thread.idle() and len(self._idle) < self._keep:
            self._idle.append(thread)
        else:
            thread.shutdown(wait=False)


# About the requests one process serves at once under load (the benches' 50 senders).
_IDLE_REQUEST_THREADS = 64


class OneCallASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self._threads = RequestThreads(keep=_IDLE_REQUEST_THREADS)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        thread = self._threads.take()
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            self._threads.give_back(thread)

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
