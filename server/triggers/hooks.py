"""``POST /hooks/<token>``: outside the session and CSRF stack.

The checks and the run's start happen in the request's one call to a thread
(``webhooks.receive``). A trigger that answers with the run's output then
waits on the event loop (``SettlesOnTheLoop``), reading the run's state
between sleeps, so a slow run holds no thread, nor a database connection,
while the caller waits.
"""

import asyncio
import time
from typing import Any

import redis
from asgiref.sync import sync_to_async
from django.core.exceptions import RequestDataTooBig
from django.db import close_old_connections, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from server.core.asgi_handler import SettlesOnTheLoop
from server.core.errors import ApiError, Unavailable, error_body
from server.runs.models import TERMINAL_RUN_STATES, Run
from server.triggers.models import Respond
from server.triggers.webhooks import Call, receive

_FIRST_POLL_S = 0.05
_MAX_POLL_S = 0.5


def _error(error: ApiError) -> JsonResponse:
    response = JsonResponse(error_body(error), status=error.status_code)
    if "retry_after_s" in error.extra:
        response["Retry-After"] = str(error.extra["retry_after_s"])
    # Django would log "Unauthorized: /hooks/<token>": the token is the URL's credential.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


@csrf_exempt
def hook(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        response = JsonResponse(
            {"code": "method_not_allowed", "message": "Webhooks take POST only."}, status=405
        )
        response["Allow"] = "POST"
        return response
    try:
        body = request.body
    except RequestDataTooBig:
        body = None
    call = Call(
        body=body,
        content_type=request.content_type or "",
        headers={name.lower(): value for name, value in request.headers.items()},
        query={key: request.GET.get(key) for key in request.GET},
    )
    try:
        accepted = receive(token, call)
    except ApiError as error:
        return _error(error)
    except (redis.ConnectionError, redis.TimeoutError):
        # The rate limit lives in Redis: a restart is no fault of the caller, who may retry.
        unavailable = Unavailable(
            "unavailable", "A service Agentloom depends on is not answering; try again shortly."
        )
        response = _error(unavailable)
        response["Retry-After"] = str(unavailable.wait)
        return response
    if accepted.respond == Respond.OUTPUT and accepted.wait_s > 0:
        _give_back_connection()
        return RunOutputWhenEnded(accepted.run_id, accepted.wait_s)
    return JsonResponse({"run": accepted.run_id}, status=202)


class RunOutputWhenEnded(SettlesOnTheLoop, JsonResponse):
    """202 with the run's id, or 200 with its output if it ends within ``wait_s``."""

    def __init__(self, run_id: str, wait_s: float) -> None:
        super().__init__({"run": run_id}, status=202)
        self.run_id = run_id
        self.wait_s = wait_s

    async def settle(self) -> None:
        ended = await _wait_for_end(self.run_id, self.wait_s)
        if ended is not None:
            self.replace(200, JsonResponse({"run": self.run_id, **ended}).content)


def _give_back_connection() -> None:
    """Return the request thread's database connection to the pool now.

    Django does it when the answer has been sent; a call that waits for its
    run's output would hold it for up to ``wait_s``, and a few such calls would
    hold every connection of the process. (Inside a transaction, which only a
    test's request runs in, the connection is the transaction's.)
    """
    if not connection.in_atomic_block:
        close_old_connections()


def _run_end(run_id: str) -> dict[str, Any] | None:
    try:
        row = Run.objects.filter(pk=run_id).values("state", "output", "error").first()
    finally:
        _give_back_connection()
    if row is None or row["state"] not in TERMINAL_RUN_STATES:
        return None
    return dict(row)


async def _wait_for_end(run_id: str, wait_s: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + wait_s
    pause = _FIRST_POLL_S
    while True:
        ended = await sync_to_async(_run_end)(run_id)
        left = deadline - time.monotonic()
        if ended is not None or left <= 0:
            return ended
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, _MAX_POLL_S)
