"""The encryption keys are required outside local use; the admin never shows a secret."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from server.credentials.models import Credential
from tests.credentials.conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]


def settings_error(**env: str) -> str:
    """What loading the product's settings prints to stderr with this environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTLOOM_", "DEBUG"))}
    clean |= {"DJANGO_SETTINGS_MODULE": "server.settings", **env}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stderr if done.returncode else ""


DISTRIBUTED = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "SECRET_KEY": "x" * 40,
}


def test_production_refuses_to_start_without_keys():
    assert "Set AGENTLOOM_ENCRYPTION_KEYS" in settings_error(**DISTRIBUTED)
    bad = settings_error(**DISTRIBUTED, AGENTLOOM_ENCRYPTION_KEYS="not-a-key")
    assert "not a Fernet key" in bad
    good = "YWdlbnRsb29tLXRlc3RzLWVuY3J5cHRpb24ta2V5ISE="
    assert settings_error(**DISTRIBUTED, AGENTLOOM_ENCRYPTION_KEYS=good) == ""
    assert settings_error(**DISTRIBUTED, DEBUG="true") == ""


@pytest.mark.django_db
def test_the_admin_shows_the_hint_never_the_secret(create):
    credential_id = create().json()["id"]
    admin = get_user_model().objects.create_superuser("root", password="pw-root-123456")
    browser = Client()
    browser.force_login(admin)
    token = bytes(Credential.objects.get(pk=credential_id).secret_token).decode()
    for url in (
        "/admin/credentials/credential/",
        f"/admin/credentials/credential/{credential_id}/change/",
    ):
        page = browser.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert SECRET[-4:] in html
        assert SECRET not in html
        assert token not in html
    assert browser.get("/admin/credentials/credential/add/").status_code == 403
