"""A dependency that stops answering gives 503 with Retry-After, never a 500.

Redis restarts in production (deploys, failovers); until it is back, a sign-in
(throttled on the shared cache) cannot be decided. The cache here points at a
loopback port nobody listens on.
"""

import socket

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_down(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }


def test_a_sign_in_while_the_cache_is_down_is_a_503_to_retry(make_member, cache_down):
    make_member("ada")
    answer = APIClient().post(
        "/api/v1/auth/login/", {"username": "ada", "password": "pw-ada"}, format="json"
    )
    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    assert answer.json()["code"] == "unavailable"
    assert "127.0.0.1" not in answer.content.decode()  # no connection details
