"""Secrets at rest: Fernet tokens under the keys of AGENTLOOM_ENCRYPTION_KEYS.

MultiFernet encrypts with the first key and decrypts with any, which is what
rotation needs: put the new key first, re-encrypt (``reencrypt_credentials``),
then drop the old one.
"""

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from server.core.errors import ApiError


class SecretUnreadable(ApiError):
    """Encrypted under a key no longer configured: the credential must be set again."""

    status_code = 409

    def __init__(self) -> None:
        super().__init__(
            "credential_unreadable",
            "This credential was encrypted with a key that is no longer configured; "
            "set its secret again.",
        )


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.AGENTLOOM_ENCRYPTION_KEYS))


def encrypt_secret(secret: dict[str, Any]) -> bytes:
    return _current().encrypt(json.dumps(secret, sort_keys=True).encode())


def decrypt_secret(token: bytes | memoryview) -> dict[str, Any]:
    try:
        plain = _current().decrypt(bytes(token))
    except InvalidToken:
        raise SecretUnreadable() from None
    secret: dict[str, Any] = json.loads(plain)
    return secret


def reencrypt(token: bytes | memoryview) -> bytes:
    """The same secret under the first key (a token already under it is renewed too)."""
    try:
        return _current().rotate(bytes(token))
    except InvalidToken:
        raise SecretUnreadable() from None
