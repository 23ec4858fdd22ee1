"""Encryption at rest and key rotation (reencrypt_credentials)."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from server.credentials.crypto import SecretUnreadable, decrypt_secret
from server.credentials.models import Credential
from server.workflows.selectors import _names_credential
from tests.credentials.conftest import SECRET

pytestmark = pytest.mark.django_db


def use_keys(settings, *keys: bytes) -> None:
    settings.AGENTLOOM_ENCRYPTION_KEYS = [key.decode() for key in keys]


def test_rotation(settings, create, team):
    key_a, key_b = Fernet.generate_key(), Fernet.generate_key()
    use_keys(settings, key_a)
    credential_id = create().json()["id"]
    token_a = bytes(Credential.objects.get(pk=credential_id).secret_token)
    assert SECRET.encode() not in token_a

    use_keys(settings, key_b, key_a)
    assert decrypt_secret(token_a) == {"api_key": SECRET}
    call_command("reencrypt_credentials")
    token_b = bytes(Credential.objects.get(pk=credential_id).secret_token)
    assert token_b != token_a
    Fernet(key_b).decrypt(token_b)  # under the new key now

    use_keys(settings, key_b)
    assert decrypt_secret(token_b) == {"api_key": SECRET}
    with pytest.raises(SecretUnreadable):
        decrypt_secret(token_a)


def test_a_secret_under_no_configured_key_is_reported_not_lost(settings, create):
    use_keys(settings, Fernet.generate_key())
    credential_id = create().json()["id"]
    use_keys(settings, Fernet.generate_key())
    with pytest.raises(CommandError, match=credential_id):
        call_command("reencrypt_credentials")
    assert Credential.objects.filter(pk=credential_id).exists()


@pytest.mark.parametrize(
    ("document", "uses"),
    [
        ({"nodes": [{"data": {"config": {"credential": "c1"}}}]}, True),
        ({"nodes": [{"data": {"config": {"credential": "c2"}}}]}, False),
        ({"nodes": [{"data": {"config": None}}, {"data": "x"}, "node"]}, False),
        ({"nodes": "not a list"}, False),
        ([], False),
    ],
)
def test_usage_scan_without_json_containment(document, uses):
    # The scan SQLite (the embedded default) uses; Postgres asks the database instead.
    assert _names_credential(document, "c1") is uses
