"""Security defaults of a deployment that is neither DEBUG nor embedded."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_api_and_app_answers_carry_the_security_headers():
    client = APIClient()
    for path in ("/api/v1/me/", "/healthz", "/some/app/route"):
        response = client.get(path, secure=True)
        assert response["Strict-Transport-Security"].startswith("max-age=31536000"), path
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "connect-src 'self' ws: wss:" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-eval" not in policy


def test_session_and_csrf_cookies_are_secure(owner):
    client = APIClient()
    assert client.get("/api/v1/auth/csrf/", secure=True).cookies["csrftoken"]["secure"]
    response = client.post(
        "/api/v1/auth/login/",
        {"username": "owner", "password": "pw-owner"},
        format="json",
        secure=True,
    )
    assert response.status_code == 200
    assert response.cookies["sessionid"]["secure"]
    assert response.cookies["sessionid"]["httponly"]


@pytest.mark.parametrize(
    "password",
    ["short1", "password123", "1234567890123", "alice-wonderland", "alice-wonderland1"],
)
def test_weak_passwords_are_refused(django_user_model, password):
    user = django_user_model(username="alice-wonderland", email="alice-wonderland@example.com")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_good_password_passes(django_user_model):
    user = django_user_model(username="alice")
    validate_password("correct horse battery staple", user)
