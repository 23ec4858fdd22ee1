"""The request stack: one call to a thread per request, static files served, one Redis client."""

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from server.core.asgi_handler import OneCallASGIHandler, RequestThreads, SettlesOnTheLoop


class CountingLoop(asyncio.SelectorEventLoop):
    """An event loop that counts the calls it hands to threads."""

    handed_over = 0

    def run_in_executor(self, executor: Any, func: Any, *args: Any) -> Any:
        self.handed_over += 1
        return super().run_in_executor(executor, func, *args)


def get(handler: ASGIHandler, path: str, method: str = "GET") -> httpx.Response:
    return request_counting_threads(handler, path, method)[0]


def request_counting_threads(
    handler: ASGIHandler, path: str, method: str = "GET"
) -> tuple[httpx.Response, int]:
    """The answer, and how many calls the event loop handed to threads for it."""

    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=handler)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.request(method, path)

    with asyncio.Runner(loop_factory=CountingLoop) as runner:
        answer = runner.run(fetch())
        return answer, runner.get_loop().handed_over  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
def test_a_synchronous_views_request_is_one_call_to_a_thread():
    """Django's async chain calls a thread for each hook of each middleware; ours once.

    The other two calls are Django's own around any request: the
    ``request_started`` receivers and the response's ``close``.
    """
    django_answer, django_calls = request_counting_threads(ASGIHandler(), "/api/v1/workflows/")
    answer, calls = request_counting_threads(OneCallASGIHandler(), "/api/v1/workflows/")
    assert answer.status_code == django_answer.status_code == 401
    assert calls == 3
    assert django_calls >= 12


@pytest.mark.django_db(transaction=True)
def test_a_webhooks_request_is_one_call_to_a_thread_too():
    path = "/hooks/" + "x" * 43
    django_answer, django_calls = request_counting_threads(ASGIHandler(), path, "POST")
    answer, calls = request_counting_threads(OneCallASGIHandler(), path, "POST")
    assert answer.status_code == django_answer.status_code == 404
    assert calls == 3
    assert django_calls >= 12


class LaterAnswer(SettlesOnTheLoop):
    async def settle(self) -> None:
        await asyncio.sleep(0.05)
        self.replace(200, b'{"answer": "a longer one, decided on the loop"}')


def later_answer(request: HttpRequest) -> HttpResponse:
    return LaterAnswer(b'{"answer": "now"}', status=202, content_type="application/json")


def thread_of(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"thread": threading.current_thread().name})


urlpatterns = [path("later", later_answer), path("thread", thread_of)]


@pytest.mark.urls(__name__)
def test_a_response_settles_on_the_loop_with_the_middlewares_headers_and_a_true_length():
    answer, calls = request_counting_threads(OneCallASGIHandler(), "/later")
    assert answer.status_code == 200
    assert answer.json() == {"answer": "a longer one, decided on the loop"}
    assert answer.headers["Content-Length"] == str(len(answer.content))
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in answer.headers
    assert calls == 3  # the wait held no thread


@pytest.mark.urls(__name__)
def test_requests_one_after_another_run_on_one_kept_thread():
    """Django starts a thread for each request and another to join it; ours keeps them."""
    handler = OneCallASGIHandler()

    async def fetch_five() -> list[str]:
        transport = httpx.ASGITransport(app=handler)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return [(await client.get("/thread")).json()["thread"] for _ in range(5)]

    started = threading.active_count()
    threads = asyncio.run(fetch_five())
    assert len(set(threads)) == 1
    assert threading.active_count() - started <= 1


def test_a_busy_thread_is_not_kept_nor_more_than_asked():
    threads = RequestThreads(keep=2)
    busy = threads.take()
    release = threading.Event()
    busy.submit(release.wait, 10)
    threads.give_back(busy)  # its request ended with a call still running
    given = [threads.take() for _ in range(3)]
    assert busy not in given
    for thread in given:
        thread.submit(lambda: None).result(5)
        threads.give_back(thread)
    assert {threads.take(), threads.take(), threads.take()} & set(given) == set(given[:2])
    release.set()


@pytest.mark.parametrize("debug", [True, False], ids=["files looked for", "files listed"])
def test_no_middleware_is_adapted_and_static_files_are_still_served(settings, caplog, debug):
    """The chain, built for synchronous use, adapts no middleware to the other mode."""
    settings.DEBUG = debug
    Path(settings.STATIC_ROOT, "probe.txt").write_text("served by the middleware")
    caplog.set_level(logging.DEBUG, logger="django.request")
    handler = OneCallASGIHandler()
    if debug:  # Django names each adaptation it makes, in DEBUG only
        adapted = [r.getMessage() for r in caplog.records if "adapted" in r.getMessage()]
        assert adapted == []
    answer = get(handler, "/static/probe.txt")
    assert answer.status_code == 200
    assert answer.text == "served by the middleware"


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="the embedded default has no Redis")
def test_the_cache_keeps_one_redis_client_across_requests_and_threads():
    """Django makes a cache object per request context: they must not each connect."""
    server = redis.Redis.from_url(django_settings.REDIS_URL)
    before = server.info("stats")["total_connections_received"]
    clients = []

    def request() -> None:
        cache = caches.create_connection("default")  # what a new request context gets
        cache.set("agentloom:test:probe", 1, timeout=5)
        assert cache.get("agentloom:test:probe") == 1
        clients.append(cache._cache)

    # Requests one after another, each on a thread of its own, as under ASGI.
    for _ in range(20):
        thread = threading.Thread(target=request)
        thread.start()
        thread.join(10)
    assert len(clients) == 20
    assert len({id(client) for client in clients}) == 1
    opened = server.info("stats")["total_connections_received"] - before
    assert opened <= 2, opened
