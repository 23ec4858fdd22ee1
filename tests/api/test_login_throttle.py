"""Failed sign-ins are throttled per user and per address, against the real server.

The ASGI server trusts ``X-Forwarded-For`` from loopback (uvicorn's default
FORWARDED_ALLOW_IPS), which lets one test client speak from many addresses.
"""

import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

_SESSION = uuid.uuid4().int % 250
_counter = itertools.count(1)  # next() on a count is atomic: safe from the pool's threads


def new_address() -> str:
    i = next(_counter)
    return f"10.{_SESSION}.{i // 250}.{i % 250}"


def login(base: str, username: str, password: str, address: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": address or new_address()}
    return httpx.post(
        f"{base}/api/v1/auth/login/",
        json={"username": username, "password": password},
        headers=headers,
        timeout=10,
    )


def test_ten_wrong_passwords_per_user_from_any_address_then_429_even_for_the_right_one(
    asgi, make_member
):
    make_member("victim")
    statuses = [login(asgi, "victim", f"guess-{i}").status_code for i in range(15)]
    assert statuses == [400] * 10 + [429] * 5

    refused = login(asgi, "victim", "pw-victim")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused.headers["Retry-After"]) <= 70
    # The same name in other case shares the allowance.
    assert login(asgi, "VICTIM", "guess").status_code == 429


def test_concurrent_guesses_cannot_overshoot_the_limit(asgi, make_member):
    make_member("target")
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda i: login(asgi, "target", f"g{i}"), range(40)))
    codes = [r.status_code for r in responses]
    assert codes.count(400) == 10
    assert codes.count(429) == 30


def test_per_address_limit_then_other_addresses_still_sign_in(asgi, make_member):
    make_member("neighbour")
    address = new_address()
    statuses = [login(asgi, f"nobody-{i}", "x", address).status_code for i in range(32)]
    assert statuses == [400] * 30 + [429] * 2
    assert login(asgi, "neighbour", "pw-neighbour", address).status_code == 429
    assert login(asgi, "neighbour", "pw-neighbour").status_code == 200


def test_successful_sign_ins_do_not_use_up_the_allowance(asgi, make_member):
    make_member("regular")
    address = new_address()
    assert all(login(asgi, "regular", "pw-regular", address).status_code == 200 for _ in range(25))
    assert login(asgi, "regular", "wrong", address).status_code == 400
