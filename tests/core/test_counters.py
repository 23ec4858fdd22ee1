"""The rate limits' counter on the shared cache: made with a lifetime, counted up, read back."""

import uuid

import redis
from django.conf import settings as django_settings
from django.core.cache import cache

from server.core.cache import count_up


def _key() -> str:
    return f"agentloom:test:counter:{uuid.uuid4()}"


def test_on_redis_a_counter_is_made_with_its_lifetime_and_counted_up():
    key = _key()
    assert [count_up(key, timeout=90) for _ in range(3)] == [1, 2, 3]
    assert cache.get(key) == 3
    cache.decr(key)  # the login throttle gives a refused attempt back
    assert count_up(key, timeout=90) == 3
    server = redis.Redis.from_url(django_settings.REDIS_URL)
    assert 85 <= server.ttl(cache.make_and_validate_key(key)) <= 90


def test_on_redis_counting_up_keeps_the_lifetime_it_was_made_with():
    key = _key()
    count_up(key, timeout=90)
    count_up(key, timeout=5000)
    server = redis.Redis.from_url(django_settings.REDIS_URL)
    assert server.ttl(cache.make_and_validate_key(key)) <= 90


def test_on_the_embedded_cache_the_counter_counts_the_same(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    key = _key()
    assert [count_up(key, timeout=90) for _ in range(3)] == [1, 2, 3]
    assert cache.get(key) == 3
