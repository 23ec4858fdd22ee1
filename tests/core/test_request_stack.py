"""The request stack: async end to end, static files still served, one Redis client."""

import asyncio
import logging
import threading
from pathlib import Path

import httpx
import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.handlers.asgi import ASGIHandler


def get(handler: ASGIHandler, path: str) -> httpx.Response:
    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=handler)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.get(path)

    return asyncio.run(fetch())


@pytest.mark.parametrize("debug", [True, False], ids=["files looked for", "files listed"])
def test_no_middleware_is_adapted_and_static_files_are_still_served(settings, caplog, debug):
    """One synchronous middleware would run every request's inner stack in a thread."""
    settings.DEBUG = debug
    Path(settings.STATIC_ROOT, "probe.txt").write_text("served by the middleware")
    caplog.set_level(logging.DEBUG, logger="django.request")
    handler = ASGIHandler()
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
