"""Hostile requests against the real ASGI server (uvicorn), as a client sends them:
raw bytes, not a test client's Python objects (schema-driven fuzzing: tests/api/test_fuzz.py).
"""

import json
import time

import httpx
import pytest

from tests.hostile.conftest import SLOW_TEMPLATE, agent_document, row_counts
from tests.support.documents import chain

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def http(asgi, token):
    with httpx.Client(
        base_url=asgi, headers={"Authorization": f"Token {token}"}, timeout=30
    ) as client:
        yield client


def _raw(http, method: str, path: str, body: bytes) -> httpx.Response:
    return http.request(method, path, content=body, headers={"Content-Type": "application/json"})


def _workflow(http, doc) -> dict:
    response = _raw(http, "POST", "/api/v1/workflows/", json.dumps({"document": doc}).encode())
    assert response.status_code == 201, response.text[:300]
    return response.json()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"name": NaN}', "malformed_json"),
        (b'{"name": "x", "document": {"a": Infinity}}', "malformed_json"),
        (b'{"name": "x", "description": 1e400}', "malformed_json"),
        (b'{"name": "a\\u0000b"}', "unsupported_character"),
        (b'{"name": "x", "document": {"k\\u0000": 1}}', "unsupported_character"),
        (b'{"name": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "malformed_json"),
        (b'{"name": "\xff\xfe"}', "malformed_json"),
        (b'{"name": "x"', "malformed_json"),
        (b'{"name": "x", "document": "' + b"x" * (6 * 1024 * 1024) + b'"}', "payload_too_large"),
    ],
)
def test_raw_hostile_bodies_are_clear_4xx(http, body, code):
    before = row_counts()
    response = _raw(http, "POST", "/api/v1/workflows/", body)
    assert 400 <= response.status_code < 500, response.text[:300]
    assert response.json()["code"] == code
    assert row_counts() == before
    assert http.get("/healthz").status_code == 200


def test_the_reported_500s_are_4xx_on_the_real_server(http):
    doc = chain(1)
    doc["settings"]["budget"]["max_duration_s"] = 1e12
    workflow = _workflow(http, doc)
    run = _raw(http, "POST", f"/api/v1/workflows/{workflow['id']}/runs/", b"{}")
    assert run.status_code == 400
    assert run.json()["code"] == "invalid_workflow"

    diff = http.get(f"/api/v1/workflows/{workflow['id']}/versions/1/diff/?against=%C2%B2")
    assert diff.status_code == 400
    assert diff.json()["code"] == "invalid_version"

    for content in ('{"schema_version": 1, "nodes": [], "edges": [], "x": NaN}', 'name: "a\\0"'):
        body = json.dumps({"content": content}).encode()
        imported = _raw(http, "POST", "/api/v1/workflows/import/", body)
        assert imported.status_code == 400, imported.text[:300]
        assert imported.json()["code"] == "invalid_import"

    doc = agent_document()
    doc["nodes"][1]["data"]["config"]["max_tokens"] = 10**400
    workflow = _workflow(http, doc)
    estimate = _raw(http, "POST", f"/api/v1/workflows/{workflow['id']}/estimate/", b"{}")
    assert estimate.status_code == 400
    assert estimate.json()["code"] == "invalid_workflow"


def test_a_slow_preview_holds_the_server_for_at_most_the_request_budget(http):
    started = time.monotonic()
    response = http.post(
        "/api/v1/expressions/evaluate/", json={"expression": SLOW_TEMPLATE, "mode": "template"}
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "expression_budget_exceeded"
    assert time.monotonic() - started < 3.0 + 3.0
    assert http.get("/healthz").status_code == 200
