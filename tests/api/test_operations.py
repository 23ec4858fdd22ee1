import pytest
from openapi_spec_validator import validate
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_healthz_readyz_metrics():
    client = APIClient()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.content
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert b"python_info" in metrics.content


def test_readyz_says_what_is_down(settings):
    settings.DATABASES["default"]["PORT"] = "1"
    from django.db import connections

    connections["default"].close()
    try:
        response = APIClient().get("/readyz")
    finally:
        connections["default"].close()
        settings.DATABASES["default"]["PORT"] = "5432"
    assert response.status_code == 503
    # Which dependency is down, and nothing of the exception (host, port, driver text).
    assert response.json() == {
        "code": "not_ready",
        "checks": {"database": "unavailable", "broker": "ok"},
    }


def test_openapi_schema_is_valid_and_describes_every_endpoint():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    paths = set(schema["paths"])
    expected = {
        "/api/v1/auth/login/",
        "/api/v1/auth/logout/",
        "/api/v1/me/",
        "/api/v1/tokens/",
        "/api/v1/tokens/{id}/",
        "/api/v1/workspaces/",
        "/api/v1/workspaces/{workspace_id}/members/",
        "/api/v1/workflows/",
        "/api/v1/workflows/{id}/",
        "/api/v1/workflows/{id}/validate/",
        "/api/v1/workflows/{id}/export/",
        "/api/v1/workflows/import/",
        "/api/v1/workflows/{workflow_pk}/versions/",
        "/api/v1/workflows/{workflow_pk}/versions/{number}/diff/",
        "/api/v1/workflows/{workflow_pk}/versions/{number}/restore/",
        "/api/v1/workflows/{workflow_id}/runs/",
        "/api/v1/workflows/{workflow_id}/estimate/",
        "/api/v1/runs/",
        "/api/v1/runs/{id}/",
        "/api/v1/runs/{id}/cancel/",
        "/api/v1/runs/{id}/resume/",
        "/api/v1/runs/{id}/events/",
        "/api/v1/templates/",
        "/api/v1/templates/{id}/instantiate/",
        "/api/v1/models/",
        "/api/v1/expressions/evaluate/",
    }
    assert expected <= paths, expected - paths
